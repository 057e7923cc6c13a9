package executor

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// longUsers is a closed-model load that would run for a minute.
func longUsers(vus float64, grace time.Duration) *plan.Load {
	l := withDefaults(&plan.Load{Model: plan.Users, StartVUs: int(vus), Stages: []plan.Stage{{Duration: time.Minute, Target: vus}}})
	l.GracefulStop = grace
	return l
}

func TestGracefulStopLetsInFlightFinish(t *testing.T) {
	started := make(chan struct{}, 100)
	release := make(chan struct{})
	var finished atomic.Int64
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		finished.Add(1)
	})
	col := newCollector()
	e, err := New(Config{Plan: planOf(longUsers(3, time.Minute), httpStepOf("s", "a", "GET", srv.URL)), Sink: col})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Result)
	go func() { done <- e.Run(context.Background()) }()
	for range 3 {
		<-started
	}
	e.Stop()
	e.Stop() // idempotent
	close(release)
	res := <-done
	if !res.Interrupted || res.Aborted {
		t.Errorf("result %+v, want interrupted", res)
	}
	if finished.Load() != 3 || col.sum(metrics.HTTPReqs) != 3 || col.sum(metrics.Iterations) != 3 {
		t.Errorf("server finished %d, http_reqs %v, iterations %v; want 3 each",
			finished.Load(), col.sum(metrics.HTTPReqs), col.sum(metrics.Iterations))
	}
	if col.sum(metrics.HTTPReqFailed) != 0 {
		t.Errorf("graceful stop failed requests")
	}
}

func TestGracefulStopTimesOutThenCancels(t *testing.T) {
	started := make(chan struct{}, 100)
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-r.Context().Done() // never answers
	})
	col := newCollector()
	e, err := New(Config{Plan: planOf(longUsers(2, 100*time.Millisecond), httpStepOf("s", "a", "GET", srv.URL)), Sink: col})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Result)
	go func() { done <- e.Run(context.Background()) }()
	<-started
	<-started
	e.Stop()
	res := <-done // returns once graceful_stop has cancelled the stuck requests
	if !res.Interrupted {
		t.Errorf("result %+v", res)
	}
	// The two requests on the wire are requests that failed as interrupted, without latency;
	// their iterations are interrupted, not completed.
	if col.sum(metrics.Iterations) != 0 || col.sum(metrics.IterationsInterrupted) != 2 || col.sum(metrics.HTTPReqs) != 2 ||
		col.sum(metrics.HTTPReqFailed) != 2 || col.series(metrics.HTTPReqDuration).Count != 0 {
		t.Errorf("iterations %v, iterations_interrupted %v, http_reqs %v, http_req_failed %v, durations %d; want 0, 2, 2, 2, 0",
			col.sum(metrics.Iterations), col.sum(metrics.IterationsInterrupted), col.sum(metrics.HTTPReqs),
			col.sum(metrics.HTTPReqFailed), col.series(metrics.HTTPReqDuration).Count)
	}
	if e := col.errors(); e["interrupted"] != 2 || len(e) != 1 {
		t.Errorf("errors %v, want 2 × interrupted", e)
	}
	if col.series(metrics.VUs).Count == 0 {
		t.Errorf("no vus gauge emitted")
	}
}

func TestCancelledContextAbortsAtOnce(t *testing.T) {
	started := make(chan struct{}, 100)
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-r.Context().Done()
	})
	e, err := New(Config{Plan: planOf(longUsers(2, time.Hour), httpStepOf("s", "a", "GET", srv.URL)), Sink: newCollector()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result)
	go func() { done <- e.Run(ctx) }()
	<-started
	cancel() // graceful_stop is an hour: only the hard abort can end this run
	res := <-done
	if !res.Aborted {
		t.Errorf("result %+v, want aborted", res)
	}
	if res2 := e.Run(context.Background()); res2.Err == nil {
		t.Errorf("second Run must fail")
	}
}

