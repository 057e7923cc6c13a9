package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// span is what the target saw and spent around one run.
type span struct {
	before, after serverCounts
	srvCPU        time.Duration
	load          float64 // 1-minute load average when the run started
	peakWS        int64   // most WebSocket sessions open at once, polled every second
}

// around runs fn and records the server's counts and CPU around it; it polls the server every
// second meanwhile for the peak of open WebSocket sessions.
func (h *harness) around(fn func() error) (span, error) {
	var s span
	s.load = loadAvg()
	var err error
	if s.before, err = h.srv.resetPeak(); err != nil {
		return s, fmt.Errorf("bench server stats: %w", err)
	}
	cpu0 := procCPU(h.srv.pid())
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if c, err := h.srv.stats(); err == nil && c.WSActive > s.peakWS {
					s.peakWS = c.WSActive
				}
			}
		}
	}()
	ferr := fn()
	close(stop)
	<-done
	s.srvCPU = procCPU(h.srv.pid()) - cpu0
	if s.after, err = h.srv.stats(); err != nil && ferr == nil {
		ferr = fmt.Errorf("bench server stats: %w", err)
	}
	time.Sleep(h.cfg.pause)
	return s, ferr
}

// scrape GETs a Prometheus /metrics endpoint every period until stop, as a Prometheus server would.
func scrape(url string, period time.Duration) func(stop <-chan struct{}) {
	return func(stop <-chan struct{}) {
		hc := &http.Client{Timeout: 5 * time.Second}
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if resp, err := hc.Get(url); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
	}
}

// outputsFlags returns the --out values of the "outputs on" cases and the URL to scrape: CSV and
// Prometheus, plus InfluxDB when withInflux and influxd runs.
func (h *harness) outputsFlags(name string, withInflux bool) ([]string, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	outs := []string{"csv=" + filepath.Join(h.work, name+".csv"), "prometheus=" + addr}
	if withInflux && h.influx != nil {
		outs = append(outs, h.influx.out())
	}
	return outs, "http://" + addr + "/metrics", nil
}

// cleanOutputs removes the files an outputs case wrote (they can be hundreds of MB).
func (h *harness) cleanOutputs(name string) {
	files, _ := filepath.Glob(filepath.Join(h.work, name+"*"))
	for _, f := range files {
		os.RemoveAll(f)
	}
}

// memory: N VUs, each one request a second on its own connection; peak RSS per VU.
func (h *harness) memory(ctx context.Context) {
	if !h.lpOK {
		return
	}
	type mcase struct {
		vus     int
		outputs bool
	}
	var cases []mcase
	for _, n := range h.cfg.memVUs {
		cases = append(cases, mcase{n, false}, mcase{n, true})
	}
	for round := 0; round < h.cfg.rounds; round++ {
		for i := range cases {
			c := cases[(i+round)%len(cases)]
			key := fmt.Sprintf("mem/%d", c.vus)
			if c.outputs {
				key += "+outputs"
			}
			logf("memory round %d/%d: %s", round+1, h.cfg.rounds, key)
			o := lpOpts{plan: "vus.hcl", timeout: h.cfg.memRamp + h.cfg.memHold + 90*time.Second,
				vars: map[string]string{"vus": strconv.Itoa(c.vus), "ramp": h.cfg.memRamp.String(), "hold": h.cfg.memHold.String()}}
			if c.outputs {
				outs, metricsURL, err := h.outputsFlags("mem", false)
				if err != nil {
					h.res.fail("%s: %v", key, err)
					continue
				}
				o.outs, o.during = outs, scrape(metricsURL, h.cfg.scrape)
			}
			var r lpRun
			sp, err := h.around(func() error { var err error; r, err = h.runLoadplan(ctx, o); return err })
			h.cleanOutputs("mem")
			if err != nil {
				h.res.fail("%s, round %d: %v", key, round+1, err)
				continue
			}
			e, p := r.Export, r.Proc
			if sp.after.ConnsPeak < int64(c.vus) {
				h.res.note("%s round %d: at most %d connections were open at once for %d VUs.", key, round+1, sp.after.ConnsPeak, c.vus)
			}
			h.res.add(key, map[string]float64{
				"vus": float64(c.vus), "peak_rss_mb": float64(p.MaxRSS) / (1 << 20),
				"kb_per_vu": float64(p.MaxRSS) / 1024 / float64(c.vus), "cpu_s": p.CPU().Seconds(),
				"requests": e.num("http_reqs", "count"), "failed": e.num("http_req_failed", "passes"),
				"server_requests": float64(sp.after.Requests - sp.before.Requests),
				"conns_peak":      float64(sp.after.ConnsPeak), "vus_max": e.num("vus_max", "max"),
				"p99_ms": e.num("http_req_duration", "p(99)"), "load1": sp.load,
			})
		}
	}
}

