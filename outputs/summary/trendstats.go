package summary

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/loadplan/loadplan/metrics"
)

// TrendStat is one column of the summary's latency tables and trend totals, chosen with
// --summary-trend-stats in k6's syntax: avg, min, med, max, count or p(N).
type TrendStat struct {
	Name string  // as k6 writes it: "avg", "p(95)", "p(99.9)"
	q    float64 // the quantile for p(N), -1 otherwise
}

// DefaultTrendStats are the columns the summary shows without --summary-trend-stats.
var DefaultTrendStats = []TrendStat{{"min", -1}, {"avg", -1}, {"med", -1}, {"p(90)", 0.9}, {"p(95)", 0.95}, {"p(99)", 0.99}, {"max", -1}}

// ParseTrendStats reads k6's --summary-trend-stats list, e.g. "avg,min,med,max,p(90),p(99.9),count".
func ParseTrendStats(spec string) ([]TrendStat, error) {
	var out []TrendStat
	for _, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		switch s {
		case "avg", "min", "med", "max", "count":
			out = append(out, TrendStat{s, -1})
			continue
		}
		inner, ok := strings.CutPrefix(s, "p(")
		inner, ok2 := strings.CutSuffix(inner, ")")
		p, err := strconv.ParseFloat(inner, 64)
		if !ok || !ok2 || err != nil || !(p > 0 && p <= 100) {
			return nil, fmt.Errorf("--summary-trend-stats: %q: write avg, min, med, max, count or p(N) with 0 < N <= 100, comma-separated, e.g. avg,med,p(95),p(99.9)", s)
		}
		out = append(out, TrendStat{s, p / 100})
	}
	return out, nil
}

// value is the stat of h; count is the number of samples, the others are in h's unit.
func (t TrendStat) value(h *metrics.Histogram) float64 {
	switch {
	case t.q >= 0:
		return h.Quantile(t.q)
	case t.Name == "avg":
		return h.Mean()
	case t.Name == "min":
		return h.Min
	case t.Name == "med":
		return h.Quantile(0.5)
	case t.Name == "max":
		return h.Max
	}
	return float64(h.Count)
}

// column is the stat's heading in the HTTP table: p(95) is p95 there, as before.
func (t TrendStat) column() string {
	if t.q >= 0 {
		return "p" + strings.TrimSuffix(strings.TrimPrefix(t.Name, "p("), ")")
	}
	return t.Name
}

// format renders the stat of h for metric m (milliseconds for times; count as a number).
func (t TrendStat) format(m metrics.Metric, h *metrics.Histogram) string {
	if t.Name == "count" {
		return strconv.FormatUint(uint64(h.Count), 10)
	}
	return metrics.FormatValue(m, "avg", t.value(h))
}

// trendStats is r's columns: TrendStats, or the default.
func (r *Report) trendStats() []TrendStat {
	if len(r.TrendStats) > 0 {
		return r.TrendStats
	}
	return DefaultTrendStats
}

// ANSI colours for the marks, used only when Report.Color is set (a terminal, no NO_COLOR, no
// --no-color: the caller decides). Green and red have the same length, so tables stay aligned.
const (
	green = "\x1b[32m"
	red   = "\x1b[31m"
	reset = "\x1b[0m"
)

// mark is ✓ (green) or ✗ (red).
func (r *Report) mark(pass bool) string {
	m, c := "✓", green
	if !pass {
		m, c = "✗", red
	}
	if !r.Color {
		return m
	}
	return c + m + reset
}
