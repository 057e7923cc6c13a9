package summary

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// colorReport is a report with one passing and one failing check and threshold.
func colorReport(color bool) *Report {
	now := time.Now()
	tags := &metrics.Tags{Scenario: "s", Step: "get", Method: "GET"}
	hist := &metrics.Histogram{}
	for _, v := range []float64{10, 20, 30, 40} {
		hist.Record(v)
	}
	return &Report{Start: now.Add(-time.Second), End: now, Color: color,
		Series: []*metrics.Series{
			{Key: metrics.Key{Metric: metrics.Checks, Tags: tags, Label: "ok"}, Count: 4, Trues: 4},
			{Key: metrics.Key{Metric: metrics.Checks, Tags: tags, Label: "bad"}, Count: 4, Trues: 1},
			{Key: metrics.Key{Metric: metrics.HTTPReqs, Tags: tags}, Count: 4, Sum: 4},
			{Key: metrics.Key{Metric: metrics.HTTPReqDuration, Tags: tags}, Count: 4, Hist: hist},
		},
		Verdicts: []metrics.Verdict{{Name: "http_req_duration", Metric: metrics.HTTPReqDuration, Pass: true},
			{Name: "checks", Metric: metrics.Checks, Pass: false}},
	}
}

// TestSummaryColor: with Color, each ✓ is green and each ✗ red, and the FAILED line red; without
// it (a pipe, NO_COLOR, --no-color: cmd decides) there is no escape sequence at all.
func TestSummaryColor(t *testing.T) {
	var b strings.Builder
	if err := colorReport(true).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, green+"✓"+reset); n != 2 || strings.Count(out, red+"✗"+reset) != 2 ||
		!strings.Contains(out, red+"1 of 2 thresholds FAILED"+reset) || strings.Count(out, "✓") != 2 || strings.Count(out, "✗") != 2 {
		t.Errorf("coloured summary:\n%q", out)
	}
	b.Reset()
	if err := colorReport(false).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "\x1b") || strings.Count(b.String(), "✓") != 2 {
		t.Errorf("summary without colour:\n%q", b.String())
	}
}

// TestTrendStats: k6's --summary-trend-stats list picks and orders the columns; bad entries are
// errors that say the syntax.
func TestTrendStats(t *testing.T) {
	stats, err := ParseTrendStats("avg, p(99.9),count,med")
	if err != nil {
		t.Fatal(err)
	}
	rep := colorReport(false)
	rep.TrendStats = stats
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !regexp.MustCompile(`avg +p99\.9 +count +med\n +get +GET +4 +0 +4\.0 +25\.00ms +40\.00ms +4 +20\.\d\dms\n`).MatchString(out) ||
		!strings.Contains(out, "http_req_duration.: avg=25.00ms p(99.9)=40.00ms count=4 med=20.") || strings.Contains(out, "p90") {
		t.Errorf("trend stats avg,p(99.9),count,med:\n%s", out)
	}
	for _, bad := range []string{"p(0)", "p(101)", "p95", "mean", ""} {
		if _, err := ParseTrendStats(bad); err == nil {
			t.Errorf("ParseTrendStats(%q): no error", bad)
		}
	}
}
