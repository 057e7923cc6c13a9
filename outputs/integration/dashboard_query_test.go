package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"math"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// planKind is one kind of plan the dashboards must show: a run of it, and the panels that
// cannot have data for it (the HTTP panels of a WebSocket-only run), which must then answer
// with no data and no error rather than be skipped.
type planKind struct {
	name      string
	run       *run
	scenarios []string        // what the scenario variable must list
	empty     map[string]bool // panel titles without data for this kind
}

// The panels of one protocol, by title in either dashboard. Every other panel has data for
// every kind (VUs, iterations, data sent and received).
var (
	httpPanels = []string{"HTTP requests", "Failed requests", "HTTP p95 latency", "HTTP p95 latency (worst interval)",
		"Checks passed", "Request rate", "Error rate", "Latency percentiles", "Latency percentiles (worst step per interval)",
		"Requests by status", "HTTP steps", "Request rate by segment"}
	wsPanels = []string{"WebSocket sessions", "WebSocket expects failed", "WebSocket sessions opened", "WebSocket messages",
		"WebSocket expect p95", "WebSocket connect time p95", "WebSocket steps"}
)

// kinds holds the HTTP-only and WebSocket-only runs, made once, at the same time.
var kinds struct {
	once     sync.Once
	http, ws *run
	err      error
}

// planKinds runs (once) testPlan without its WebSocket scenario and without its REST scenario,
// and returns them with the shared mixed run.
func planKinds(t *testing.T) []planKind {
	t.Helper()
	mixed := sharedRun(t)
	kinds.once.Do(func() {
		rest, stream := strings.Index(testPlan, `scenario "rest"`), strings.Index(testPlan, `scenario "stream"`)
		load := strings.Index(testPlan, "load {")
		srcs := []string{testPlan[:stream] + testPlan[load:], testPlan[:rest] + testPlan[stream:]}
		runs := make([]*run, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, kind := range []string{"http", "ws"} {
			dir, err := tempDir()
			if err != nil {
				kinds.err = err
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				runs[i], errs[i] = loadRun(runOptions{testID: fmt.Sprintf("%s-%d", kind, time.Now().UnixNano()), duration: "6s",
					dir: dir, influx: env.influx.url(), prom: true, listen: env.kindTargets[i], plan: srcs[i], logf: log.Printf})
			}()
		}
		wg.Wait()
		kinds.http, kinds.ws = runs[0], runs[1]
		kinds.err = errors.Join(errs...)
	})
	if kinds.err != nil {
		t.Fatal(kinds.err)
	}
	set := func(titles []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range titles {
			m[s] = true
		}
		return m
	}
	return []planKind{
		{"mixed", mixed, []string{"rest", "stream"}, map[string]bool{}},
		{"http", kinds.http, []string{"rest"}, set(wsPanels)},
		{"websocket", kinds.ws, []string{"stream"}, set(httpPanels)},
	}
}

// TestEveryDashboardQueryReturnsData runs every panel query and every variable query of both
// dashboards against the real Prometheus (native histograms on, as in the compose stack) and
// InfluxDB after an HTTP-only, a WebSocket-only and a mixed run, with Grafana's variables
// substituted as Grafana would: each panel answers with data, except those the kind cannot
// have, which answer with none and no error; the Application row, its job empty by default,
// answers with nothing; the overview's figures equal the summary's.
func TestEveryDashboardQueryReturnsData(t *testing.T) {
	for _, k := range planKinds(t) {
		t.Run(k.name, func(t *testing.T) {
			r := k.run
			// The final scrape is in before the ranges are queried.
			if _, err := pollProm(fmt.Sprintf(`sum(max_over_time(loadplan_iterations_total{testid=%q}[10m]))`, r.testID), r.count(metrics.Iterations)); err != nil {
				t.Fatal(err)
			}
			from, to := r.start.Add(-2*time.Second), r.end.Add(4*time.Second)
			t.Run("prometheus", func(t *testing.T) { checkPromDashboard(t, k, from, to) })
			t.Run("influxdb", func(t *testing.T) { checkInfluxDashboard(t, k, from, to) })
		})
	}
}

// promSub substitutes the Prometheus dashboard's variables for testid over [from, to].
func promSub(testID string, from, to time.Time) *strings.Replacer {
	return strings.NewReplacer("$testid", regexp.QuoteMeta(testID), "$scenario", ".*", "$job", "",
		"$__rate_interval", "4s", "$__interval", "1s", "$__range", fmt.Sprintf("%ds", int(math.Ceil(to.Sub(from).Seconds()))))
}

// allPanels returns the panels with the ones of collapsed rows.
func allPanels(d *Dashboard) []Panel {
	var out []Panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

func checkPromDashboard(t *testing.T, k planKind, from, to time.Time) {
	r := k.run
	d, err := loadDashboard(filepath.Join(dashboardsDir, "loadplan-prometheus.json"))
	if err != nil {
		t.Fatal(err)
	}
	sub := promSub(r.testID, from, to)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue // datasource and textbox variables: TestDashboardsAreValidGrafanaJSON
		}
		q, _ := v.QueryText()
		vals, err := promLabelValues(sub.Replace(q), from, to)
		if err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
			continue
		}
		checkVariable(t, k, v.Name, q, vals)
	}
	stats := map[string]float64{}
	for _, p := range allPanels(d) {
		for _, tg := range p.Targets {
			q := sub.Replace(tg.Expr)
			var res *promResult
			if tg.Instant != nil && *tg.Instant {
				res, err = promQuery(q, to, time.Time{}, 0)
			} else {
				res, err = promQuery(q, from, to, time.Second)
			}
			if err != nil {
				t.Errorf("panel %q %s: %v", p.Title, tg.RefID, err)
				continue
			}
			checkHasData(t, k, p, tg.RefID, q, promHasValue(res))
			if p.Type == "stat" {
				if vals := promValues(res, nil); len(vals) == 1 {
					stats[p.Title] = vals[0]
				}
			}
		}
	}
	checkFigures(t, k, stats, "HTTP p95 latency")
	checkStepTables(t, k, d, sub, to)
}

