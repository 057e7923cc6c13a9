package integration

import (
	"fmt"
	"log"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/metrics"
)

// TestDashboardsSumTheFleet runs testPlan as a fleet of two segments at once (1/2 and 2/2, each
// with its own demo backend and Prometheus listener, both scraped, one InfluxDB, one testid),
// then holds the dashboards to the fleet (8 VUs, so that each segment keeps both scenarios): the stores' totals equal the two summaries' sum and
// the servers' counts; every additive panel query over the fleet equals the sum of the same
// query restricted to each segment, point for point; the peak-VUs panels show the plan's 4 VUs
// (2 + 2), not one segment's 2.
func TestDashboardsSumTheFleet(t *testing.T) {
	need(t, env.prom, env.influx)
	testID := fmt.Sprintf("fleet-%d", time.Now().UnixNano())
	segs := []string{"1/2", "2/2"}
	runs := make([]*run, len(segs))
	errs := make([]error, len(segs))
	var wg sync.WaitGroup
	for i := range segs {
		dir, err := tempDir()
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i], errs[i] = loadRun(runOptions{testID: testID, duration: "6s", dir: dir, influx: env.influx.url(),
				prom: true, listen: env.fleetTargets[i], vus: 8, segment: executor.Segment{Index: i + 1, Total: len(segs)}, logf: log.Printf})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("segment %s: %v", segs[i], err)
		}
	}

	// The truth: each segment's summary against its server, and the fleet's total.
	var want float64
	from, to := runs[0].start, runs[0].end
	for i, r := range runs {
		n := r.count(metrics.HTTPReqs)
		rest := r.server.Requests["GET /api/stocks"] + r.server.Requests["GET /api/stocks/{symbol}"] + r.server.Requests["GET /api/flaky"]
		if n < 10 || float64(rest) != n {
			t.Errorf("segment %s: summary http_reqs %v, its server saw %d", segs[i], n, rest)
		}
		want += n
		from, to = minTime(from, r.start), maxTime(to, r.end)
	}
	from, to = from.Add(-2*time.Second), to.Add(4*time.Second)
	q := fmt.Sprintf(`sum(max_over_time(loadplan_http_reqs_total{testid=%q}[10m]))`, testID)
	if got, err := pollProm(q, want); err != nil || got != want {
		t.Fatalf("prometheus %s = %v (%v), want %v", q, got, err, want)
	}
	for i, s := range segs {
		q := fmt.Sprintf(`sum(max_over_time(loadplan_http_reqs_total{testid=%q,segment=%q}[10m]))`, testID, s)
		if got, err := pollProm(q, runs[i].count(metrics.HTTPReqs)); err != nil || got != runs[i].count(metrics.HTTPReqs) {
			t.Errorf("prometheus %s = %v (%v), want segment %s's %v", q, got, err, s, runs[i].count(metrics.HTTPReqs))
		}
	}
	t.Logf("fleet http_reqs: summaries %v + %v = %v; servers and Prometheus agree", runs[0].count(metrics.HTTPReqs), runs[1].count(metrics.HTTPReqs), want)

	promSub := strings.NewReplacer("$testid", regexp.QuoteMeta(testID), "$scenario", ".*",
		"$__rate_interval", "4s", "$__interval", "1s", "$__range", fmt.Sprintf("%ds", int(math.Ceil(to.Sub(from).Seconds()))))
	// Grafana's $__interval is at least the panel's own minimum ("interval"), 1 s here.
	influxSub := func(p Panel) *strings.Replacer {
		iv := time.Second
		if d, err := time.ParseDuration(p.Interval); err == nil && d > iv {
			iv = d
		}
		return strings.NewReplacer("$testid", regexp.QuoteMeta(testID), "$scenario", ".*",
			"$timeFilter", fmt.Sprintf("time >= %dms and time <= %dms", from.UnixMilli(), to.UnixMilli()),
			"$__interval_ms", strconv.FormatInt(iv.Milliseconds(), 10), "$__interval", iv.String())
	}

	t.Run("prometheus", func(t *testing.T) {
		d, err := loadDashboard(filepath.Join(dashboardsDir, "loadplan-prometheus.json"))
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				expr := promSub.Replace(tg.Expr)
				if p.Title == "Peak VUs" {
					res, err := promQuery(expr, to, time.Time{}, 0)
					if got := promValues(res, err); len(got) != 1 || got[0] != 8 {
						t.Errorf("Peak VUs %s = %v (%v), want the fleet's 8", expr, got, err)
					}
					continue
				}
				if !strings.HasPrefix(expr, "sum") || strings.Contains(expr, " / ") {
					continue // ratios and quantiles are not sums over segments
				}
				total, err := promPoints(expr, from, to)
				if err != nil {
					t.Fatal(err)
				}
				parts := map[string]float64{}
				for _, s := range segs {
					one, err := promPoints(strings.ReplaceAll(expr, "{testid=~", fmt.Sprintf("{segment=%q,testid=~", s)), from, to)
					if err != nil {
						t.Fatal(err)
					}
					for k, v := range one {
						parts[k] += v
					}
				}
				if msg := sameSums(total, parts); msg != "" {
					t.Errorf("panel %q %s: fleet vs sum of segments: %s", p.Title, tg.RefID, msg)
				}
				checked++
			}
		}
		t.Logf("%d additive Prometheus queries equal the sum of their segments", checked)
	})

	t.Run("influxdb", func(t *testing.T) {
		res, err := influxQuery(env.influx, fmt.Sprintf(`SELECT sum("value") FROM "http_reqs" WHERE "testid" = '%s'`, testID))
		if err != nil || len(res.Results) == 0 || len(res.Results[0].Series) == 0 || res.Results[0].Series[0].Values[0][1] != want {
			t.Fatalf("influxdb sum(value) = %+v (%v), want %v", res, err, want)
		}
		d, err := loadDashboard(filepath.Join(dashboardsDir, "loadplan-influxdb.json"))
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				q := influxSub(p).Replace(tg.Query)
				if p.Title == "Peak VUs" {
					got, err := influxPoints(q)
					if err != nil || len(got) != 1 || first(got) != 8 {
						t.Errorf("Peak VUs %s = %v (%v), want the fleet's 8", q, got, err)
					}
					old, _ := influxPoints(influxSub(p).Replace(`SELECT max("value") FROM "vus" WHERE "testid" =~ /^$testid$/ AND $timeFilter`))
					t.Logf("Peak VUs: %v (the query before segments, max over points: %v)", first(got), first(old))
					continue
				}
				if !strings.HasPrefix(q, "SELECT sum(") || strings.Contains(q, ") / sum(") {
					continue
				}
				total, err := influxPoints(q)
				if err != nil {
					t.Fatal(err)
				}
				parts := map[string]float64{}
				for _, s := range segs {
					one, err := influxPoints(strings.ReplaceAll(q, `WHERE "testid"`, fmt.Sprintf(`WHERE "segment" = '%s' AND "testid"`, s)))
					if err != nil {
						t.Fatal(err)
					}
					for k, v := range one {
						parts[k] += v
					}
				}
				if msg := sameSums(total, parts); msg != "" {
					t.Errorf("panel %q %s: fleet vs sum of segments: %s", p.Title, tg.RefID, msg)
				}
				if p.Title == "HTTP requests" && first(total) != want {
					t.Errorf("HTTP requests panel = %v, want %v", first(total), want)
				}
				checked++
			}
		}
		t.Logf("%d additive InfluxDB queries equal the sum of their segments", checked)
	})
}

