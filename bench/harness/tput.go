package main

import (
	"context"
	"strings"
	"time"
)

// tputConns is the concurrency of every throughput case: 50 connections (wrk -c, hey -c, vegeta
// workers, k6 and loadplan VUs, h2load connections), each kept alive.
const tputConns = 50

// peers are the throughput peers in the order they run in round 1; k6 only when installed.
func (h *harness) peers() []string {
	p := []string{"wrk", "hey"}
	if h.vegeta != "" {
		p = append(p, "vegeta")
	}
	if h.k6 != "" {
		p = append(p, "k6")
	}
	return p
}

// tputCase is one run of a throughput round: a tool on a listener.
type tputCase struct {
	tool string
	tls  bool // the https listener (HTTP/1.1 over TLS) instead of plain http
}

// key is the case's results key: tput/TOOL on http, tls/TOOL on https.
func (c tputCase) key() string {
	if c.tls {
		return "tls/" + c.tool
	}
	return "tput/" + c.tool
}

// throughput: tputConns connections, no think time, every tool on plain http and on https in turn
// (each tool's http run next to its https run), the order rotated each round; loadplan with every
// output on runs on http. The ratios are paired: loadplan ÷ each peer within the same round.
func (h *harness) throughput(ctx context.Context) {
	d := h.cfg.tput
	var cases []tputCase
	tools := h.peers()
	if h.lpOK {
		tools = append(tools, "loadplan")
	}
	for _, t := range tools {
		cases = append(cases, tputCase{t, false}, tputCase{t, true})
	}
	if h.lpOK {
		cases = append(cases, tputCase{"loadplan+outputs", false})
	}
	for round := 0; round < h.cfg.rounds; round++ {
		got := map[string]map[string]float64{}
		for i := range cases {
			c := cases[(i+round)%len(cases)]
			url := h.srv.URL() + "/"
			if c.tls {
				url = h.srv.HTTPSURL() + "/"
			}
			logf("throughput round %d/%d: %s", round+1, h.cfg.rounds, c.key())
			var influxCPU time.Duration
			if h.influx != nil {
				influxCPU = -procCPU(h.influx.cmd.Process.Pid)
			}
			var tr toolRun
			sp, err := h.around(func() error {
				var err error
				switch c.tool {
				case "wrk":
					tr, err = h.runWrk(ctx, url, tputConns, d)
				case "hey":
					tr, err = h.runHey(ctx, url, tputConns, d)
				case "vegeta":
					tr, err = h.runVegeta(ctx, url, tputConns, d)
				case "k6":
					tr, err = h.runK6Tput(ctx, url, tputConns, d)
				default:
					tr, err = h.tputLoadplan(ctx, "throughput.hcl", url, c.tool == "loadplan+outputs", d)
				}
				return err
			})
			if err != nil {
				h.res.fail("throughput %s, round %d: %v", c.key(), round+1, err)
				continue
			}
			if h.influx != nil {
				influxCPU += procCPU(h.influx.cmd.Process.Pid)
			}
			vals := tputVals(tr, sp)
			vals["influxd_cpu_s"] = influxCPU.Seconds()
			h.res.add(c.key(), vals)
			got[c.key()] = vals
		}
		for _, prefix := range []string{"tput/", "tls/"} {
			ratio := pairRatios(got, prefix, h.peers())
			if lp, lo := got["tput/loadplan"], got["tput/loadplan+outputs"]; prefix == "tput/" && lp != nil && lo != nil {
				ratio["outputs_vs_none"] = lo["rps"] / lp["rps"]
				// The same per CPU-second: what the outputs cost when the machine's other load, not
				// loadplan, decides the requests per second.
				ratio["outputs_cpu_vs_none"] = lo["req_per_cpu_s"] / lp["req_per_cpu_s"]
			}
			if len(ratio) > 0 {
				h.res.add(prefix+"ratio", ratio)
			}
		}
	}
}

