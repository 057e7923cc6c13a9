package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/prometheus"
)

// startRemoteWriteProm starts this test's own Prometheus with the remote-write receiver and
// native histograms on, scraping targets (none when nil).
func startRemoteWriteProm(t *testing.T, targets []string) *server {
	t.Helper()
	bin := findBinary("prometheus")
	if bin == "" {
		need(t, nil)
	}
	prom, err := startPrometheus(bin, filepath.Join(t.TempDir(), "rw"), targets,
		"--web.enable-remote-write-receiver", "--enable-feature=native-histograms")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prom.stop)
	return prom
}

// promValueAt is the first value of an instant query at t; false when it returned nothing.
func promValueAt(t *testing.T, s *server, q string, at time.Time) (float64, bool) {
	t.Helper()
	r, err := promQueryAt(s, q, at, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Data.Result) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(r.Data.Result[0].Value[1].(string), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v, true
}

// TestRemoteWriteSameCounts runs the rate plan (200 requests) with both Prometheus outputs: the
// remote write (--out prometheus_remote_write=URL) to a real Prometheus, which also scrapes the
// scrape output. The remote-written http_reqs and histogram counts equal the summary's and the
// test server's, and the remote-written counter series are the scraped ones, label for label
// and value for value (the scrape adds job and instance).
func TestRemoteWriteSameCounts(t *testing.T) {
	bin := testkit.Binary(t)
	scrape, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	prom := startRemoteWriteProm(t, []string{scrape})
	// Prometheus first scrapes about 5 s after it starts (service discovery's throttle): wait
	// for that (up = 0, nothing listens yet) so that it scrapes the whole run.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, ok := promValueAt(t, prom, "up", time.Time{}); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Prometheus did not scrape within 20 s")
		}
	}
	srv, hits := counting(t)
	export := filepath.Join(t.TempDir(), "summary.json")
	code, out := apply(t, exec.Command(bin, "apply", "--no-progress", "-var", "host="+srv.URL, "--summary-export", export,
		"--out", "prometheus_remote_write="+prom.url()+"/api/v1/write", "--out", "prometheus="+scrape, writePlan(t)))
	end := time.Now() // before Prometheus marks the scraped series stale
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	summary := exportedCount(t, export, "http_reqs")
	if hits.Load() != 200 || summary != 200 {
		t.Fatalf("server %d, summary %v requests; want 200", hits.Load(), summary)
	}
	// Prometheus commits a scrape a moment after the scraped output has answered: wait for the
	// final one (queried at the run's end, before the series go stale).
	scrapedSum := `sum(loadplan_http_reqs_total{job="loadplan", testid="rate"})`
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if v, _ := promValueAt(t, prom, scrapedSum, end); v == summary {
			break
		}
	}
	for q, want := range map[string]float64{
		`sum(loadplan_http_reqs_total{job=""})`:                                summary,
		`sum(loadplan_http_req_duration_seconds_count{job=""})`:                summary,
		`sum(loadplan_http_req_duration_seconds_bucket{job="", le="+Inf"})`:    summary,
		`histogram_count(sum(loadplan_http_req_duration_seconds{job=""}))`:     summary,
		`count(loadplan_http_req_duration_seconds_bucket{job="", le="1.0"})`:   1,
		`sum(loadplan_http_reqs_total{job="loadplan", testid="rate"})`:         summary,
		`count(loadplan_http_reqs_total{job="", testid="rate", status="200"})`: 1,
	} {
		got, ok := promValueAt(t, prom, q, end)
		if !ok || got != want {
			t.Errorf("%s = %v (found %v), want %v", q, got, ok, want)
		}
	}
	// The native histograms, both ways: same quantiles.
	for _, q := range []float64{0.5, 0.9, 0.99} {
		sel := `histogram_quantile(%g, sum(loadplan_http_req_duration_seconds{job="%s"}))`
		w, ok1 := promValueAt(t, prom, fmt.Sprintf(sel, q, ""), end)
		s, ok2 := promValueAt(t, prom, fmt.Sprintf(sel, q, "loadplan"), end)
		if !ok1 || !ok2 || w != s {
			t.Errorf("p%g: remote-written %v (%v), scraped %v (%v)", q*100, w, ok1, s, ok2)
		}
	}
	// The counters and gauges, both ways.
	r, err := promQueryAt(prom, `{__name__=~"loadplan_.+(_total|vus|vus_max)"}`, end, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	scraped, written := map[string]string{}, map[string]string{}
	for _, s := range r.Data.Result {
		m := s.Metric
		into := written
		if m["job"] != "" {
			into = scraped
			delete(m, "job")
			delete(m, "instance")
		}
		into[labelKey(m)] = s.Value[1].(string)
	}
	if len(written) == 0 || fmt.Sprint(written) != fmt.Sprint(scraped) {
		t.Errorf("remote-written series differ from the scraped ones:\nwritten %v\nscraped %v", written, scraped)
	}
}

// labelKey renders a label set in a stable order.
func labelKey(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, m[k])
	}
	return b.String()
}

// rwPlan is the rate plan writing every 500 ms, with a short final flush.
const rwPlan = ratePlan + `
variable "rw" {
  type = string
}

output "prometheus_remote_write" {
  url           = var.rw
  interval      = "500ms"
  flush_timeout = "2s"
  headers       = { "X-Scope-OrgID" = "loadplan-test" }
}
`

var droppedNote = regexp.MustCompile(`output prometheus_remote_write dropped (\d+) points`)