func checkInfluxDashboard(t *testing.T, k planKind, from, to time.Time) {
	r := k.run
	d, err := loadDashboard(filepath.Join(dashboardsDir, "loadplan-influxdb.json"))
	if err != nil {
		t.Fatal(err)
	}
	sub := func(p Panel) *strings.Replacer {
		iv := time.Second // Grafana's $__interval is at least the panel's own minimum
		if d, err := time.ParseDuration(p.Interval); err == nil && d > iv {
			iv = d
		}
		return strings.NewReplacer("$testid", regexp.QuoteMeta(r.testID), "$scenario", ".*",
			"$timeFilter", fmt.Sprintf("time >= %dms and time <= %dms", from.UnixMilli(), to.UnixMilli()),
			"$__interval_ms", strconv.FormatInt(iv.Milliseconds(), 10), "$__interval", iv.String())
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.QueryText()
		res, err := influxQuery(env.influx, sub(Panel{}).Replace(q))
		if err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
			continue
		}
		var vals []string
		for _, s := range res.Results[0].Series {
			for _, row := range s.Values {
				if v := fmt.Sprint(row[len(row)-1]); !slices.Contains(vals, v) {
					vals = append(vals, v)
				}
			}
		}
		checkVariable(t, k, v.Name, q, vals)
	}
	stats := map[string]float64{}
	for _, p := range allPanels(d) {
		for _, tg := range p.Targets {
			if tg.Datasource != nil && tg.Datasource.Type == "prometheus" { // the Application row
				res, err := promQuery(promSub(r.testID, from, to).Replace(tg.Expr), from, to, time.Second)
				if err != nil {
					t.Errorf("panel %q %s: %v", p.Title, tg.RefID, err)
				} else {
					checkHasData(t, k, p, tg.RefID, tg.Expr, promHasValue(res))
				}
				continue
			}
			q := sub(p).Replace(tg.Query)
			res, err := influxQuery(env.influx, q)
			if err != nil {
				t.Errorf("panel %q %s: %v", p.Title, tg.RefID, err)
				continue
			}
			checkHasData(t, k, p, tg.RefID, q, influxHasValue(res))
			if p.Type == "stat" {
				if got, err := influxPoints(q); err == nil && len(got) == 1 {
					stats[p.Title] = first(got)
				}
			}
		}
	}
	// InfluxDB holds per-interval percentiles, which do not merge: its p95 stat is the worst
	// interval's and is not held to the summary's p95 (the README says so).
	checkFigures(t, k, stats, "")
}

