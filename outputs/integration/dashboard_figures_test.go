package integration

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// checkFigures holds the overview's stats to the run's summary (and the servers' counts): the
// same iterations, HTTP requests, WebSocket sessions and peak VUs, the same failed, check and
// expect shares; p95, when named, within the native histogram's resolution.
func checkFigures(t *testing.T, k planKind, stats map[string]float64, p95 string) {
	t.Helper()
	r := k.run
	share := func(m metrics.Metric) float64 {
		s := metrics.Combine(r.series, m, nil)
		return float64(s.Trues) / float64(s.Count)
	}
	rest := r.server.Requests["GET /api/stocks"] + r.server.Requests["GET /api/stocks/{symbol}"] + r.server.Requests["GET /api/flaky"]
	if r.count(metrics.HTTPReqs) != float64(rest) || r.count(metrics.WSSessions) != float64(r.server.WSSessions) {
		t.Errorf("summary http_reqs %v, ws_sessions %v; the server saw %d and %d", r.count(metrics.HTTPReqs), r.count(metrics.WSSessions), rest, r.server.WSSessions)
	}
	want := map[string]float64{"Iterations": r.count(metrics.Iterations), "Peak VUs": 4}
	if !k.empty["HTTP requests"] {
		want["HTTP requests"] = float64(rest)
		want["Failed requests"] = share(metrics.HTTPReqFailed)
		want["Checks passed"] = share(metrics.Checks)
	}
	if !k.empty["WebSocket sessions"] {
		want["WebSocket sessions"] = float64(r.server.WSSessions)
		want["WebSocket expects failed"] = share(metrics.WSExpectFailed)
	}
	for title, w := range want {
		got, ok := stats[title]
		if !ok || math.Abs(got-w) > 1e-9*math.Max(1, w) {
			t.Errorf("stat %q = %v (shown: %v), the summary says %v", title, got, ok, w)
		}
	}
	t.Logf("%s run: iterations %v, http_reqs %v, ws_sessions %v, failed %.4f, checks %.4f, expects failed %.4f: the dashboard shows the same",
		k.name, want["Iterations"], want["HTTP requests"], want["WebSocket sessions"], want["Failed requests"], want["Checks passed"], want["WebSocket expects failed"])
	if p95 == "" || k.empty[p95] {
		return
	}
	// The panel's increase() leaves out what each series held at its first scrape (Prometheus
	// 2.42 has no created timestamps): lost requests, whichever they were. The p95 of the rest
	// lies between the summary's quantiles at the ranks those lost requests can shift it to;
	// the native histogram then places it within one bucket (a factor 2^(1/8) ≈ 1.09, where
	// the 16 classic buckets were up to 2.5 apart).
	hist := metrics.Combine(r.series, metrics.HTTPReqDuration, nil).Hist
	n := float64(hist.Count)
	res, err := promQuery(fmt.Sprintf(`sum(min_over_time(loadplan_http_reqs_total{testid=%q}[10m]))`, r.testID), time.Time{}, time.Time{}, 0)
	lost := promValues(res, err)
	if len(lost) != 1 {
		t.Fatalf("requests at the first scrapes: %v (%v)", lost, err)
	}
	l := lost[0]
	lo, hi := hist.Quantile(0.95*(n-l)/n)/1000, hist.Quantile((0.95*(n-l)+l)/n)/1000
	bucket := math.Pow(2, 1.0/8) * 1.01 // and 1% for the summary's own histogram
	got := stats[p95]
	if got < lo/bucket || got > hi*bucket {
		t.Errorf("stat %q = %.6fs; the summary's p95 is %.6fs, and with %v of %v requests before the first scrape between %.6fs and %.6fs: not within a native bucket of that", p95, got, hist.Quantile(0.95)/1000, l, n, lo, hi)
	} else {
		t.Logf("%s run: p95 %.6fs on the dashboard, %.6fs in the summary; %v of %v requests before the first scrape: within a native bucket of [%.6f, %.6f]", k.name, got, hist.Quantile(0.95)/1000, l, n, lo, hi)
	}
}

// checkStepTables holds the per-step tables' counts to the summary's, step by step: requests
// and failed requests of each HTTP step, expects and failed expects of each WebSocket step.
func checkStepTables(t *testing.T, k planKind, d *Dashboard, sub *strings.Replacer, to time.Time) {
	t.Helper()
	type col struct {
		table, ref string
		m          metrics.Metric
		trues      bool // the rate's true samples, not all of them
	}
	cols := []col{{"HTTP steps", "A", metrics.HTTPReqs, false}, {"HTTP steps", "B", metrics.HTTPReqFailed, true},
		{"WebSocket steps", "A", metrics.WSExpectFailed, false}, {"WebSocket steps", "B", metrics.WSExpectFailed, true}}
	checked := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			for _, c := range cols {
				if p.Title != c.table || tg.RefID != c.ref || k.empty[c.table] {
					continue
				}
				res, err := promQuery(sub.Replace(tg.Expr), to, time.Time{}, 0)
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]float64{}
				for _, s := range res.Data.Result {
					v, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
					got[s.Metric["scenario"]+"/"+s.Metric["step"]] += v
				}
				want := map[string]float64{}
				for _, s := range k.run.series {
					if s.Key.Metric == c.m {
						n := float64(s.Count)
						if c.m == metrics.HTTPReqs {
							n = s.Sum
						} else if c.trues {
							n = float64(s.Trues)
						}
						want[s.Key.Tags.Scenario+"/"+s.Key.Tags.Step] += n
					}
				}
				for step, n := range want {
					if got[step] != n {
						t.Errorf("table %q %s, step %s: %v, the summary says %v", c.table, c.ref, step, got[step], n)
					}
				}
				if len(want) == 0 {
					t.Errorf("table %q %s: the summary has no steps", c.table, c.ref)
				}
				checked++
			}
		}
	}
	if want := map[string]int{"mixed": 4, "http": 2, "websocket": 2}[k.name]; checked != want {
		t.Errorf("%d table columns checked, want %d", checked, want)
	}
}
