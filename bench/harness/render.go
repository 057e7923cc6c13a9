package main

import (
	"fmt"
	"strings"
	"time"
)

// render writes RESULTS.md: the machine, the budgets, one table per case, notes and raw rounds.
func (h *harness) render() string {
	r := h.res
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# loadplan benchmark results\n\n")
	w("Written by `make bench` (bench/run.sh → bench/harness) — do not edit by hand.\n")
	if h.cfg.quick {
		w("\n**QUICK smoke run: short durations; these are not figures to publish.**\n")
	}
	w("\n| | |\n|---|---|\n")
	w("| date | %s → %s UTC (%s) |\n", h.started.Format("2006-01-02 15:04"), h.finished.Format("15:04"), h.finished.Sub(h.started).Round(time.Second))
	w("| CPU | %s, %d cores |\n", h.cpuModel, numCPU())
	w("| memory | %s |\n| kernel | Linux %s |\n| Go | %s |\n", h.memTotal, h.kernel, h.goVersion)
	w("| loadplan | %s, commit %s |\n| wrk | %s |\n| hey | Debian package `hey` |\n", orDash(h.lpVer), orDash(h.cfg.commit), orDash(h.wrkVer))
	w("| vegeta | %s |\n| h2load | %s |\n| k6 | %s |\n", orDash(h.peerVer["vegeta"]), orDash(h.peerVer["h2load"]), orNot(h.peerVer["k6"], h.k6))
	w("| rounds | %d, the tools alternating within each round (order rotated every round) |\n", h.cfg.rounds)
	la := r.loadRange()
	w("| load average (1 min) | %.2f at start, %.2f at end; %s when the runs started |\n", h.loadStart, h.loadEnd, la)
	w("\nThe generator and the target share the same %d cores, as they would for any tool run on one "+
		"machine; the machine is shared with other work, so every figure is the median of the rounds with "+
		"its min–max. CPU seconds and peak RSS come from the kernel's rusage of each tool's process "+
		"(user + system time; ru_maxrss = VmHWM). Each cell: median (min–max).\n\n", numCPU())

	w("%s", h.budgets())
	w("%s", h.tputSection())
	w("%s", h.h2Section())
	w("%s", h.echoSection())

	w("## Memory per VU: each VU one request per second on its own connection\n\n")
	w("`bench/plans/vus.hcl`: ramp to N VUs over %s, hold %s, think time 1 s. KB per VU = peak RSS ÷ VUs "+
		"(the whole process, not only the VUs). \"outputs\" = `--out csv=FILE --out prometheus=ADDR`.\n\n", h.cfg.memRamp, h.cfg.memHold)
	mt := &table{head: []string{"VUs", "outputs", "peak RSS MB", "KB per VU", "CPU s", "requests", "failed", "server conns (peak)", "p99 ms"}}
	for _, n := range h.cfg.memVUs {
		for _, outs := range []bool{false, true} {
			k, label := fmt.Sprintf("mem/%d", n), "none"
			if outs {
				k, label = k+"+outputs", "CSV + Prometheus"
			}
			mt.row(num(float64(n), 0), label, r.f(k, "peak_rss_mb", 1), r.f(k, "kb_per_vu", 1), r.f(k, "cpu_s", 2),
				r.f(k, "requests", 0), r.f(k, "failed", 0), r.f(k, "conns_peak", 0), r.f(k, "p99_ms", 2))
		}
	}
	w("%s\n", mt)
	if len(h.cfg.memVUs) == 2 {
		a, c := r.get(fmt.Sprintf("mem/%d", h.cfg.memVUs[0]), "peak_rss_mb"), r.get(fmt.Sprintf("mem/%d", h.cfg.memVUs[1]), "peak_rss_mb")
		if a.n > 0 && c.n > 0 {
			w("Marginal cost of a VU (difference of the medians between %d and %d VUs): %.1f KB.\n\n",
				h.cfg.memVUs[0], h.cfg.memVUs[1], (c.med-a.med)*1024/float64(h.cfg.memVUs[1]-h.cfg.memVUs[0]))
		}
	}

	wk := fmt.Sprintf("ws/%d", h.cfg.wsSessions)
	w("## WebSocket: %s persistent sessions, the server sending each one frame per second\n\n", num(float64(h.cfg.wsSessions), 0))
	w("`bench/plans/websocket.hcl`: ramp over %s, hold %s; each VU keeps one session (`session = \"persistent\"`) "+
		"and runs `receive` steps of 5 s on it. \"Sent\" counts the server's frames until the stages ended; after "+
		"that the VUs stop reading while the server still writes until their sessions close (at most one frame per "+
		"session and second).\n\n", h.cfg.wsRamp, h.cfg.wsHold)
	wt := &table{head: []string{"figure", "value"}}
	wt.row("sessions open at once (server, peak)", r.f(wk, "peak_open", 0))
	wt.row("sessions opened: server / loadplan ws_sessions", r.f(wk, "opened_server", 0)+" / "+r.f(wk, "opened_loadplan", 0))
	wt.row("peak RSS MB", r.f(wk, "peak_rss_mb", 1))
	wt.row("KB per session (peak RSS ÷ sessions open at the peak)", r.f(wk, "kb_per_open_session", 1))
	wt.row("KB per planned session (peak RSS ÷ planned sessions)", r.f(wk, "kb_per_session", 1))
	wt.row("CPU s (share of one core over the run)", r.f(wk, "cpu_s", 2)+" ("+r.f(wk, "cpu_pct", 1)+" %)")
	wt.row("frames sent by the server until the stages ended / received by loadplan (ws_msgs_received)",
		r.f(wk, "frames_sent", 0)+" / "+r.f(wk, "frames_received", 0))
	wt.row("frames/s sent by the server (over loadplan's run time)", r.f(wk, "sent_per_s", 0))
	wt.row("frames/s received by loadplan", r.f(wk, "received_per_s", 0))
	wt.row("received ÷ sent", r.f(wk, "received_vs_sent", 4))
	wt.row("ws_errors", r.f(wk, "ws_errors", 0))
	w("%s\n", wt)
	w("%s", h.wsMemoryRows())
	w("%s", h.k6MemSection())

	w("## Open model: fixed arrival rates for %s\n\n", h.cfg.open)
	w("`bench/plans/arrival.hcl` (`model = \"arrival_rate\"`, pre-allocated VUs = rate/50, max = rate/5, saturation " +
		"exit disabled so the figures are always read). Planned = rate × duration; achieved and dropped come from " +
		"`--summary-export`.\n\n")
	ot := &table{head: []string{"rate it/s", "planned", "achieved", "achieved %", "dropped", "schedule lag p99 ms", "p99 ms", "VUs used", "CPU s", "server CPU s"}}
	limit := ""
	for _, rate := range h.cfg.rates {
		k := fmt.Sprintf("open/%d", rate)
		ot.row(num(float64(rate), 0), r.f(k, "planned", 0), r.f(k, "iterations", 0), r.f(k, "achieved_pct", 2),
			r.f(k, "dropped", 0), r.f(k, "lag_p99_ms", 2), r.f(k, "p99_ms", 2), r.f(k, "vus_max", 0), r.f(k, "cpu_s", 2), r.f(k, "server_cpu_s", 2))
		a, d := r.get(k, "achieved_pct"), r.get(k, "dropped")
		if a.n > 0 && limit == "" && (a.min < 99.5 || d.max > 0) {
			limit = fmt.Sprintf("At %s it/s planned, loadplan achieved %s it/s (median), with %s dropped: this is where the "+
				"generator (sharing %d cores with the target) stops keeping the rate.", num(float64(rate), 0),
				r.f(k, "achieved_rate", 0), d.cell(0), numCPU())
		}
	}
	w("%s\n", ot)
	if limit == "" && r.get(fmt.Sprintf("open/%d", h.cfg.rates[0]), "achieved_pct").n == 0 {
		limit = "Not measured in this run."
	} else if limit == "" {
		limit = "loadplan kept every planned rate (≥ 99.5 %, 0 dropped in every round); its limit is above the highest rate measured."
	}
	w("%s\n\n", limit)

	w("## Soak: %d it/s for %s\n\n", h.cfg.soakRate, h.cfg.soak)
	w("`bench/plans/arrival.hcl`, one run (not repeated per round: its length is the point); VmRSS sampled every second.\n\n")
	st := &table{head: []string{"figure", "value"}}
	st.row(fmt.Sprintf("RSS at %s (after warm-up)", h.cfg.soakWarm), r.f("soak", "rss_warm_mb", 1)+" MB")
	for _, at := range []time.Duration{h.cfg.soak / 4, h.cfg.soak / 2, 3 * h.cfg.soak / 4} {
		st.row(fmt.Sprintf("RSS at %s", at), r.f("soak", fmt.Sprintf("rss_%ds_mb", int(at.Seconds())), 1)+" MB")
	}
	st.row(fmt.Sprintf("RSS at the end (%s)", h.cfg.soak), r.f("soak", "rss_end_mb", 1)+" MB")
	st.row("growth after warm-up", r.f("soak", "growth_pct", 1)+" %")
	st.row("peak RSS", r.f("soak", "peak_rss_mb", 1)+" MB")
	st.row("iterations / dropped", r.f("soak", "iterations", 0)+" / "+r.f("soak", "dropped", 0))
	w("%s\n", st)

	if s := h.goBenchSection(); s != "" {
		w("%s\n", s)
	}
	if len(h.profiles) > 0 {
		w("## Where the time goes: profiles of the throughput case\n\n")
		w("The throughput plan run in the harness's own process for %s, wired as `loadplan apply` wires it "+
			"(summary and threshold outputs; \"tput-outputs\" adds CSV and Prometheus), with pprof. The .prof files "+
			"are left in bench/profiles/ (not committed).\n\n", h.cfg.tput)
		for _, p := range h.profiles {
			w("<details><summary>%s: %s</summary>\n\n```\n%s\n```\n</details>\n\n", p.name, p.title, p.text)
		}
	}
	if len(r.notes) > 0 || len(r.failures) > 0 {
		w("## Notes\n\n")
		for _, n := range r.notes {
			w("- %s\n", n)
		}
		for _, f := range r.failures {
			w("- FAILED: %s\n", f)
		}
		w("\n")
	}
	w("## Every round\n\n<details><summary>raw figures per round</summary>\n\n%s</details>\n", r.rawRounds())
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// loadRange is the min–max of the 1-minute load average at the start of every run.
func (r *results) loadRange() string {
	lo, hi, n := 0.0, 0.0, 0
	for _, k := range r.order {
		for _, m := range r.rounds[k] {
			v, ok := m["load1"]
			if !ok {
				continue
			}
			if n == 0 || v < lo {
				lo = v
			}
			if n == 0 || v > hi {
				hi = v
			}
			n++
		}
	}
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f–%.2f", lo, hi)
}
