package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// echoSessions is the concurrency of the WebSocket round-trip case: persistent sessions, one per VU.
const echoSessions = 50

// wsURL is the server's plain ws:// base URL (for k6; loadplan's plans take the http one).
func (h *harness) wsURL() string { return "ws://" + strings.TrimPrefix(h.srv.URL(), "http://") }

// echo: WebSocket round trips. echoSessions persistent sessions each send a frame and wait for
// its echo per iteration (bench/plans/echo.hcl; k6's echo script sends the next frame from its
// message handler), for cfg.echo; loadplan and k6 alternate, the order rotated each round. Every
// figure is held against the server's counts: the frames it read and echoed, the sessions it took.
func (h *harness) echo(ctx context.Context) {
	var tools []string
	if h.lpOK {
		tools = append(tools, "loadplan")
	}
	if h.k6 != "" {
		tools = append(tools, "k6")
	}
	d := h.cfg.echo
	for round := 0; round < h.cfg.rounds; round++ {
		got := map[string]map[string]float64{}
		for i := range tools {
			tool := tools[(i+round)%len(tools)]
			logf("echo round %d/%d: %s", round+1, h.cfg.rounds, tool)
			var r lpRun
			sp, err := h.around(func() error {
				var err error
				if tool == "k6" {
					r, err = h.runK6(ctx, "echo", k6Params{URL: h.wsURL() + "/echo", VUs: echoSessions,
						Duration: d.String(), SessionMs: d.Milliseconds()}, d+90*time.Second, nil)
				} else {
					r, err = h.runLoadplan(ctx, lpOpts{plan: "echo.hcl", timeout: d + 60*time.Second,
						vars: map[string]string{"vus": itoa(echoSessions), "duration": d.String()}})
				}
				return err
			})
			if err != nil {
				h.res.fail("echo %s, round %d: %v", tool, round+1, err)
				continue
			}
			e, p := r.Export, r.Proc
			rt, cpu := e.num("ws_msgs_received", "count"), p.CPU().Seconds()
			vals := map[string]float64{
				"round_trips": rt, "sent": e.num("ws_msgs_sent", "count"), "sessions": e.num("ws_sessions", "count"),
				"server_received": float64(sp.after.EchoReceived - sp.before.EchoReceived),
				"server_sent":     float64(sp.after.EchoSent - sp.before.EchoSent),
				"server_sessions": float64(sp.after.EchoSessions - sp.before.EchoSessions),
				"cpu_s":           cpu, "rt_per_cpu_s": rt / cpu, "rt_per_s": rt / d.Seconds(),
				"ws_errors": e.num("ws_errors", "count"), "rss_mb": float64(p.MaxRSS) / (1 << 20),
				"server_cpu_s": sp.srvCPU.Seconds(), "load1": sp.load,
			}
			// Frames the server echoed that the tool never counted (k6 drops the ones in flight
			// when a session closes), and frames the tool counted as sent the server never read.
			vals["lost"] = vals["server_sent"] - rt
			vals["unread"] = vals["sent"] - vals["server_received"]
			h.res.add("echo/"+tool, vals)
			got[tool] = vals
		}
		if lp, k := got["loadplan"], got["k6"]; lp != nil && k != nil {
			h.res.add("echo/ratio", map[string]float64{
				"rt_per_cpu_s_vs_k6": lp["rt_per_cpu_s"] / k["rt_per_cpu_s"], "rt_per_s_vs_k6": lp["rt_per_s"] / k["rt_per_s"]})
		}
	}
}

// k6Memory: cfg.k6VUs VUs each making one request a second (vus.hcl and k6's idle script), k6 and
// loadplan alternating; peak RSS per VU of each and k6's ÷ loadplan's, paired per round.
func (h *harness) k6Memory(ctx context.Context) {
	h.memPair(ctx, "mem", "idle", "vus.hcl", h.srv.URL()+"/", h.cfg.memRamp, h.cfg.memHold)
}

// k6Sessions: cfg.k6VUs persistent WebSocket sessions receiving the server's ticks
// (websocket.hcl and k6's wsidle script, which holds the socket open with ws.connect), k6 and
// loadplan alternating; peak RSS per session open at the peak.
func (h *harness) k6Sessions(ctx context.Context) {
	h.memPair(ctx, "memws", "wsidle", "websocket.hcl", h.wsURL()+"/ws", h.cfg.wsRamp, h.cfg.wsHold)
}

// memPair runs one memory comparison of loadplan (plan) and k6 (script) at cfg.k6VUs, ramping over
// ramp and holding for hold. Keys: PREFIX/k6/N, PREFIX/loadplan/N and PREFIX/ratio/N.
func (h *harness) memPair(ctx context.Context, prefix, script, plan, k6URL string, ramp, hold time.Duration) {
	if h.k6 == "" {
		return
	}
	n := h.cfg.k6VUs
	tools := []string{"k6"}
	if h.lpOK {
		tools = append(tools, "loadplan")
	}
	// One round: peak RSS varies little between rounds (2 % in the loadplan-only memory cases),
	// and k6 takes minutes to build thousands of VUs, which would push `make bench` past 30 minutes.
	for round := 0; round < 1; round++ {
		got := map[string]map[string]float64{}
		for i := range tools {
			tool := tools[(i+round)%len(tools)]
			key := fmt.Sprintf("%s/%s/%d", prefix, tool, n)
			logf("%s (one round)", key)
			var r lpRun
			sp, err := h.around(func() error {
				var err error
				if tool == "k6" { // k6 builds every VU's JavaScript runtime before it starts: minutes
					r, err = h.runK6(ctx, script, k6Params{URL: k6URL, VUs: n, Ramp: ramp.String(), Hold: hold.String(),
						SessionMs: (ramp + hold).Milliseconds()}, ramp+hold+5*time.Minute, nil)
				} else {
					r, err = h.runLoadplan(ctx, lpOpts{plan: plan, timeout: ramp + hold + 2*time.Minute,
						vars: map[string]string{"vus": itoa(n), "ramp": ramp.String(), "hold": hold.String()}})
				}
				return err
			})
			if err != nil {
				h.res.fail("%s, round %d: %v", key, round+1, err)
				continue
			}
			e, p := r.Export, r.Proc
			vals := map[string]float64{
				"vus": float64(n), "peak_rss_mb": float64(p.MaxRSS) / (1 << 20), "cpu_s": p.CPU().Seconds(),
				"kb_per_vu": float64(p.MaxRSS) / 1024 / float64(n), "load1": sp.load,
				"requests": e.num("http_reqs", "count"), "server_requests": float64(sp.after.Requests - sp.before.Requests),
				"conns_peak": float64(sp.after.ConnsPeak), "peak_open": float64(sp.peakWS),
				"sessions": e.num("ws_sessions", "count"), "server_sessions": float64(sp.after.WSSessions - sp.before.WSSessions),
			}
			if prefix == "memws" { // per session open at the peak, as the loadplan-only case reports it
				vals["kb_per_vu"] = float64(p.MaxRSS) / 1024 / float64(max(sp.peakWS, 1))
			}
			h.res.add(key, vals)
			got[tool] = vals
		}
		if lp, k := got["loadplan"], got["k6"]; lp != nil && k != nil {
			h.res.add(fmt.Sprintf("%s/ratio/%d", prefix, n), map[string]float64{"k6_vs_loadplan": k["kb_per_vu"] / lp["kb_per_vu"]})
		}
	}
}
