package integration

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/prometheus"
)

// histogramRE finds the histograms a quantile reads: name_seconds{ (native) or
// name_seconds_bucket{ (classic).
var histogramRE = regexp.MustCompile(`([a-z_]+_seconds)(_bucket)?\{`)

// TestDashboardsLinkExemplarsAndApplication holds the dashboards' wiring that a query cannot
// show: each quantile reads the native histogram and falls back to the classic buckets; the
// latency panels show exemplars whose trace_id links to the Tempo of the tempo variable; the
// Application row is collapsed, reads app_datasource and selects the job variable, which is
// empty by default; no query uses a series the exposition no longer has.
func TestDashboardsLinkExemplarsAndApplication(t *testing.T) {
	appRows := map[string]string{} // by file: the Application row's queries, the same in both
	for _, file := range []string{"loadplan-prometheus.json", "loadplan-influxdb.json"} {
		d, err := loadDashboard(filepath.Join(dashboardsDir, file))
		if err != nil {
			t.Fatal(err)
		}
		vars := map[string]Variable{}
		for _, v := range d.Templating.List {
			vars[v.Name] = v
		}
		for name, want := range map[string][2]string{"tempo": {"datasource", `"tempo"`}, "app_datasource": {"datasource", `"prometheus"`}, "job": {"textbox", `""`}} {
			if v := vars[name]; v.Type != want[0] || string(v.Query) != want[1] {
				t.Errorf("%s: variable %s is %s %s, want %s %s", file, name, v.Type, v.Query, want[0], want[1])
			}
		}
		var cur struct{ Value string }
		json.Unmarshal(vars["job"].Current, &cur)
		if cur.Value != "" {
			t.Errorf("%s: job defaults to %q, want empty", file, cur.Value)
		}
		var app *Panel
		for i, p := range d.Panels {
			if p.Type == "row" && p.Title == "Application" {
				app = &d.Panels[i]
			}
		}
		if app == nil || !app.Collapsed || len(app.Panels) != 3 {
			t.Fatalf("%s: no collapsed Application row with its 3 panels", file)
		}
		for _, p := range app.Panels {
			for _, tg := range p.Targets {
				appRows[file] += p.Title + ": " + tg.Expr + "\n"
			}
		}
		exemplarPanels := map[string]bool{}
		for _, p := range allPanels(d) {
			for _, tg := range p.Targets {
				if tg.Expr == "" {
					continue
				}
				if strings.Contains(tg.Expr, "_samples_total") {
					t.Errorf("%s: panel %q reads a removed _samples_total series: %s", file, p.Title, tg.Expr)
				}
				if strings.HasPrefix(p.Title, "Application") && !strings.Contains(tg.Expr, `job="$job"`) {
					t.Errorf("%s: panel %q does not select job=\"$job\": %s", file, p.Title, tg.Expr)
				}
				if strings.Contains(tg.Expr, "histogram_quantile") {
					native, classic := map[string]bool{}, map[string]bool{}
					for _, m := range histogramRE.FindAllStringSubmatch(tg.Expr, -1) {
						if m[2] == "" {
							native[m[1]] = true
						} else {
							classic[m[1]] = true
						}
					}
					if len(native) == 0 || fmt.Sprint(native) != fmt.Sprint(classic) || !strings.Contains(tg.Expr, ") or histogram_quantile(") {
						t.Errorf("%s: panel %q: a quantile must read the native histogram, or else the classic buckets: %s", file, p.Title, tg.Expr)
					}
				}
				if tg.Exemplar != nil && *tg.Exemplar {
					exemplarPanels[p.Title] = true
					if !linksTraceToTempo(p) {
						t.Errorf("%s: panel %q shows exemplars without a trace_id link to ${tempo}", file, p.Title)
					}
				}
			}
		}
		if file == "loadplan-influxdb.json" && appRows[file] != appRows["loadplan-prometheus.json"] {
			t.Errorf("the Application rows differ:\n%s\n%s", appRows[file], appRows["loadplan-prometheus.json"])
		}
		want := []string{"Application p95 latency"}
		if file == "loadplan-prometheus.json" {
			want = append(want, "Latency percentiles", "WebSocket connect time p95")
		}
		for _, title := range want {
			if !exemplarPanels[title] {
				t.Errorf("%s: panel %q shows no exemplars", file, title)
			}
		}
	}
}