// TestRemoteWriteReceiverKilledMidRun kills the receiving Prometheus once it holds points of the
// run: the run keeps its schedule (the 200 requests, exit 0) and the summary reports the
// points that could not be written.
func TestRemoteWriteReceiverKilledMidRun(t *testing.T) {
	bin := testkit.Binary(t)
	prom := startRemoteWriteProm(t, nil)
	srv, hits := counting(t)
	path := filepath.Join(t.TempDir(), "rate.hcl")
	if err := os.WriteFile(path, []byte(rwPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(t.TempDir(), "summary.json")
	cmd := exec.Command(bin, "apply", "--no-progress", "-var", "host="+srv.URL, "-var", "rw="+prom.url()+"/api/v1/write",
		"--summary-export", export, path)
	done := make(chan struct{})
	var code int
	var out string
	go func() { defer close(done); code, out = runCmd(cmd) }()
	for written := false; !written; {
		select {
		case <-done:
			t.Fatalf("the run ended before Prometheus was killed:\n%s", out)
		case <-time.After(50 * time.Millisecond):
		}
		v, ok := promValueAt(t, prom, `sum(loadplan_http_reqs_total{testid="rate"})`, time.Time{})
		written = ok && v > 0
	}
	prom.stop()
	killedAt := hits.Load()
	<-done
	t.Logf("prometheus killed after %d requests; output:\n%s", killedAt, out)
	if code != 0 || killedAt >= 200 {
		t.Fatalf("exit %d, killed after %d requests; want 0 and before the 200th", code, killedAt)
	}
	if c := exportedCount(t, export, "http_reqs"); hits.Load() != 200 || c != 200 {
		t.Errorf("server saw %d requests, summary %v; want the 200 scheduled", hits.Load(), c)
	}
	m := droppedNote.FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Errorf("the summary does not report the dropped points")
	}
	if !strings.Contains(out, "writes were dropped") {
		t.Errorf("no warning of the failed writes")
	}
}

// TestRemoteWriteFinalFlushOnInterrupt interrupts a one-minute run with SIGINT (Ctrl-C) long
// before its first 5 s write: the final flush still reaches Prometheus, and the http_reqs it
// holds equal the summary's and the server's.
func TestRemoteWriteFinalFlushOnInterrupt(t *testing.T) {
	bin := testkit.Binary(t)
	prom := startRemoteWriteProm(t, nil)
	srv, hits := counting(t)
	dir := t.TempDir()
	planPath := filepath.Join(dir, "users.hcl")
	if err := os.WriteFile(planPath, []byte(usersPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(dir, "summary.json")
	cmd := exec.Command(bin, "apply", "--no-progress", "-var", "host="+srv.URL, "--summary-export", export,
		"--out", "prometheus_remote_write="+prom.url()+"/api/v1/write", planPath)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil { // started here: Signal must not race with Run's start
		t.Fatal(err)
	}
	done := make(chan struct{})
	var code int
	go func() { defer close(done); cmd.Wait(); code = cmd.ProcessState.ExitCode() }()
	for hits.Load() < 100 {
		select {
		case <-done:
			t.Fatalf("the run ended before the interrupt:\n%s", buf.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	<-done
	if code != 105 {
		t.Fatalf("exit %d, want 105:\n%s", code, buf.String())
	}
	want := exportedCount(t, export, "http_reqs")
	got, ok := promValueAt(t, prom, `sum(loadplan_http_reqs_total{testid="users"})`, time.Time{})
	if !ok || got != want || want != float64(hits.Load()) {
		t.Errorf("Prometheus holds %v http_reqs (found %v), the summary %v, the server %d", got, ok, want, hits.Load())
	}
}

// TestRemoteWriteNativeRefusedByPrometheus writes to a Prometheus whose native histograms are
// off: it refuses the first write for its native histograms, the output sends it again with the
// classic buckets only, and nothing is lost.
func TestRemoteWriteNativeRefusedByPrometheus(t *testing.T) {
	bin := findBinary("prometheus")
	if bin == "" {
		need(t, nil)
	}
	prom, err := startPrometheus(bin, filepath.Join(t.TempDir(), "classic"), nil, "--web.enable-remote-write-receiver")
	if err != nil {
		t.Fatal(err)
	}
	defer prom.stop()
	var mu sync.Mutex
	var logs []string
	rw, err := prometheus.NewRemoteWrite(prometheus.RemoteWriteConfig{URL: prom.url() + "/api/v1/write", NativeHistograms: true,
		TestID: "classic"}, outputs.Options{Logf: func(f string, a ...any) { mu.Lock(); logs = append(logs, fmt.Sprintf(f, a...)); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	tags := &metrics.Tags{Scenario: "s", Step: "get", Target: "api", Method: "GET", URL: "/x", Group: "http"}
	var batch []metrics.Sample
	for i := range 500 {
		batch = append(batch, metrics.Sample{Metric: metrics.HTTPReqDuration, Time: time.Now().UnixNano(), Value: float64(i % 50), Tags: tags, Status: 200})
	}
	rw.Emit(batch)
	if err := rw.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, ok := promValueAt(t, prom, `sum(loadplan_http_req_duration_seconds_count{testid="classic"})`, time.Time{}); !ok || got != 500 || rw.Dropped() != 0 {
		t.Errorf("Prometheus holds a count of %v (%v), %d points dropped; want 500 and none", got, ok, rw.Dropped())
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(logs, "\n"), "does not take native histograms") {
		t.Errorf("no warning: %q", logs)
	}
}
