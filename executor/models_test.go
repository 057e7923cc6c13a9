package executor

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// checkCounts asserts that the samples agree with what the server saw.
func checkCounts(t *testing.T, col *collector, srv *counter, wantIters float64) {
	t.Helper()
	reqs := col.sum(metrics.HTTPReqs)
	if got := float64(srv.hits.Load()); reqs != got {
		t.Errorf("http_reqs = %v, server saw %v", reqs, got)
	}
	if wantIters >= 0 {
		if it := col.sum(metrics.Iterations); it != wantIters {
			t.Errorf("iterations = %v, want %v", it, wantIters)
		}
	}
	if n := col.series(metrics.HTTPReqDuration).Count; float64(n) != reqs {
		t.Errorf("http_req_duration has %d samples for %v requests", n, reqs)
	}
	if f := col.sum(metrics.HTTPReqFailed); f != 0 {
		t.Errorf("http_req_failed sum = %v, want 0", f)
	}
	if col.sum(metrics.DataSent) <= 0 || col.sum(metrics.DataReceived) <= 0 {
		t.Errorf("data_sent %v, data_received %v: want both > 0", col.sum(metrics.DataSent), col.sum(metrics.DataReceived))
	}
}

func TestPerVUIterationsCountsMatchServer(t *testing.T) {
	srv := newCounter(t, nil)
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 4, Iterations: 25})
	p := planOf(l, httpStepOf("s", "a", "GET", srv.URL+"/a"), httpStepOf("s", "b", "POST", srv.URL+"/b"))
	col, res := run(t, Config{Plan: p})
	if srv.hits.Load() != 200 {
		t.Errorf("server saw %d requests, want 200", srv.hits.Load())
	}
	checkCounts(t, col, srv, 100)
	if res.Saturated || res.Interrupted || res.Aborted {
		t.Errorf("result %+v", res)
	}
}

func TestSharedIterationsCountsMatchServer(t *testing.T) {
	srv := newCounter(t, nil)
	l := withDefaults(&plan.Load{Model: plan.SharedIterations, VUs: 7, Iterations: 101})
	col, _ := run(t, Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL))})
	if srv.hits.Load() != 101 {
		t.Errorf("server saw %d, want 101", srv.hits.Load())
	}
	checkCounts(t, col, srv, 101)
}

func TestClosedModelCountsMatchServer(t *testing.T) {
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		w.Write([]byte("ok"))
	})
	l := withDefaults(&plan.Load{Model: plan.Users, StartVUs: 1, Stages: []plan.Stage{
		{Duration: 300 * time.Millisecond, Target: 5}, {Duration: 300 * time.Millisecond, Target: 5}, {Duration: 200 * time.Millisecond, Target: 0},
	}})
	col, _ := run(t, Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL))})
	if srv.hits.Load() == 0 {
		t.Fatal("no request made")
	}
	checkCounts(t, col, srv, float64(srv.hits.Load()))
	vmax := col.series(metrics.VUsMax)
	if vmax.Max != 5 {
		t.Errorf("vus_max peaked at %v, want 5", vmax.Max)
	}
}

func TestOpenModelMakesExactlyTheScheduledIterations(t *testing.T) {
	srv := newCounter(t, nil)
	l := withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 50, PreAllocatedVUs: 5, MaxVUs: 50,
		Stages: []plan.Stage{{Duration: time.Second, Target: 50}, {Duration: time.Second, Target: 150}}})
	e, err := New(Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL))})
	if err != nil {
		t.Fatal(err)
	}
	want := uint64(e.Schedule().ExpectedIterations()) // 50 + 100 = 150
	if want != 150 {
		t.Fatalf("planned %d iterations, want 150", want)
	}
	col, res := run(t, Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL))})
	if res.Saturated {
		t.Fatalf("saturated: %s", res.SaturationReason)
	}
	if got := srv.hits.Load(); got != int64(want) {
		t.Errorf("server saw %d, want %d", got, want)
	}
	checkCounts(t, col, srv, float64(want))
	if d := col.sum(metrics.DroppedIterations); d != 0 {
		t.Errorf("dropped %v", d)
	}
	if n := col.series(metrics.ScheduleLag).Count; n != want {
		t.Errorf("schedule_lag samples %d, want %d", n, want)
	}
}

func TestOpenModelDropsWhenNoVUIsFree(t *testing.T) {
	release := make(chan struct{})
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) { <-release })
	l := withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 100, PreAllocatedVUs: 2, MaxVUs: 3,
		Stages: []plan.Stage{{Duration: 500 * time.Millisecond, Target: 100}}})
	e, err := New(Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL)), Sink: newCollector()})
	if err != nil {
		t.Fatal(err)
	}
	col := newCollector()
	e.cfg.Sink = col
	done := make(chan Result)
	go func() { done <- e.Run(context.Background()) }()
	time.Sleep(time.Second) // the 500 ms schedule is over; 3 VUs hold their requests
	close(release)
	res := <-done
	if got := col.sum(metrics.DroppedIterations); got != 47 {
		t.Errorf("dropped %v, want 47 (50 scheduled, 3 VUs)", got)
	}
	if col.sum(metrics.Iterations) != 3 || srv.hits.Load() != 3 {
		t.Errorf("iterations %v, server %d; want 3", col.sum(metrics.Iterations), srv.hits.Load())
	}
	if !res.Saturated || !strings.Contains(res.SaturationReason, "dropped") {
		t.Errorf("want saturated by dropped iterations, got %+v", res)
	}
}

