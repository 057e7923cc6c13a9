package executor

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// diePlan is the busy-loop case, smaller: VUs with think times of 0.5–1.5 s whose first
// request captures a required token.
const diePlan = `
variable "host" {}
target "api" { base_url = var.host }
scenario "rest" {
  think_time = "500ms..1500ms"
  http "login" {
    path = "/api/login"
    check { status = 200 }
    capture "token" { json = "token" }
  }
  http "quote" {
    path    = "/api/quote"
    headers = { Authorization = "Bearer ${capture.token}" }
  }
}
load {
  vus           = %d
  duration      = "%s"
  graceful_stop = "5s"
}
`

// TestDeadTargetKeepsThePacing kills the target mid-run: the logins that follow fail, so their
// required capture is missing and the iteration ends at once — before the fix, without its think
// time, a busy loop of refused connections (21.5k/s from 20 VUs in issue 9). Each VU must still
// make at most one attempt per think_time minimum.
func TestDeadTargetKeepsThePacing(t *testing.T) {
	const (
		vus      = 10
		seconds  = 3
		killAt   = 15 // logins served before the server dies, in the second round of iterations
		thinkMin = 0.5
	)
	var logins, hits atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/api/login" {
			if logins.Add(1) == killAt {
				go srv.Close() // waits for the handlers in flight: they still answer
			}
			fmt.Fprintf(w, `{"token":"t%d"}`, logins.Load())
			return
		}
		w.Write([]byte(`{"price":1}`))
	}))
	defer srv.Close()
	p := loadPlan(t, t.TempDir(), fmt.Sprintf(diePlan, vus, fmt.Sprint(seconds, "s")), srv.URL)
	col, _ := run(t, Config{Plan: p})

	served := logins.Load()
	iters := int64(col.sum(metrics.Iterations))
	failed := iters - served // every iteration makes one login; the failed ones stop there
	// One attempt per VU per think_time minimum over the whole run, plus the one in flight: a
	// busy loop would be ~100× over.
	bound := int64(vus * (seconds/thinkMin + 2))
	t.Logf("server: %d requests (%d logins) before it died; loadplan: %d iterations, %d after the kill (bound %d)",
		hits.Load(), served, iters, failed, bound)
	if served < killAt {
		t.Fatalf("the server served %d logins, want it killed at the %dth", served, killAt)
	}
	if failed <= 0 || failed > bound {
		t.Errorf("%d login attempts after the kill, want 1..%d (pacing of %d VUs over %d s)", failed, bound, vus, seconds)
	}
	// What the server received, loadplan counted: every 200 is a request the server answered, and
	// the requests that left the machine are those the server received plus at most one per VU
	// written as it died (the server's handler may even have run for it while the connection was
	// torn down under the response: counted by both, a 200 for the server, a failure for us).
	ok, sent := int64(0), int64(0)
	for _, s := range col.store.Snapshot() {
		if s.Key.Metric == metrics.HTTPReqs {
			sent += int64(s.Sum)
			if s.Key.Status == 200 {
				ok += int64(s.Sum)
			}
		}
	}
	if n := hits.Load(); ok > n || sent < n || sent > n+vus {
		t.Errorf("loadplan counted %d requests (%d answered 200); the server received %d", sent, ok, n)
	}
	// Each failed iteration still ended with an error sample naming why.
	if e := col.errors(); int64(e["capture token missing"]+e["connection refused"]) < failed {
		t.Errorf("errors %v for %d failed iterations", e, failed)
	}
}

