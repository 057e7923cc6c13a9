package summary

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/loadplan/loadplan/metrics"
)

// WriteText renders the terminal summary: per scenario the HTTP and WebSocket step tables, the
// checks, the run totals, each threshold's verdict and the notes.
func (r *Report) WriteText(w io.Writer) error {
	b := &strings.Builder{}
	head := "loadplan summary"
	if r.Title != "" {
		head += " · " + r.Title
	}
	head += " · " + metrics.FormatMillis(float64(r.Duration().Milliseconds()))
	if r.Segment != "" {
		head += " · segment " + r.Segment
	}
	fmt.Fprintf(b, "\n  %s\n", metrics.Escape(head))
	if len(r.Unreachable) > 0 {
		b.WriteString("\n")
		for _, u := range r.Unreachable {
			fmt.Fprintf(b, "  !! %s\n", metrics.Escape(u))
		}
	}
	secs := r.Duration().Seconds()

	rows := r.rows()
	scenario := "\x00"
	for i := 0; i < len(rows); {
		scenario = rows[i].tags.Scenario
		j := i
		for j < len(rows) && rows[j].tags.Scenario == scenario {
			j++
		}
		fmt.Fprintf(b, "\n  scenario %s\n", metrics.Escape(scenario))
		var http, ws []*row
		for _, rw := range rows[i:j] {
			if rw.isWS() {
				ws = append(ws, rw)
			} else if rw.series[metrics.HTTPReqs] != nil || rw.series[metrics.HTTPReqFailed] != nil {
				// a step whose every attempt failed before leaving the machine (a dead target)
				// has no http_reqs but still has its row: 0 requests, n failed
				http = append(http, rw)
			}
		}
		if len(http) > 0 {
			writeHTTP(b, http, secs, r.trendStats())
		}
		if len(ws) > 0 {
			writeWS(b, ws)
		}
		r.writeTasks(b, scenario)
		i = j
	}
	r.writeChecks(b)
	r.writeErrors(b)
	r.writeTotals(b, secs)
	r.writeThresholds(b)
	r.writeNotes(b)
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func newTab(b *strings.Builder) *tabwriter.Writer {
	return tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
}

func ms(v float64) string { return metrics.FormatMillis(v) }

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// leftPad returns a function padding names to the widest of names, so that right-aligned tables
// keep their first column left-aligned.
func leftPad(names ...string) func(string) string {
	w := 0
	for _, n := range names {
		w = max(w, utf8.RuneCountInString(n))
	}
	return func(s string) string { return s + strings.Repeat(" ", w-utf8.RuneCountInString(s)) }
}

func writeHTTP(b *strings.Builder, rows []*row, secs float64, stats []TrendStat) {
	tw := newTab(b)
	names := []string{"step", "total"}
	for _, rw := range rows {
		names = append(names, metrics.Escape(rw.tags.Step))
	}
	pad := leftPad(names...)
	head := "    " + pad("step") + "\tmethod\treqs\tfail\trps\t"
	for _, st := range stats {
		head += st.column() + "\t"
	}
	fmt.Fprintln(tw, head)
	total := &row{series: map[metrics.Metric]*metrics.Series{}}
	line := func(name, method string, rw *row) {
		reqs := rw.get(metrics.HTTPReqs).Sum
		failed := rw.get(metrics.HTTPReqFailed).Trues
		h := rw.get(metrics.HTTPReqDuration).Hist
		if h == nil {
			h = &metrics.Histogram{}
		}
		cols := make([]string, len(stats))
		for i, st := range stats {
			switch {
			case st.Name == "count":
				cols[i] = strconv.FormatUint(h.Count, 10)
			case h.Count > 0:
				cols[i] = ms(st.value(h))
			default:
				cols[i] = "-" // no response, so no latency: not a latency of 0 s
			}
		}
		lat := strings.Join(cols, "\t")
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%d\t%.1f\t%s\t\n", pad(name), method, num(reqs), failed, reqs/secs, lat)
	}
	for _, rw := range rows {
		line(metrics.Escape(rw.tags.Step), rw.tags.Method, rw)
		for m, s := range rw.series {
			dst := total.series[m]
			if dst == nil {
				dst = &metrics.Series{Key: metrics.Key{Metric: m}}
				total.series[m] = dst
			}
			dst.Merge(s)
		}
	}
	if len(rows) > 1 {
		line("total", "", total)
	}
	tw.Flush()
}

func writeWS(b *strings.Builder, rows []*row) {
	tw := newTab(b)
	names := []string{"websocket step"}
	for _, rw := range rows {
		names = append(names, metrics.Escape(rw.tags.Step))
	}
	pad := leftPad(names...)
	fmt.Fprintln(tw, "    "+pad("websocket step")+"\tsessions\tsent\trecv\tunmatched\texpects\tfailed\terrors\tmed\tp95\tmax\t")
	for _, rw := range rows {
		// Time columns: the expect (or ping) time for message steps, the connect time for the
		// connection row.
		var h *metrics.Histogram
		for _, m := range []metrics.Metric{metrics.WSExpectDuration, metrics.WSPing, metrics.WSConnecting} {
			if s := rw.series[m]; s != nil && s.Hist != nil {
				h = s.Hist
				break
			}
		}
		med, p95, mx := "-", "-", "-"
		if h != nil {
			med, p95, mx = ms(h.Quantile(0.5)), ms(h.Quantile(0.95)), ms(h.Max)
		}
		exp := rw.get(metrics.WSExpectFailed)
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t\n", pad(metrics.Escape(rw.tags.Step)),
			num(rw.get(metrics.WSSessions).Sum), num(rw.get(metrics.WSMsgsSent).Sum), num(rw.get(metrics.WSMsgsReceived).Sum),
			num(rw.get(metrics.WSMsgsUnmatched).Sum), exp.Count, exp.Trues, num(rw.get(metrics.WSErrors).Sum), med, p95, mx)
	}
	tw.Flush()
	b.WriteString("    (times: expect or ping for message steps, connect for the connection)\n")
}

