package integration

import (
	"encoding/csv"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
)

// traceE2EPlan: 25 iterations/s for 6 s, each two requests to the app, one trace per iteration
// of which a fifth are sampled. The app answers 0.3 to about 0.8 s late for two seconds from its
// second one.
const traceE2EPlan = `
variable "app" {
  type = string
}

variable "rw" {
  type = string
}

output "prometheus_remote_write" {
  url      = var.rw
  interval = "1s"
}

tracing {
  sampling = 0.2
}

target "app" {
  base_url = var.app
}

scenario "quotes" {
  target = target.app
  http "aapl" {
    path = "/api/stocks/AAPL"
    check {
      status = 200
    }
  }
  http "msft" {
    path = "/api/stocks/MSFT"
    check {
      status = 200
    }
  }
}

load {
  model             = "arrival_rate"
  rate              = 25
  duration          = "6s"
  pre_allocated_vus = 100
}
`

// spikeSeconds is the traced app's added latency in its spike (SPIKE_MS in traced_app.py).
const spikeSeconds = 0.3

// TestTraceE2EFastAPI is the "done when", end to end: loadplan, with tracing on
// (sampling 0.2) and its Prometheus output, loads a FastAPI backend instrumented as a team's is
// (testdata/traced_app.py: a middleware that reads the W3C traceparent and observes the app's own
// histogram with the trace id as exemplar), and a real Prometheus with exemplar storage scrapes
// both, as jobs loadplan and app. Then:
//   - every request the app saw carried a valid traceparent, and it saw as many as loadplan's
//     http_reqs; the sampled trace ids it saw are those of loadplan's CSV;
//   - loadplan's latency exemplars (the dashboard's "Latency percentiles" query) name only
//     sampled traces the app saw, each with the span id of the request the app received — the
//     backend span's parent — and none of an unsampled trace;
//   - the top exemplar, on the latency spike, is a trace among the app's exemplars too (the
//     dashboard's "Application p95 latency" query with job=app): the jump from the load's panel
//     to the backend's trace;
//   - every panel of the dashboard's Application row has data for job=app;
//   - the same run, remote-written to a second Prometheus (the receiver, as Mimir), has its
//     http_reqs there and exemplars of the app's sampled requests, the spike's top among them.
func TestTraceE2EFastAPI(t *testing.T) {
	bin := testkit.Binary(t)
	promBin := findBinary("prometheus")
	if promBin == "" {
		need(t, nil)
	}
	app := startTracedApp(t)
	scrape, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	// Without native histograms: Prometheus 2.42 keeps one exemplar per scrape of a native
	// histogram (TestExemplarsNativeHistograms), and every one of the classic buckets'.
	prom, err := startPrometheusJobs(promBin, t.TempDir(), map[string][]string{"loadplan": {scrape}, "app": {app.addr}},
		"--enable-feature=exemplar-storage")
	if err != nil {
		t.Fatal(err)
	}
	defer prom.stop()
	// The remote-write receiver, as Mimir would be: loadplan writes to it, nothing scrapes it
	// (its one job scrapes the first Prometheus, so that it has a target to be ready with).
	rw, err := startPrometheusJobs(promBin, t.TempDir(), map[string][]string{"prometheus": {prom.addr}},
		"--web.enable-remote-write-receiver", "--enable-feature=exemplar-storage,native-histograms")
	if err != nil {
		t.Fatal(err)
	}
	defer rw.stop()

	dir := t.TempDir()
	planFile, export, csvFile := filepath.Join(dir, "traced.hcl"), filepath.Join(dir, "summary.json"), filepath.Join(dir, "run.csv")
	if err := os.WriteFile(planFile, []byte(traceE2EPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	const testID = "trace-e2e"
	from := time.Now()
	code, out := apply(t, exec.Command(bin, "apply", "--no-progress", "-var", "app="+app.url(), "-var", "rw="+rw.url()+"/api/v1/write", "--summary-export", export,
		"--out", "prometheus="+scrape+",linger=3s,testid="+testID, "--out", "csv="+csvFile, planFile))
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	reqs := exportedCount(t, export, "http_reqs")

	// What the app received.
	seen := app.seen(t)
	if len(seen.invalid) > 0 {
		t.Errorf("%d of %d requests without a valid traceparent, e.g. %q", len(seen.invalid), seen.requests, seen.invalid[0])
	}
	if float64(seen.requests) != reqs || reqs < 250 {
		t.Fatalf("the app saw %d requests, loadplan reports %v (want the same, about 300)", seen.requests, reqs)
	}
	for id := range seen.sampled {
		if seen.unsampled[id] {
			t.Errorf("trace %s came both sampled and not: the flag is drawn once per iteration", id)
		}
	}
	if len(seen.sampled) == 0 || len(seen.unsampled) == 0 {
		t.Fatalf("%d sampled and %d unsampled traces; sampling 0.2 of about 150 iterations should give both", len(seen.sampled), len(seen.unsampled))
	}
	// loadplan's own record of the sampled traces, the CSV's trace_id column, is the app's.
	csvTraces := csvTraceIDs(t, csvFile)
	if !maps.Equal(csvTraces, seen.sampled) {
		t.Errorf("the CSV names %d sampled traces, the app saw %d: they differ", len(csvTraces), len(seen.sampled))
	}
	t.Logf("the app saw %d requests, all with a valid traceparent: %d traces sampled, %d not, %d distinct spans; loadplan: http_reqs %v, %d sampled traces in the CSV",
		seen.requests, len(seen.sampled), len(seen.unsampled), len(seen.spans), reqs, len(csvTraces))

	// The final scrapes (loadplan lingers 3 s; the app stays up) are in Prometheus.
	if got := waitValue(t, prom, fmt.Sprintf(`sum(loadplan_http_reqs_total{job="loadplan",testid=%q})`, testID), reqs); got != reqs {
		t.Errorf("Prometheus has %v of loadplan's http_reqs, the summary %v", got, reqs)
	}
	appCount := float64(seen.requests)
	if got := waitValue(t, prom, `sum(http_requests_total{job="app"})`, appCount); got != appCount {
		t.Errorf("Prometheus has %v of the app's http_requests_total, the app saw %v", got, appCount)
	}
	to := time.Now()

	// Loadplan's exemplars, as the "Latency percentiles" panel asks for them.
	exprs := exemplarTargets(t)
	sub := promSub(testID, from, to)
	loadEx, err := exemplarsOf(prom, sub.Replace(exprs["Latency percentiles"]))
	if err != nil || len(loadEx) == 0 {
		t.Fatalf("no exemplars for loadplan's latency panel (%v)", err)
	}
	loadIDs := map[string]bool{}
	var spikeIDs []string
	top := loadEx[0]
	for _, e := range loadEx {
		if e.Value > top.Value {
			top = e
		}
		loadIDs[e.TraceID] = true
		switch {
		case seen.unsampled[e.TraceID]:
			t.Errorf("exemplar %s/%s is of an unsampled trace", e.TraceID, e.SpanID)
		case !seen.sampled[e.TraceID]:
			t.Errorf("exemplar trace id %s is none the app saw sampled", e.TraceID)
		case !seen.spans[e.TraceID+"/"+e.SpanID]:
			t.Errorf("exemplar %s/%s: the app saw that trace, but no request with parent span %s", e.TraceID, e.SpanID, e.SpanID)
		}
		if e.Value >= spikeSeconds && !slices.Contains(spikeIDs, e.TraceID) {
			spikeIDs = append(spikeIDs, e.TraceID)
		}
	}

	// The app's own, as its "Application p95 latency" panel asks for them.
	appSub := strings.NewReplacer("$job", "app", "$__rate_interval", "4s")
	appEx, err := exemplarsOf(prom, appSub.Replace(exprs["Application p95 latency"]))
	if err != nil || len(appEx) == 0 {
		t.Fatalf("no exemplars for the app's latency panel (%v)", err)
	}
	appIDs, both := map[string]bool{}, 0
	for _, e := range appEx {
		if !seen.sampled[e.TraceID] {
			t.Errorf("the app's exemplar trace id %s is no sampled trace it saw", e.TraceID)
		}
		if !appIDs[e.TraceID] && loadIDs[e.TraceID] {
			both++
		}
		appIDs[e.TraceID] = true
	}
	spikeFollowed := 0
	for _, id := range spikeIDs {
		if appIDs[id] {
			spikeFollowed++
		}
	}
	t.Logf("exemplars: loadplan %d (%d traces, %d on the spike), the app %d (%d traces); %d traces in both, %d of the spike's",
		len(loadEx), len(loadIDs), len(spikeIDs), len(appEx), len(appIDs), both, spikeFollowed)
	// The click: the top of the spike on loadplan's panel is a trace the app's panel has too.
	if len(spikeIDs) == 0 {
		t.Errorf("no loadplan exemplar at or above %v s: the spike's sampled requests left none", spikeSeconds)
	} else if !appIDs[top.TraceID] {
		t.Errorf("the slowest exemplar of loadplan's panel, trace %s (%.3f s), is not among the app's exemplars %v", top.TraceID, top.Value, appIDs)
	} else {
		t.Logf("the slowest exemplar, %.3f s, trace %s span %s: the app received that span's request and shows the trace", top.Value, top.TraceID, top.SpanID)
	}

	checkApplicationRow(t, prom, from, to)
	checkRemoteWrittenExemplars(t, rw, seen, reqs, top)
}

// checkApplicationRow runs the Application row's queries of the Prometheus dashboard with
// job=app against prom over [from, to]: each returns data, and the error share is 0 (the app
// answered no 5xx).
func checkApplicationRow(t *testing.T, prom *server, from, to time.Time) {
	t.Helper()
	d, err := loadDashboard(filepath.Join(dashboardsDir, "loadplan-prometheus.json"))
	if err != nil {
		t.Fatal(err)
	}
	sub := strings.NewReplacer("$job", "app", "$__rate_interval", "4s")
	n := 0
	for _, p := range allPanels(d) {
		if !strings.HasPrefix(p.Title, "Application") || p.Type == "row" {
			continue
		}
		for _, tg := range p.Targets {
			q := sub.Replace(tg.Expr)
			res, err := promQueryAt(prom, q, from, to, time.Second)
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
			n++
			if p.Title == "Application errors" && slices.Max(vals) != 0 {
				t.Errorf("the app answered no 5xx, its error panel shows up to %v", slices.Max(vals))
			}
			t.Logf("panel %q with job=app: %d points, max %.3g", p.Title, len(vals), slices.Max(vals))
		}
	}
	if n != 3 {
		t.Errorf("%d Application queries answered, want 3", n)
	}
}

// checkRemoteWrittenExemplars checks what the traced run remote-wrote to rw (a Prometheus with
// the receiver, exemplar storage and native histograms, as Mimir takes them): its http_reqs
// equal the summary's, and the latency histogram's exemplars are of sampled traces the app saw,
// each with the span id of the request it received, none of an unsampled trace; the top of the
// spike (top, the slowest exemplar scraped) is among them, on both the native and the classic
// histogram.
func checkRemoteWrittenExemplars(t *testing.T, rw *server, seen seenTraces, reqs float64, top promExemplar) {
	t.Helper()
	if got := waitValue(t, rw, `sum(loadplan_http_reqs_total{job=""})`, reqs); got != reqs {
		t.Errorf("the remote-written http_reqs are %v, the summary's %v", got, reqs)
	}
	for _, q := range []string{`loadplan_http_req_duration_seconds{job=""}`, `loadplan_http_req_duration_seconds_bucket{job=""}`} {
		ex, err := exemplarsOf(rw, q)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, e := range ex {
			ids[e.TraceID] = true
			if !seen.sampled[e.TraceID] || !seen.spans[e.TraceID+"/"+e.SpanID] {
				t.Errorf("remote-written exemplar %s/%s: no sampled request the app received (unsampled trace: %v)",
					e.TraceID, e.SpanID, seen.unsampled[e.TraceID])
			}
		}
		if !ids[top.TraceID] {
			t.Errorf("remote-written %s: %d exemplars, without the top of the spike, trace %s", q, len(ex), top.TraceID)
		}
		t.Logf("remote-written %s: %d exemplars, %d traces, the spike's top among them", q, len(ex), len(ids))
	}
}

// csvTraceIDs returns the trace ids of the CSV's request rows (those sampled or failed).
func csvTraceIDs(t *testing.T, file string) map[string]bool {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("%s: %d rows (%v)", file, len(rows), err)
	}
	col := slices.Index(rows[0], "trace_id")
	if col < 0 {
		t.Fatalf("%s has no trace_id column: %q", file, rows[0])
	}
	ids := map[string]bool{}
	for _, r := range rows[1:] {
		if r[0] == "http_reqs" && r[col] != "" {
			ids[r[col]] = true
		}
	}
	return ids
}
