package run_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/run"
)

// counter is a loopback target that counts every request it received; /fail answers 500, /hang
// holds the request until the client gives up (or a minute passes).
type counter struct {
	srv  *httptest.Server
	hits atomic.Int64
}

func newCounter(t *testing.T) *counter {
	t.Helper()
	c := &counter{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
		case "/hang":
			select {
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// load returns a plan hitting path on host with the given load and threshold blocks.
func load(t *testing.T, host, path, loadBlock, thresholds string) *plan.Plan {
	t.Helper()
	src := testkit.PlanSource(path, loadBlock, thresholds)
	p, diags := plan.LoadSource(filepath.Join(t.TempDir(), "plan.hcl"), []byte(src), plan.Options{Vars: map[string]string{"host": host}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return p
}

const (
	iterations200 = `load {
  model      = "shared_iterations"
  vus        = 4
  iterations = 200
}`
	minuteLong = `load {
  model    = "users"
  vus      = 4
  duration = "1m"
}`
)

// count is the run's total of metric m.
func count(res *run.Result, m metrics.Metric) float64 {
	return metrics.Combine(res.Report.Series, m, nil).Sum
}

// start makes and starts a run, failing the test on an error.
func start(t *testing.T, p *plan.Plan, cfg run.Config) *run.Run {
	t.Helper()
	r, err := run.New(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRunCountsWhatTheServerSaw(t *testing.T) {
	srv := newCounter(t)
	var out bytes.Buffer
	export := filepath.Join(t.TempDir(), "summary.json")
	r := start(t, load(t, srv.srv.URL, "/ok", iterations200, `threshold "http_reqs" {
  condition = "count == 200"
}`), run.Config{Title: "plan.hcl", Stdout: &out, Export: export})
	res := r.Wait()
	if res.Code != run.ExitOK || res.Verdict != run.ExitOK {
		t.Fatalf("code %d, verdict %d, want 0; notes %q\n%s", res.Code, res.Verdict, res.Report.Notes, out.String())
	}
	if got, want := count(res, metrics.HTTPReqs), float64(srv.hits.Load()); got != want || want != 200 {
		t.Errorf("http_reqs = %v, server saw %v, plan says 200", got, want)
	}
	if len(res.Report.Verdicts) != 1 || !res.Report.Verdicts[0].Pass {
		t.Errorf("verdicts %+v, want the one threshold passed", res.Report.Verdicts)
	}
	if !strings.Contains(out.String(), "scenario rest") {
		t.Errorf("no summary on Stdout:\n%s", out.String())
	}
	if st := r.Status(); st.Phase != run.Done {
		t.Errorf("phase after Wait %v, want done", st.Phase)
	}
}

func TestRunFailingThresholdIs99(t *testing.T) {
	srv := newCounter(t)
	r := start(t, load(t, srv.srv.URL, "/fail", iterations200, `threshold "http_req_failed" {
  condition = "rate < 0.01"
}`), run.Config{})
	res := r.Wait()
	if res.Code != run.ExitThreshold {
		t.Fatalf("code %d, want 99; notes %q", res.Code, res.Report.Notes)
	}
	if got, want := count(res, metrics.HTTPReqs), float64(srv.hits.Load()); got != want {
		t.Errorf("http_reqs = %v, server saw %v", got, want)
	}
	if v := res.Report.Verdicts; len(v) != 1 || v[0].Pass {
		t.Errorf("verdicts %+v, want the one threshold failed", v)
	}
}

// waitFor reads snapshots until ok holds for one, and returns it; it fails the test when the
// subscription ends first.
func waitFor(t *testing.T, ch <-chan run.Snapshot, ok func(run.Snapshot) bool) run.Snapshot {
	t.Helper()
	for snap := range ch {
		if ok(snap) {
			return snap
		}
	}
	t.Fatal("the subscription ended before the run got there")
	return run.Snapshot{}
}

func TestRunLiveViewAndStop(t *testing.T) {
	srv := newCounter(t)
	var out bytes.Buffer
	r := start(t, load(t, srv.srv.URL, "/ok", minuteLong, `threshold "http_reqs" {
  condition = "count > 0"
}`), run.Config{Stdout: &out})
	snaps, cancel := r.Subscribe(5 * time.Millisecond)
	defer cancel()
	live := waitFor(t, snaps, func(s run.Snapshot) bool {
		return metrics.Combine(s.Series, metrics.HTTPReqs, nil).Sum >= 50
	})
	if live.Status.Phase != run.Running || live.Status.VUs != 4 || live.Status.Start.IsZero() {
		t.Errorf("live status %+v, want running with 4 VUs", live.Status)
	}
	if len(live.Verdicts) != 1 || !live.Verdicts[0].Pass {
		t.Errorf("live verdicts %+v, want the one threshold passing so far", live.Verdicts)
	}
	if seen := metrics.Combine(live.Series, metrics.HTTPReqs, nil).Sum; seen > float64(srv.hits.Load()) {
		t.Errorf("the live view counts %v requests, more than the server's %d", seen, srv.hits.Load())
	}
	r.Stop()
	if st := r.Status(); !st.Interrupted {
		t.Errorf("status after Stop %+v, want interrupted", st)
	}
	res := r.Wait()
	if res.Code != run.ExitInterrupted || !res.Interrupted || res.Executor.Aborted {
		t.Fatalf("code %d interrupted %v aborted %v, want 105 after a graceful stop", res.Code, res.Interrupted, res.Executor.Aborted)
	}
	if got, want := count(res, metrics.HTTPReqs), float64(srv.hits.Load()); got != want {
		t.Errorf("http_reqs = %v, server saw %v", got, want)
	}
	if !strings.Contains(out.String(), "interrupted: the run stopped early") {
		t.Errorf("the summary does not say the run was interrupted:\n%s", out.String())
	}
	// The last snapshot is the final one: the run is done, the verdicts final, the counts whole.
	var last run.Snapshot
	for s := range snaps {
		last = s
	}
	if last.Status.Phase != run.Done || metrics.Combine(last.Series, metrics.HTTPReqs, nil).Sum != float64(srv.hits.Load()) {
		t.Errorf("last snapshot: phase %v, %v requests; want done, %d", last.Status.Phase,
			metrics.Combine(last.Series, metrics.HTTPReqs, nil).Sum, srv.hits.Load())
	}
	if len(last.Verdicts) != 1 || !last.Verdicts[0].Pass {
		t.Errorf("last snapshot's verdicts %+v, want the one threshold passed", last.Verdicts)
	}
}

func TestRunAbortCutsInFlightRequests(t *testing.T) {
	srv := newCounter(t)
	// graceful_stop is an hour and every request hangs: only Abort can end this run.
	r := start(t, load(t, srv.srv.URL, "/hang", `load {
  model         = "users"
  vus           = 3
  duration      = "10m"
  graceful_stop = "1h"
}`, ""), run.Config{})
	snaps, cancel := r.Subscribe(5 * time.Millisecond)
	defer cancel()
	waitFor(t, snaps, func(run.Snapshot) bool { return srv.hits.Load() >= 3 })
	r.Stop() // no new iterations; the three in flight hang on
	r.Abort()
	res := r.Wait()
	if res.Code != run.ExitInterrupted || !res.Executor.Aborted {
		t.Fatalf("code %d aborted %v, want 105 and aborted", res.Code, res.Executor.Aborted)
	}
	n := float64(srv.hits.Load())
	if got := count(res, metrics.HTTPReqs); got != n || n != 3 {
		t.Errorf("http_reqs = %v, server saw %v, want 3 (one per VU)", got, n)
	}
	if got := count(res, metrics.IterationsInterrupted); got != n {
		t.Errorf("iterations_interrupted = %v, want %v", got, n)
	}
	if !strings.Contains(strings.Join(res.Report.Notes, "\n"), "in-flight requests were aborted") {
		t.Errorf("notes %q do not say in-flight requests were aborted", res.Report.Notes)
	}
}

func TestRunUnreachableTargetFailsStart(t *testing.T) {
	srv := newCounter(t)
	url := srv.srv.URL
	srv.srv.Close() // its port now refuses connections
	r, err := run.New(load(t, url, "/ok", iterations200, ""), run.Config{})
	if err != nil {
		t.Fatal(err)
	}
	snaps, cancel := r.Subscribe(time.Hour)
	defer cancel()
	err = r.Start(context.Background())
	if err == nil || run.ExitCode(err) != run.ExitRuntime {
		t.Fatalf("Start: %v (exit %d), want a runtime error", err, run.ExitCode(err))
	}
	if last, ok := <-snaps; !ok || last.Status.Phase != run.Done {
		t.Errorf("subscription after a failed start: %+v, %v; want the final snapshot", last.Status, ok)
	}
	if _, ok := <-snaps; ok {
		t.Error("the subscription stays open after a failed start")
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("server saw %d requests", n)
	}
}

func TestRunUnknownScenarioIsAnInvalidPlan(t *testing.T) {
	srv := newCounter(t)
	_, err := run.New(load(t, srv.srv.URL, "/ok", iterations200, ""), run.Config{Scenarios: []string{"nope"}})
	var re *run.Error
	if !errors.As(err, &re) || run.ExitCode(err) != run.ExitInvalidPlan {
		t.Fatalf("New: %v (exit %d), want an invalid plan (104)", err, run.ExitCode(err))
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("server saw %d requests", n)
	}
}

func TestRunSubscribeAfterDone(t *testing.T) {
	srv := newCounter(t)
	r := start(t, load(t, srv.srv.URL, "/ok", iterations200, ""), run.Config{})
	res := r.Wait()
	snaps, cancel := r.Subscribe(0)
	defer cancel()
	var got []run.Snapshot
	for s := range snaps {
		got = append(got, s)
	}
	if len(got) != 1 || metrics.Combine(got[0].Series, metrics.HTTPReqs, nil).Sum != count(res, metrics.HTTPReqs) {
		t.Errorf("a subscription after the run got %d snapshots, want the final one alone", len(got))
	}
}

func TestRunWaitWithoutStartDoesNotHang(t *testing.T) {
	srv := newCounter(t)
	r, err := run.New(load(t, srv.srv.URL, "/ok", iterations200, ""), run.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if res := r.Wait(); res != nil {
		t.Errorf("Wait before Start returned %+v, want nil", res)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("server saw %d requests", n)
	}
}