type checkRow struct {
	scenario, step, name string
	pass, total          uint64
}

// checkRows aggregates the checks series by scenario, step and check name.
func (r *Report) checkRows() []checkRow {
	idx := map[[3]string]int{}
	var out []checkRow
	for _, s := range r.Series {
		if s.Key.Metric != metrics.Checks {
			continue
		}
		var sc, st string
		if s.Key.Tags != nil {
			sc, st = s.Key.Tags.Scenario, s.Key.Tags.Step
		}
		k := [3]string{sc, st, s.Key.Label}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, checkRow{scenario: sc, step: st, name: s.Key.Label})
		}
		out[i].pass += s.Trues
		out[i].total += s.Count
	}
	return out
}

func (r *Report) writeChecks(b *strings.Builder) {
	rows := r.checkRows()
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n  checks\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, c := range rows {
		mark := r.mark(c.pass >= c.total)
		fmt.Fprintf(tw, "    %s %s/%s\t%s\t%6.2f%%\t%d/%d\n", mark, metrics.Escape(c.scenario), metrics.Escape(c.step), metrics.Escape(c.name),
			100*float64(c.pass)/float64(max(c.total, 1)), c.pass, c.total)
	}
	tw.Flush()
}

func (r *Report) writeTotals(b *strings.Builder, secs float64) {
	b.WriteString("\n  totals\n")
	tw := tabwriter.NewWriter(b, 0, 0, 1, '.', 0)
	seen := map[metrics.Metric]bool{}
	for _, s := range r.Series {
		seen[s.Key.Metric] = true
	}
	for _, m := range metrics.All() {
		if !seen[m] {
			continue
		}
		t := r.Total(m)
		var v string
		switch m.Kind() {
		case metrics.Counter:
			v = metrics.FormatValue(m, "count", t.Sum) + "  " + metrics.FormatValue(m, "count", round2(t.Sum/secs)) + "/s"
			if m.Info().Unit == metrics.Bytes {
				v = metrics.FormatBytes(t.Sum) + "  " + metrics.FormatBytes(t.Sum/secs) + "/s"
			}
		case metrics.Rate:
			v = fmt.Sprintf("%.2f%%  %d of %d", 100*float64(t.Trues)/float64(max(t.Count, 1)), t.Trues, t.Count)
		case metrics.Gauge:
			v = fmt.Sprintf("%s  min=%s max=%s", num(t.Last), num(t.Min), num(t.Max))
		case metrics.Trend:
			h := t.Hist
			if h == nil {
				continue
			}
			stats := r.TrendStats
			if len(stats) == 0 { // k6's order in the totals, as before
				stats = []TrendStat{{"avg", -1}, {"min", -1}, {"med", -1}, {"p(90)", 0.9}, {"p(95)", 0.95}, {"p(99)", 0.99}, {"max", -1}}
			}
			parts := make([]string, len(stats))
			for i, st := range stats {
				parts[i] = st.Name + "=" + st.format(m, h)
			}
			v = strings.Join(parts, " ")
		}
		fmt.Fprintf(tw, "    %s\t: %s\n", m, v)
	}
	tw.Flush()
}

func round2(v float64) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 2, 64), 64)
	return f
}