// linksTraceToTempo reports whether p has a link on the field trace_id into Explore with the
// Tempo datasource of the tempo variable and the exemplar's trace id as the query.
func linksTraceToTempo(p Panel) bool {
	if p.FieldConfig == nil {
		return false
	}
	for _, raw := range p.FieldConfig.Overrides {
		var o struct {
			Matcher    struct{ ID, Options string }
			Properties []struct {
				ID    string
				Value []struct{ URL string }
			}
		}
		if json.Unmarshal(raw, &o) != nil || o.Matcher.ID != "byName" || o.Matcher.Options != "trace_id" {
			continue
		}
		for _, pr := range o.Properties {
			for _, l := range pr.Value {
				if pr.ID == "links" && strings.HasPrefix(l.URL, "/explore?") && strings.Contains(l.URL, `"uid":"${tempo}"`) && strings.Contains(l.URL, `"query":"${__value.raw}"`) {
					return true
				}
			}
		}
	}
	return false
}

// exemplarTargets returns the exemplar-showing targets of the Prometheus dashboard by panel title.
func exemplarTargets(t *testing.T) map[string]string {
	d, err := loadDashboard(filepath.Join(dashboardsDir, "loadplan-prometheus.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range allPanels(d) {
		for _, tg := range p.Targets {
			if tg.Exemplar != nil && *tg.Exemplar {
				out[p.Title] = tg.Expr
			}
		}
	}
	return out
}

// panelExemplars returns the trace_id labels of the exemplars Prometheus has for q over [from, to].
func panelExemplars(q string, from, to time.Time) ([]string, error) {
	got, err := exemplarsIn(env.prom, q, from, to)
	var ids []string
	for _, e := range got {
		ids = append(ids, e.TraceID)
	}
	return ids, err
}

// TestLatencyPanelsShowExemplars feeds loadplan's Prometheus output traced samples (sampled
// HTTP requests and WebSocket handshakes, as the executor hangs their TraceSpan on them), lets
// the test Prometheus (native histograms and exemplar storage on, as in compose) scrape it, and
// asks for the exemplars of each exemplar-showing panel's query, as Grafana does: each panel
// gets exemplars, and every trace id is one that was fed.
//
// A second Prometheus, without native histograms, scrapes the same feed: there every quantile
// panel answers from the classic buckets (the fallback branch), while the test Prometheus, as
// Prometheus 2.42 does with the feature on, holds no _bucket series at all.
func TestLatencyPanelsShowExemplars(t *testing.T) {
	need(t, env.prom)
	classic, err := startPrometheus(findBinary("prometheus"), t.TempDir(), []string{env.kindTargets[2]})
	if err != nil {
		t.Fatal(err)
	}
	defer classic.stop()
	testID := fmt.Sprintf("exemplars-%d", time.Now().UnixNano())
	out, err := prometheus.New(prometheus.Config{Listen: env.kindTargets[2], TestID: testID, Linger: 3 * time.Second}, outputs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	fed := map[string]bool{}
	from := time.Now()
	httpTags := &metrics.Tags{Scenario: "rest", Step: "quote", Target: "api", Method: "GET", URL: "/api/stocks/{symbol}", Group: "http"}
	wsTags := &metrics.Tags{Scenario: "stream", Step: "osc", Target: "api", Method: "WS", URL: "/api/oscilloscope/ws", Group: "ws"}
	// Batches over 4 s, so that rate() over the scrapes has something to show.
	for i := 0; i < 8; i++ {
		var batch []metrics.Sample
		for j := 0; j < 50; j++ {
			span := &metrics.TraceSpan{Sampled: j%10 == 0}
			span.TraceID[0], span.TraceID[1], span.TraceID[15] = byte(i), byte(j), 1
			span.SpanID[7] = byte(j + 1)
			if span.Sampled {
				fed[hex.EncodeToString(span.TraceID[:])] = true
			}
			now := time.Now().UnixNano()
			batch = append(batch,
				metrics.Sample{Metric: metrics.HTTPReqs, Time: now, Value: 1, Tags: httpTags, Status: 200},
				metrics.Sample{Metric: metrics.HTTPReqDuration, Time: now, Value: 5 + float64(j), Tags: httpTags, Status: 200, Span: span},
				metrics.Sample{Metric: metrics.WSConnecting, Time: now, Value: 2 + float64(j%5), Tags: wsTags, Span: span},
				metrics.Sample{Metric: metrics.WSExpectDuration, Time: now, Value: 20 + float64(j%5), Tags: wsTags},
				metrics.Sample{Metric: metrics.IterationDuration, Time: now, Value: 100 + float64(j), Tags: &metrics.Tags{Scenario: "rest"}})
		}
		out.Emit(batch)
		time.Sleep(500 * time.Millisecond)
	}
	if err := out.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	to := time.Now()
	sub := promSub(testID, from, to)
	checkQuantileFallback(t, testID, from, to, classic)
	for title, expr := range exemplarTargets(t) {
		if strings.HasPrefix(title, "Application") {
			continue // TestApplicationRowShowsTheApp
		}
		ids, err := panelExemplars(sub.Replace(expr), from.Add(-time.Second), to)
		if err != nil {
			t.Errorf("panel %q: %v", title, err)
			continue
		}
		unknown := 0
		for _, id := range ids {
			if !fed[id] {
				unknown++
			}
		}
		if len(ids) == 0 || unknown > 0 {
			t.Errorf("panel %q: %d exemplars, %d of them with a trace id never fed (%d sampled traces fed)", title, len(ids), unknown, len(fed))
		} else {
			t.Logf("panel %q: %d exemplars, every trace id one of the %d sampled traces", title, len(ids), len(fed))
		}
	}
}

// checkQuantileFallback runs every loadplan quantile panel of the Prometheus dashboard against
// the test Prometheus (native histograms) and a classic one: both answer, and the test
// Prometheus has no classic bucket series to answer from.
func checkQuantileFallback(t *testing.T, testID string, from, to time.Time, classic *server) {
	t.Helper()
	d, err := loadDashboard(filepath.Join(dashboardsDir, "loadplan-prometheus.json"))
	if err != nil {
		t.Fatal(err)
	}
	sub := promSub(testID, from, to)
	n := 0
	for _, p := range allPanels(d) {
		for _, tg := range p.Targets {
			if !strings.Contains(tg.Expr, "histogram_quantile") || strings.HasPrefix(p.Title, "Application") {
				continue
			}
			native, fallback, _ := strings.Cut(sub.Replace(tg.Expr), ") or histogram_quantile(")
			native, fallback = native+")", "histogram_quantile("+fallback
			for _, c := range []struct {
				srv       *server
				q         string
				want      bool
				storeKind string
			}{{env.prom, tg.Expr, true, "native"}, {env.prom, fallback, false, "native"}, {classic, tg.Expr, true, "classic"}, {classic, native, false, "classic"}} {
				q := sub.Replace(c.q)
				res, err := promQueryAt(c.srv, q, from, to, time.Second)
				if err != nil {
					t.Errorf("panel %q %s on the %s Prometheus: %v", p.Title, tg.RefID, c.storeKind, err)
				} else if promHasValue(res) != c.want {
					t.Errorf("panel %q %s on the %s Prometheus: data %v, want %v: %s", p.Title, tg.RefID, c.storeKind, !c.want, c.want, q)
				}
			}
			n++
		}
	}
	if n < 5 {
		t.Errorf("only %d quantile queries", n)
	}
	t.Logf("%d quantile queries answer from native histograms on Prometheus 2.42 with the feature (which keeps no _bucket series) and from the classic buckets on one without", n)
}

// TestApplicationRowShowsTheApp serves an application's metrics as the FastAPI instrumentator
// names them (http_requests_total by handler, method and grouped status; classic
// http_request_duration_seconds buckets, with exemplars) on the address the test Prometheus
// scrapes as job "app": with job=app the Application row shows its rate, its 5xx share (1 in
// 40 requests here) and its p95 from the classic buckets, with the exemplars; with the default
// empty job it shows nothing (TestEveryDashboardQueryReturnsData).
func TestApplicationRowShowsTheApp(t *testing.T) {
	need(t, env.prom)
	reg := prom.NewRegistry()
	reqs := prom.NewCounterVec(prom.CounterOpts{Name: "http_requests_total", Help: "Total number of requests by method, status and handler."}, []string{"method", "status", "handler"})
	dur := prom.NewHistogramVec(prom.HistogramOpts{Name: "http_request_duration_seconds", Help: "Latency with only few buckets by handler.",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}}, []string{"method", "handler"})
	reg.MustRegister(reqs, dur)
	ln, err := net.Listen("tcp", env.appTarget)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})}
	go srv.Serve(ln)
	defer srv.Close()

	// 39 answers of 20 ms and one 500 of 200 ms every 100 ms for 5 s.
	from := time.Now()
	for i := 0; i < 50; i++ {
		reqs.WithLabelValues("GET", "2xx", "/api/stocks").Add(39)
		reqs.WithLabelValues("GET", "5xx", "/api/stocks").Add(1)
		for j := 0; j < 39; j++ {
			dur.WithLabelValues("GET", "/api/stocks").Observe(0.02)
		}
		dur.WithLabelValues("GET", "/api/stocks").(prom.ExemplarObserver).ObserveWithExemplar(0.2, prom.Labels{"trace_id": fmt.Sprintf("%032x", i+1)})
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // two more scrapes
	to := time.Now()

	d, err := loadDashboard(filepath.Join(dashboardsDir, "loadplan-prometheus.json"))
	if err != nil {
		t.Fatal(err)
	}
	sub := strings.NewReplacer("$job", "app", "$__rate_interval", "4s")
	for _, p := range allPanels(d) {
		if !strings.HasPrefix(p.Title, "Application") || p.Type == "row" {
			continue
		}
		q := sub.Replace(p.Targets[0].Expr)
		res, err := promQuery(q, from, to, time.Second)
		var vals []float64
		if err == nil {
			for _, s := range res.Data.Result {
				for _, pt := range s.Values {
					if f, perr := strconv.ParseFloat(fmt.Sprint(pt[1]), 64); perr == nil && !math.IsNaN(f) {
						vals = append(vals, f)
					}
				}
			}
		}
		if err != nil || len(vals) == 0 {
			t.Errorf("panel %q: no data for job=app (%v): %s", p.Title, err, q)
			continue
		}
		last := vals[len(vals)-1]
		switch p.Title {
		case "Application errors":
			if math.Abs(last-0.025) > 0.005 {
				t.Errorf("5xx share %v, the app answered 1 in 40 with a 500", last)
			}
		case "Application p95 latency":
			// The 95th of 40 falls in the 20 ms answers' bucket (0.01, 0.025]; the 500s are in (0.1, 0.25].
			if last <= 0.01 || last > 0.025 {
				t.Errorf("p95 %v, want within the (0.01, 0.025] bucket", last)
			}
			ids, err := panelExemplars(q, from, to)
			if err != nil || len(ids) == 0 {
				t.Errorf("no exemplars of the app's histogram (%v)", err)
			}
		}
		t.Logf("panel %q with job=app: %d points, last %v", p.Title, len(vals), last)
	}
}