// TestRefusedTargetIsReportedUnreachable runs iterations against a closed port: the backoff's
// floor (50+100+200+400 ms before the 5th attempt, then 800 ms) makes the run outlast the
// threshold without any clock in the test.
func TestRefusedTargetIsReportedUnreachable(t *testing.T) {
	srv := newCounter(t, nil)
	url := srv.URL
	srv.Close()
	p := loadPlan(t, t.TempDir(), strings.ReplaceAll(`
variable "host" {}
target "api" { base_url = var.host }
scenario "s" {
  http "a" { path = "/" }
}
load {
  model      = "per_vu_iterations"
  vus        = 1
  iterations = 5
}
`, "\n\n", "\n"), url)
	col := newCollector()
	e, err := New(Config{Plan: p, Sink: col, UnreachableAfter: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if st := e.Status(); len(st.Unreachable) != 0 {
		t.Errorf("before the run: %v", st.Unreachable)
	}
	res := e.Run(t.Context())
	if len(res.Unreachable) != 1 {
		t.Fatalf("Result.Unreachable = %v, want the one target", res.Unreachable)
	}
	o := res.Unreachable[0]
	if o.Cause != "connection refused" || o.Until != 0 || o.Since > res.End.Sub(res.Start)-500*time.Millisecond {
		t.Errorf("outage %+v over a run of %s", o, res.End.Sub(res.Start))
	}
	if got, want := o.String(), "target unreachable since 0:00: connection refused"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if st := e.Status(); len(st.Unreachable) != 1 || st.Unreachable[0] != o {
		t.Errorf("Status().Unreachable = %v, want %v", st.Unreachable, o)
	}
	if e := col.errors(); e["connection refused"] != 5 {
		t.Errorf("errors %v, want 5 × connection refused", e)
	}
}

// TestWebSocketRefusedUpgradeBacksOff answers 403 to every upgrade: each VU backs off (the
// handshakes stay within the backoff's floor, where there were 3,300/s), every refused
// handshake is one ws_errors sample equal to the server's count, and the errors table has one
// label for it.
func TestWebSocketRefusedUpgradeBacksOff(t *testing.T) {
	var handshakes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handshakes.Add(1)
		http.Error(w, "forbidden", http.StatusForbidden)
	}))
	defer srv.Close()
	const vus, seconds = 2, 2
	p := loadPlan(t, t.TempDir(), fmt.Sprintf(`
variable "host" {}
target "api" { base_url = var.host }
scenario "ws" {
  websocket "feed" {
    path = "/ws"
    send "hello" { text = "hi" }
  }
}
load {
  vus      = %d
  duration = "%ds"
}
`, vus, seconds), srv.URL)
	col, _ := run(t, Config{Plan: p})

	n := handshakes.Load()
	// Floors of the waits: 50, 100, 200, 400, 800 ms (1.55 s), then 1.6 s: at most 6 handshakes
	// per VU in 2 s; 8 leaves room for a slow machine stretching the run's end.
	t.Logf("server received %d handshakes from %d VUs in %d s", n, vus, seconds)
	if n < vus || n > vus*8 {
		t.Errorf("server received %d handshakes, want %d..%d", n, vus, vus*8)
	}
	if got := int64(col.sum(metrics.WSErrors)); got != n {
		t.Errorf("ws_errors = %d, server received %d handshakes", got, n)
	}
	labels := map[string]float64{}
	for _, s := range col.store.Snapshot() {
		if s.Key.Metric == metrics.Errors || s.Key.Metric == metrics.WSErrors {
			labels[s.Key.Metric.String()+" "+s.Key.Label] += s.Sum
		}
	}
	if len(labels) != 1 || labels["ws_errors handshake_403"] != float64(n) {
		t.Errorf("error rows %v, want one: ws_errors handshake_403 = %d", labels, n)
	}
}

// TestOpenModelDoesNotBackOff: against a refused target the arrival rate alone paces the
// attempts; backing VUs off would drop iterations and call the generator saturated.
func TestOpenModelDoesNotBackOff(t *testing.T) {
	srv := newCounter(t, nil)
	url := srv.URL
	srv.Close()
	// 2 VUs for 20 refused attempts a second: a backing-off VU would wait 50 ms, 100, 200, 400
	// ms… before its next, so the two would make about 9 and 11 would drop; without backoff a
	// refused dial takes well under a millisecond. Two drops are tolerated for a loaded machine
	// that does not schedule a VU in time.
	l := withDefaults(&plan.Load{Model: plan.ArrivalRate, PreAllocatedVUs: 2, MaxVUs: 2, MaxDroppedIterations: 2,
		Stages: []plan.Stage{{Duration: time.Second, Target: 20}}, StartRate: 20})
	col, res := run(t, Config{Plan: planOf(l, httpStepOf("s", "a", "GET", url))})
	if res.Saturated || col.sum(metrics.DroppedIterations) > 2 {
		t.Errorf("saturated %v (%s), dropped %v", res.Saturated, res.SaturationReason, col.sum(metrics.DroppedIterations))
	}
	if got := col.errors()["connection refused"]; got < 15 || got > 21 {
		t.Errorf("%d refused attempts, want the plan's 20 (1 s at 20/s)", got)
	}
}