func (r *Report) writeThresholds(b *strings.Builder) {
	if len(r.Verdicts) == 0 {
		return
	}
	b.WriteString("\n  thresholds\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for _, v := range r.Verdicts {
		mark := r.mark(v.Pass)
		if v.Pass && v.Skipped() {
			mark = "-" // a baseline bound without a baseline: not judged, not passed
		}
		var conds []string
		for _, c := range v.Conditions {
			conds = append(conds, "'"+c.Source+"'")
		}
		extra := v.Scope()
		if v.AbortedRun {
			extra = strings.TrimSpace(extra + " aborted the run")
		} else if r.Share {
			extra = strings.TrimSpace(extra + " judged by merge")
		}
		if extra != "" {
			extra = "[" + extra + "]"
		}
		observed := v.Summary()
		if len(v.Outcomes) > 1 && !v.NoSamples {
			// Say which condition failed when there are several.
			var parts []string
			for _, c := range v.Outcomes {
				val := "n/a"
				if c.Valid {
					val = metrics.FormatValue(v.Metric, c.Condition.Agg, c.Observed)
				}
				m := r.mark(c.Pass)
				if c.Pass && c.Skipped {
					m = "skipped"
				}
				parts = append(parts, c.Condition.AggName()+"="+val+" "+m)
			}
			observed = strings.Join(parts, ", ")
		}
		fmt.Fprintf(tw, "    %s %s\t%s\t%s\t%s\n", mark, metrics.Escape(v.Name), strings.Join(conds, " "), observed, extra)
	}
	tw.Flush()
	failed, skipped := 0, 0
	for _, v := range r.Verdicts {
		if !v.Pass {
			failed++
		} else if v.Skipped() {
			skipped++
		}
	}
	if r.Share {
		// A segment's share is not the fleet: only an abort_on_fail that tripped is its verdict.
		fmt.Fprintf(b, "    on this segment's share %d of %d thresholds would fail; `loadplan merge` judges them over the fleet (a segment exits 99 only when abort_on_fail stops it)\n", failed, len(r.Verdicts))
	} else if failed == 0 && skipped > 0 {
		fmt.Fprintf(b, "    %d of %d thresholds passed, %d skipped (baseline bounds without --baseline)\n", len(r.Verdicts)-skipped, len(r.Verdicts), skipped)
	} else if failed == 0 {
		fmt.Fprintf(b, "    all %d thresholds passed\n", len(r.Verdicts))
	} else {
		failedText := fmt.Sprintf("%d of %d thresholds FAILED", failed, len(r.Verdicts))
		if r.Color {
			failedText = red + failedText + reset
		}
		fmt.Fprintf(b, "    %s\n", failedText)
	}
}

func (r *Report) writeNotes(b *strings.Builder) {
	var notes []string
	notes = append(notes, r.Notes...)
	said := false // a saturation note from the executor may already count the drops
	for _, n := range r.Notes {
		said = said || strings.Contains(n, "dropped iterations")
	}
	if d := r.Total(metrics.DroppedIterations); d.Sum > 0 && !said {
		notes = append(notes, fmt.Sprintf("%s iterations dropped: no VU was free when they were due (raise max_vus)", num(d.Sum)))
	}
	if n := r.Total(metrics.IterationsInterrupted); n.Sum > 0 {
		note := fmt.Sprintf("%s iterations interrupted by the end of graceful_stop, a ramp-down or an abort; "+
			"%s requests they had on the wire are counted as failed (error interrupted)", num(n.Sum), num(r.interrupted(metrics.Errors)))
		if ws := r.interrupted(metrics.WSErrors); ws > 0 {
			note += fmt.Sprintf(", and %s WebSocket handshakes as ws_errors (interrupted)", num(ws))
		}
		notes = append(notes, note)
	}
	drops := append([]Drop(nil), r.Dropped...)
	sort.Slice(drops, func(i, j int) bool { return drops[i].Output < drops[j].Output })
	for _, d := range drops {
		if d.Count > 0 {
			unit := "points"
			if d.Output == "otlp" { // tracing's client spans (outputs/otlp)
				unit = "spans"
			}
			notes = append(notes, fmt.Sprintf("output %s dropped %d %s under pressure", d.Output, d.Count, unit))
		}
	}
	if len(notes) == 0 {
		return
	}
	b.WriteString("\n  notes\n")
	for _, n := range notes {
		fmt.Fprintf(b, "    ! %s\n", metrics.Escape(n))
	}
}

// interrupted is the number of requests (m = errors) or WebSocket handshakes (m = ws_errors)
// cut on the wire: m's samples labelled interrupted.
func (r *Report) interrupted(m metrics.Metric) float64 {
	n := 0.0
	for _, s := range r.Series {
		if s.Key.Metric == m && s.Key.Label == "interrupted" {
			n += s.Sum
		}
	}
	return n
}

// writeErrors lists what ended iterations or failed connections (errors, ws_errors) by scenario,
// step and kind, most frequent first, like Locust's failures table.
func (r *Report) writeErrors(b *strings.Builder) {
	rows := r.ErrorCounts()
	if len(rows) == 0 {
		return
	}
	b.WriteString("\n  errors\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	const most = 15
	for i, e := range rows {
		if i == most {
			fmt.Fprintf(tw, "    … %d more kinds\t\t\n", len(rows)-most)
			break
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\n", metrics.Escape(e.Where), metrics.Escape(e.Kind), num(e.Count))
	}
	tw.Flush()
}