// tputVals are the figures of one throughput run: the tool's, its cost, and the server's counts.
func tputVals(tr toolRun, sp span) map[string]float64 {
	cpu := tr.Proc.CPU().Seconds()
	srv := float64(sp.after.Requests - sp.before.Requests)
	return map[string]float64{
		"rps": tr.RPS, "requests": tr.Requests, "cpu_s": cpu, "req_per_cpu_s": tr.Requests / cpu,
		"p50_ms": tr.P50, "p99_ms": tr.P99, "mean_ms": tr.Mean, "errors": tr.Errors,
		"server_requests": srv, "tool_minus_server": tr.Requests - srv,
		"server_tls":   float64(sp.after.RequestsTLS - sp.before.RequestsTLS),
		"server_h2":    float64(sp.after.RequestsH2 - sp.before.RequestsH2),
		"server_cpu_s": sp.srvCPU.Seconds(), "load1": sp.load,
		"rss_mb": float64(tr.Proc.MaxRSS) / (1 << 20), "conns_peak": float64(sp.after.ConnsPeak),
	}
}

// pairRatios are loadplan ÷ each peer of one round, in requests/s and in requests per CPU-second.
func pairRatios(got map[string]map[string]float64, prefix string, peers []string) map[string]float64 {
	ratio := map[string]float64{}
	lp := got[prefix+"loadplan"]
	if lp == nil {
		return ratio
	}
	for _, p := range peers {
		if v := got[prefix+p]; v != nil {
			ratio["rps_vs_"+p] = lp["rps"] / v["rps"]
			ratio["cpu_eff_vs_"+p] = lp["req_per_cpu_s"] / v["req_per_cpu_s"]
		}
	}
	return ratio
}

// tputLoadplan runs a throughput plan (throughput.hcl, h2.hcl) with tputConns VUs against url,
// optionally with every output on.
func (h *harness) tputLoadplan(ctx context.Context, plan, url string, outputs bool, d time.Duration) (toolRun, error) {
	o := lpOpts{plan: plan, timeout: d + 60*time.Second, host: strings.TrimSuffix(url, "/"),
		vars: map[string]string{"vus": itoa(tputConns), "duration": d.String()}}
	if outputs {
		outs, metricsURL, err := h.outputsFlags("tput", true)
		if err != nil {
			return toolRun{}, err
		}
		defer h.cleanOutputs("tput")
		o.outs, o.during = outs, scrape(metricsURL, h.cfg.scrape)
	}
	r, err := h.runLoadplan(ctx, o)
	if err != nil {
		return toolRun{}, err
	}
	return exportRun(r), nil
}

// h2: loadplan, h2load and k6 on the h2 listener, tputConns connections (h2load: one stream
// each, as every loadplan and k6 VU has its own connection with one request in flight), the order
// rotated each round.
func (h *harness) h2(ctx context.Context) {
	d := h.cfg.tput
	var tools []string
	if h.h2load != "" {
		tools = append(tools, "h2load")
	}
	if h.k6 != "" {
		tools = append(tools, "k6")
	}
	if h.lpOK {
		tools = append(tools, "loadplan")
	}
	url := h.srv.H2URL() + "/"
	for round := 0; round < h.cfg.rounds; round++ {
		got := map[string]map[string]float64{}
		for i := range tools {
			tool := tools[(i+round)%len(tools)]
			logf("h2 round %d/%d: %s", round+1, h.cfg.rounds, tool)
			var tr toolRun
			sp, err := h.around(func() error {
				var err error
				switch tool {
				case "h2load":
					tr, err = h.runH2load(ctx, url, tputConns, 1, d)
				case "k6":
					tr, err = h.runK6Tput(ctx, url, tputConns, d)
				default:
					tr, err = h.tputLoadplan(ctx, "h2.hcl", url, false, d)
				}
				return err
			})
			if err != nil {
				h.res.fail("h2 %s, round %d: %v", tool, round+1, err)
				continue
			}
			vals := tputVals(tr, sp)
			if s := vals["server_requests"]; s > 0 && vals["server_h2"] < s {
				h.res.note("h2 %s round %d: only %.0f of the %.0f requests the server answered came over HTTP/2.", tool, round+1, vals["server_h2"], s)
			}
			h.res.add("h2/"+tool, vals)
			got["h2/"+tool] = vals
		}
		if ratio := pairRatios(got, "h2/", []string{"h2load", "k6"}); len(ratio) > 0 {
			h.res.add("h2/ratio", ratio)
		}
	}
}