// checkVariable holds a variable's values to the run: its testid, its kind's scenarios exactly.
func checkVariable(t *testing.T, k planKind, name, q string, vals []string) {
	t.Helper()
	switch name {
	case "testid":
		if !contains(vals, k.run.testID) {
			t.Errorf("variable testid (%s) = %v, want it to include %q", q, vals, k.run.testID)
		}
	case "scenario":
		slices.Sort(vals)
		if !slices.Equal(vals, k.scenarios) {
			t.Errorf("variable scenario (%s) = %v, want %v", q, vals, k.scenarios)
		}
	default:
		t.Errorf("variable %s (%s) is not checked by this test", name, q)
	}
}

// checkHasData requires data from a panel's query, or none when the kind cannot have it; the
// Application row's job is empty by default, so it has none.
func checkHasData(t *testing.T, k planKind, p Panel, ref, q string, has bool) {
	t.Helper()
	want := !k.empty[p.Title] && !strings.HasPrefix(p.Title, "Application")
	if has != want {
		t.Errorf("panel %q %s: data %v, want %v for a %s plan: %s", p.Title, ref, has, want, k.name, q)
	}
}

func contains(vals []string, want string) bool {
	return slices.Contains(vals, want)
}

var labelValuesRE = regexp.MustCompile(`^label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)$`)

// promLabelValues evaluates Grafana's label_values(selector, label) with the label values API.
func promLabelValues(q string, from, to time.Time) ([]string, error) {
	m := labelValuesRE.FindStringSubmatch(strings.TrimSpace(q))
	if m == nil {
		return nil, fmt.Errorf("not a label_values query: %s", q)
	}
	v := url.Values{"match[]": {m[1]}, "start": {strconv.FormatInt(from.Unix(), 10)}, "end": {strconv.FormatInt(to.Unix()+1, 10)}}
	resp, err := http.Get(env.prom.url() + "/api/v1/label/" + m[2] + "/values?" + v.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Status string   `json:"status"`
		Error  string   `json:"error"`
		Data   []string `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	if out.Status != "success" {
		return nil, fmt.Errorf("%s: %s", q, out.Error)
	}
	return out.Data, nil
}

// promHasValue reports whether a result holds at least one number that is not NaN.
func promHasValue(r *promResult) bool {
	for _, s := range r.Data.Result {
		pairs := s.Values
		if s.Value != nil {
			pairs = append(pairs, s.Value)
		}
		for _, p := range pairs {
			if len(p) == 2 {
				if f, err := strconv.ParseFloat(fmt.Sprint(p[1]), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
					return true
				}
			}
		}
	}
	return false
}

// influxHasValue reports whether a result holds at least one non-null value besides the time.
func influxHasValue(r *influxResult) bool {
	for _, res := range r.Results {
		for _, s := range res.Series {
			for _, row := range s.Values {
				for i, v := range row {
					if i < len(s.Columns) && s.Columns[i] == "time" {
						continue
					}
					if v != nil {
						return true
					}
				}
			}
		}
	}
	return false
}