func TestSegmentsSumToTheWhole(t *testing.T) {
	srv := newCounter(t, nil)
	const total = 3
	open := withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 40, PreAllocatedVUs: 4, MaxVUs: 20,
		Stages: []plan.Stage{{Duration: time.Second, Target: 40}}})
	shared := withDefaults(&plan.Load{Model: plan.SharedIterations, VUs: 4, Iterations: 29})
	perVU := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 5, Iterations: 3})
	for _, tc := range []struct {
		name string
		l    *plan.Load
		want int64
	}{{"arrival_rate", open, 40}, {"shared_iterations", shared, 29}, {"per_vu_iterations", perVU, 15}} {
		t.Run(tc.name, func(t *testing.T) {
			srv.hits.Store(0)
			var iters float64
			for i := 1; i <= total; i++ {
				col, _ := run(t, Config{Plan: planOf(tc.l, httpStepOf("s", "a", "GET", srv.URL)), Segment: Segment{i, total}})
				iters += col.sum(metrics.Iterations)
			}
			if got := srv.hits.Load(); got != tc.want || iters != float64(tc.want) {
				t.Errorf("%d segments: server %d, iterations %v; want %d", total, got, iters, tc.want)
			}
		})
	}
}

func TestTwoScenariosSharePlanLoadByWeight(t *testing.T) {
	srv := newCounter(t, nil)
	l := withDefaults(&plan.Load{Model: plan.SharedIterations, VUs: 4, Iterations: 40})
	a := &plan.Scenario{Name: "a", Weight: 3, Steps: []*plan.Step{{Kind: plan.HTTPStepKind, HTTP: httpStepOf("a", "x", "GET", srv.URL+"/a")}}}
	b := &plan.Scenario{Name: "b", Weight: 1, Steps: []*plan.Step{{Kind: plan.HTTPStepKind, HTTP: httpStepOf("b", "y", "GET", srv.URL+"/b")}}}
	own := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 5})
	c := &plan.Scenario{Name: "c", Weight: 1, Load: own, Steps: []*plan.Step{{Kind: plan.HTTPStepKind, HTTP: httpStepOf("c", "z", "GET", srv.URL+"/c")}}}
	p := &plan.Plan{Scenarios: []*plan.Scenario{a, b, c}, Load: l}
	col, _ := run(t, Config{Plan: p})
	per := map[string]float64{}
	for _, s := range col.store.Snapshot() {
		if s.Key.Metric == metrics.HTTPReqs {
			per[s.Key.Tags.Scenario] += s.Sum
		}
	}
	if per["a"] != 30 || per["b"] != 10 || per["c"] != 5 {
		t.Errorf("requests per scenario %v, want a:30 b:10 c:5", per)
	}
	checkCounts(t, col, srv, 45)

	// --scenario filters.
	srv.hits.Store(0)
	col, _ = run(t, Config{Plan: p, Scenarios: []string{"c"}})
	if srv.hits.Load() != 5 || col.sum(metrics.HTTPReqs) != 5 {
		t.Errorf("only c: server saw %d, http_reqs %v; want 5", srv.hits.Load(), col.sum(metrics.HTTPReqs))
	}
	if _, err := New(Config{Plan: p, Scenarios: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), "unknown scenario") {
		t.Errorf("unknown scenario: err = %v", err)
	}
}

// TestStopWhileBehindCountsDueIterationsAsDropped: iterations already due when a stop comes, but
// never started because the scheduler was behind, are counted as dropped, not forgotten. On the
// bubble's clock the run "started" exactly a second ago, so exactly iterations 0..10 are due.
func TestStopWhileBehindCountsDueIterationsAsDropped(t *testing.T) {
	srv := newCounter(t, nil) // outside the bubble: the test makes no request to it
	synctest.Test(t, func(t *testing.T) {
		l := withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 10, PreAllocatedVUs: 1,
			Stages: []plan.Stage{{Duration: 2 * time.Second, Target: 10}}})
		col := newCollector()
		e, err := New(Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL)), Sink: col})
		if err != nil {
			t.Fatal(err)
		}
		stop, cancel := context.WithCancel(context.Background())
		cancel()
		e.groups[0].runArrival(stop, stop, context.Background(), time.Now().Add(-time.Second))
		d := col.sum(metrics.DroppedIterations)
		if d != 11 || e.groups[0].dropped.Load() != uint64(d) {
			t.Errorf("dropped %v (counter %d), want the 11 iterations already due (at 0, 0.1 s, … 1 s)", d, e.groups[0].dropped.Load())
		}
	})
	if srv.hits.Load() != 0 {
		t.Errorf("server saw %d requests after the stop", srv.hits.Load())
	}
}