// promPoints runs a range query and returns its values keyed by series labels and time.
func promPoints(q string, from, to time.Time) (map[string]float64, error) {
	res, err := promQuery(q, from, to, time.Second)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, s := range res.Data.Result {
		labels := fmt.Sprint(s.Metric) // fmt prints maps sorted by key
		for _, p := range s.Values {
			v, _ := strconv.ParseFloat(fmt.Sprint(p[1]), 64)
			out[fmt.Sprintf("%s@%v", labels, p[0])] = v
		}
	}
	return out, nil
}

// promValues returns the values of an instant query's result.
func promValues(res *promResult, err error) []float64 {
	if err != nil {
		return nil
	}
	var out []float64
	for _, s := range res.Data.Result {
		if len(s.Value) == 2 {
			v, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
			out = append(out, v)
		}
	}
	return out
}

// influxPoints runs an InfluxQL query and returns every non-null value keyed by series, tags,
// time and column.
func influxPoints(q string) (map[string]float64, error) {
	res, err := influxQuery(env.influx, q)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, r := range res.Results {
		for _, s := range r.Series {
			for _, row := range s.Values {
				for i := 1; i < len(row) && i < len(s.Columns); i++ {
					if v, ok := row[i].(float64); ok {
						out[fmt.Sprintf("%s%v@%v/%s", s.Name, s.Tags, row[0], s.Columns[i])] = v
					}
				}
			}
		}
	}
	return out, nil
}

// sameSums compares the fleet's points with the sums of the segments' (absent counts as 0) and
// describes the first few differences; "" when they agree.
func sameSums(total, parts map[string]float64) string {
	keys := map[string]bool{}
	for k := range total {
		keys[k] = true
	}
	for k := range parts {
		keys[k] = true
	}
	var diffs []string
	for k := range keys {
		if a, b := total[k], parts[k]; math.Abs(a-b) > 1e-9*math.Max(1, math.Abs(a)) {
			diffs = append(diffs, fmt.Sprintf("%s: fleet %v, segments %v", k, a, b))
		}
	}
	if len(total) == 0 {
		diffs = append(diffs, "no data")
	}
	sort.Strings(diffs)
	if len(diffs) > 3 {
		diffs = append(diffs[:3], fmt.Sprintf("and %d more", len(diffs)-3))
	}
	return strings.Join(diffs, "; ")
}

// first returns the value of a one-point result (any point of a larger one), 0 when empty.
func first(m map[string]float64) float64 {
	for _, v := range m {
		return v
	}
	return 0
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