// websocket: persistent sessions, each receiving a frame a second from the server.
func (h *harness) websocket(ctx context.Context) {
	if !h.lpOK {
		return
	}
	n := h.cfg.wsSessions
	key := fmt.Sprintf("ws/%d", n)
	for round := 0; round < h.cfg.rounds; round++ {
		logf("websocket round %d/%d: %d sessions", round+1, h.cfg.rounds, n)
		o := lpOpts{plan: "websocket.hcl", timeout: h.cfg.wsRamp + h.cfg.wsHold + 120*time.Second,
			vars: map[string]string{"vus": strconv.Itoa(n), "ramp": h.cfg.wsRamp.String(), "hold": h.cfg.wsHold.String()}}
		// What the server sent until the stages ended: after that the VUs stop reading (their
		// receive steps end at the stop) while the server keeps writing until the sessions close.
		var atEnd serverCounts
		o.during = func(stop <-chan struct{}) {
			select {
			case <-stop:
			case <-time.After(h.cfg.wsRamp + h.cfg.wsHold):
				atEnd, _ = h.srv.stats()
			}
		}
		var r lpRun
		sp, err := h.around(func() error { var err error; r, err = h.runLoadplan(ctx, o); return err })
		if err != nil {
			h.res.fail("%s, round %d: %v", key, round+1, err)
			continue
		}
		if atEnd.FramesSent == 0 {
			atEnd = sp.after
		}
		e, p := r.Export, r.Proc
		if sp.peakWS < int64(n) {
			h.res.note("%s round %d: only %d of %d sessions were open at once (the ramp did not complete in time on this machine).", key, round+1, sp.peakWS, n)
		}
		secs := e.seconds()
		sent := float64(atEnd.FramesSent - sp.before.FramesSent)
		sentAll := float64(sp.after.FramesSent - sp.before.FramesSent)
		recv := e.num("ws_msgs_received", "count")
		h.res.add(key, map[string]float64{
			"sessions": float64(n), "peak_open": float64(sp.peakWS),
			"opened_server": float64(sp.after.WSSessions - sp.before.WSSessions), "opened_loadplan": e.num("ws_sessions", "count"),
			"peak_rss_mb": float64(p.MaxRSS) / (1 << 20), "kb_per_session": float64(p.MaxRSS) / 1024 / float64(n),
			"kb_per_open_session": float64(p.MaxRSS) / 1024 / float64(max(sp.peakWS, 1)),
			"cpu_s":               p.CPU().Seconds(), "cpu_pct": 100 * p.CPU().Seconds() / p.Wall.Seconds(),
			"frames_sent": sent, "frames_received": recv, "sent_per_s": sent / secs, "received_per_s": recv / secs,
			"received_vs_sent": recv / sent, "ws_errors": e.num("ws_errors", "count"), "load1": sp.load,
			"frames_sent_incl_stop": sentAll,
		})
	}
}

// openModel: fixed arrival rates; achieved versus planned iterations and dropped iterations.
func (h *harness) openModel(ctx context.Context) {
	if !h.lpOK {
		return
	}
	d := h.cfg.open
	rates := h.cfg.rates
	for round := 0; round < h.cfg.rounds; round++ {
		for i := range rates {
			rate := rates[(i+round)%len(rates)]
			key := fmt.Sprintf("open/%d", rate)
			logf("open model round %d/%d: %d it/s", round+1, h.cfg.rounds, rate)
			o := lpOpts{plan: "arrival.hcl", timeout: d + 60*time.Second, vars: map[string]string{
				"rate": strconv.Itoa(rate), "duration": d.String(),
				"vus": strconv.Itoa(max(50, rate/50)), "max_vus": strconv.Itoa(max(500, rate/5))}}
			var r lpRun
			sp, err := h.around(func() error { var err error; r, err = h.runLoadplan(ctx, o); return err })
			if err != nil {
				h.res.fail("%s, round %d: %v", key, round+1, err)
				continue
			}
			e, p := r.Export, r.Proc
			planned := float64(rate) * d.Seconds()
			it := e.num("iterations", "count")
			h.res.add(key, map[string]float64{
				"planned": planned, "iterations": it, "achieved_pct": 100 * it / planned,
				"achieved_rate": it / d.Seconds(), "dropped": e.num("dropped_iterations", "count"),
				"http_reqs": e.num("http_reqs", "count"), "server_requests": float64(sp.after.Requests - sp.before.Requests),
				"lag_p99_ms": e.num("schedule_lag", "p(99)"), "p99_ms": e.num("http_req_duration", "p(99)"),
				"vus_max": e.num("vus_max", "max"), "cpu_s": p.CPU().Seconds(), "server_cpu_s": sp.srvCPU.Seconds(),
				"failed": e.num("http_req_failed", "passes"), "saturated_exit": b2f(p.Exit == 98), "load1": sp.load,
			})
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// soak: one long fixed-rate run; RSS after warm-up versus at the end.
func (h *harness) soak(ctx context.Context) {
	if !h.lpOK {
		return
	}
	d, rate := h.cfg.soak, h.cfg.soakRate
	logf("soak: %d it/s for %s", rate, d)
	o := lpOpts{plan: "arrival.hcl", timeout: d + 60*time.Second, sample: time.Second, vars: map[string]string{
		"rate": strconv.Itoa(rate), "duration": d.String(), "vus": "100", "max_vus": "1000"}}
	var r lpRun
	sp, err := h.around(func() error { var err error; r, err = h.runLoadplan(ctx, o); return err })
	if err != nil {
		h.res.fail("soak: %v", err)
		return
	}
	e, p := r.Export, r.Proc
	warm := p.rssAt(h.cfg.soakWarm)
	end := p.rssAt(d) // the last reading before the schedule ended (the stop/flush tail excluded)
	vals := map[string]float64{
		"rss_warm_mb": float64(warm) / (1 << 20), "rss_end_mb": float64(end) / (1 << 20),
		"peak_rss_mb": float64(p.MaxRSS) / (1 << 20), "growth_pct": 100 * float64(end-warm) / float64(warm),
		"iterations": e.num("iterations", "count"), "dropped": e.num("dropped_iterations", "count"),
		"cpu_s": p.CPU().Seconds(), "load1": sp.load,
	}
	for _, at := range []time.Duration{d / 4, d / 2, 3 * d / 4} {
		vals[fmt.Sprintf("rss_%ds_mb", int(at.Seconds()))] = float64(p.rssAt(at)) / (1 << 20)
	}
	h.res.add("soak", vals)
}