func TestDurationScalesStages(t *testing.T) {
	srv := newCounter(t, nil)
	l := withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 20, PreAllocatedVUs: 2, MaxVUs: 10,
		Stages: []plan.Stage{{Duration: 10 * time.Second, Target: 20}, {Duration: 10 * time.Second, Target: 20}}})
	e, err := New(Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL)), Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	spans := e.Stages()
	if len(spans) != 2 || spans[0].End != 500*time.Millisecond || spans[1].End != time.Second {
		t.Errorf("stages %+v, want two of 500ms", spans)
	}
	if st := e.Status(); st.Total != time.Second || st.StageCount != 2 {
		t.Errorf("status %+v", st)
	}
	probe := tickProbe(50 * time.Millisecond)
	col, _ := run(t, Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL)), Duration: time.Second, MaxVUs: 3})
	lost := probe()
	// 20 are scheduled (20/s for 1 s). Three VUs serve them with room to spare, unless the
	// machine stalls this process (load average ~20: all three busy once, one dropped, rightly
	// reported), which a 50 ms ticker losing ticks shows.
	iters, dropped := col.sum(metrics.Iterations), col.sum(metrics.DroppedIterations)
	if iters+dropped != 20 || float64(srv.hits.Load()) != iters || (dropped != 0 && lost <= 1) {
		t.Errorf("iterations %v + dropped %v, server %d; want 20 (20/s for 1 s), none dropped unless the machine stalled (a 50 ms ticker lost %d ticks)",
			iters, dropped, srv.hits.Load(), lost)
	}
	if m := col.series(metrics.VUsMax).Max; m > 3 {
		t.Errorf("vus_max %v over the cap of 3", m)
	}
}

func TestBadConfig(t *testing.T) {
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 1})
	p := planOf(l, httpStepOf("s", "a", "GET", "http://127.0.0.1:1"))
	for name, cfg := range map[string]Config{
		"no plan":     {},
		"bad segment": {Plan: p, Segment: Segment{3, 2}},
		"negative":    {Plan: p, Duration: -1},
		"bad url":     {Plan: planOf(l, httpStepOf("s", "a", "GET", "ftp://x"))},
		"no load":     {Plan: &plan.Plan{Scenarios: p.Scenarios}},
		"bad model":   {Plan: planOf(&plan.Load{Model: "weird"}, httpStepOf("s", "a", "GET", "http://127.0.0.1:1"))},
		"no stages":   {Plan: planOf(&plan.Load{Model: plan.Users}, httpStepOf("s", "a", "GET", "http://127.0.0.1:1"))},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestStopCutsThinkTimeShort: at a graceful stop an iteration in its think time skips the pause
// and runs its remaining steps at once, so it is counted instead of idling through graceful_stop.
func TestStopCutsThinkTimeShort(t *testing.T) {
	var a, b atomic.Int64
	started := make(chan struct{}, 10)
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/a" {
			a.Add(1)
			started <- struct{}{}
		} else {
			b.Add(1)
		}
	})
	stA := httpStepOf("s", "a", "GET", srv.URL+"/a")
	stA.ThinkTime = &plan.ThinkTime{Min: time.Hour, Max: time.Hour}
	col := newCollector()
	e, err := New(Config{Plan: planOf(longUsers(2, time.Hour), stA, httpStepOf("s", "b", "GET", srv.URL+"/b")), Sink: col})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Result)
	go func() { done <- e.Run(context.Background()) }()
	<-started
	<-started
	e.Stop() // both VUs are in their hour-long think time
	res := <-done
	if !res.Interrupted || a.Load() != 2 || b.Load() != 2 || col.sum(metrics.Iterations) != 2 {
		t.Errorf("a %d, b %d, iterations %v; want each VU to finish its iteration (2, 2, 2)", a.Load(), b.Load(), col.sum(metrics.Iterations))
	}
}
