package executor

import (
	"context"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// TestLatencyTruth: a server that sleeps 10 ms for 90% of requests and 100 ms for 10% must give
// p50 ≈ 10 ms and p95 ≈ 100 ms. The lower bounds are exact (nothing answers faster than the
// server sleeps); the upper bounds leave room for loopback and race-detector overhead.
func TestLatencyTruth(t *testing.T) {
	var n atomic.Int64
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			time.Sleep(100 * time.Millisecond)
		} else {
			time.Sleep(10 * time.Millisecond)
		}
		w.Write([]byte("ok"))
	})
	l := withDefaults(&plan.Load{Model: plan.SharedIterations, VUs: 10, Iterations: 200})
	probe := tickProbe(10 * time.Millisecond)
	col, _ := run(t, Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL))})
	lost := probe()
	checkCounts(t, col, srv, 200)
	h := col.series(metrics.HTTPReqDuration).Hist
	p50, p95 := h.Quantile(0.50), h.Quantile(0.95)
	t.Logf("p50 %.2f ms, p95 %.2f ms, max %.2f ms; a 10 ms ticker lost %d ticks", p50, p95, h.Max, lost)
	// The upper bounds hold only where goroutines wake on time: on a loaded CI machine (load
	// average ~20 on 2 cores) the server's and the VUs' wake-ups add tens of ms that really were
	// waited (p50 35-43 ms measured), which a 10 ms ticker losing ticks shows.
	over := t.Errorf
	if lost > 1 {
		over = t.Logf
	}
	if p50 < 10 {
		t.Errorf("p50 = %.2f ms, want ≈ 10 ms", p50)
	} else if p50 > 30 {
		over("p50 = %.2f ms, want ≈ 10 ms", p50)
	}
	if p95 < 100 {
		t.Errorf("p95 = %.2f ms, want ≈ 100 ms", p95)
	} else if p95 > 150 {
		over("p95 = %.2f ms, want ≈ 100 ms", p95)
	}
	if c := h.Count; c != 200 {
		t.Errorf("histogram count %d", c)
	}
}

// TestCoordinatedOmission: an open-model run during which the server stalls once for 2 s. Every
// request scheduled during the stall must report a latency that includes its wait.
func TestCoordinatedOmission(t *testing.T) {
	const stall = 2 * time.Second
	var stallUntil atomic.Int64
	var k atomic.Int64
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		if k.Add(1) == 10 {
			stallUntil.Store(time.Now().Add(stall).UnixNano())
		}
		if d := time.Until(time.Unix(0, stallUntil.Load())); d > 0 {
			time.Sleep(d)
		}
		w.Write([]byte("ok"))
	})
	l := withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 40, PreAllocatedVUs: 10, MaxVUs: 200,
		Stages: []plan.Stage{{Duration: 2500 * time.Millisecond, Target: 40}}})
	probe := tickProbe(100 * time.Millisecond)
	col, res := run(t, Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL))})
	lost := probe()
	checkCounts(t, col, srv, 100)
	// The server's stall must not saturate the generator (it has VUs to spare); a machine that
	// stalls this process does, truthfully (schedule lag 1.2 s under load average ~20), which a
	// 100 ms ticker losing ticks shows.
	if res.Saturated && lost > 1 {
		t.Logf("saturated on a loaded machine (a 100 ms ticker lost %d ticks): %s", lost, res.SaturationReason)
	} else if res.Saturated {
		t.Errorf("saturated: %s", res.SaturationReason)
	}
	var over1s int
	for _, s := range col.store.Snapshot() {
		if s.Key.Metric == metrics.HTTPReqDuration {
			// count samples at or above 1 s through the histogram's buckets
			s.Hist.Buckets(func(upper float64, c uint64) {
				if upper >= 1000 {
					over1s += int(c)
				}
			})
		}
	}
	h := col.series(metrics.HTTPReqDuration).Hist
	t.Logf("max %.0f ms, p50 %.0f ms, %d requests ≥ 1 s", h.Max, h.Quantile(0.5), over1s)
	// The 10th request opens the stall at ≈ 225 ms; requests scheduled in the first second of
	// the stall (≈ 40 of them) wait at least 1 s.
	if h.Max < float64(stall/time.Millisecond)*0.95 {
		t.Errorf("max latency %.0f ms does not include the %v stall", h.Max, stall)
	}
	if over1s < 35 {
		t.Errorf("%d requests took ≥ 1 s; want ≥ 35 (every request queued behind the stall)", over1s)
	}
}

// TestScheduleLagCountsInLatency drives one VU directly: an iteration that starts 300 ms after
// its scheduled time reports the lag in schedule_lag, http_req_duration and iteration_duration,
// but not in http_req_service_time.
func TestScheduleLagCountsInLatency(t *testing.T) {
	srv := newCounter(t, nil)
	col := newCollector()
	l := withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 1, PreAllocatedVUs: 1,
		Stages: []plan.Stage{{Duration: time.Second, Target: 1}}})
	e, err := New(Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL), httpStepOf("s", "b", "GET", srv.URL)), Sink: col})
	if err != nil {
		t.Fatal(err)
	}
	v := newVU(e, e.scenarios[0])
	ctx := context.Background()
	v.activate(ctx, ctx, func() { v.iterate(time.Now().Add(-300 * time.Millisecond).UnixNano()) })
	lag := col.series(metrics.ScheduleLag)
	if lag.Count != 1 || lag.Max < 300 {
		t.Fatalf("schedule_lag %+v, want one sample ≥ 300 ms", lag)
	}
	var first, second *metrics.Series
	for _, s := range col.store.Snapshot() {
		if s.Key.Metric == metrics.HTTPReqDuration {
			if s.Key.Tags.Step == "a" {
				first = s
			} else {
				second = s
			}
		}
	}
	svc := col.series(metrics.HTTPReqServiceTime)
	if first == nil || first.Hist.Min < 300 {
		t.Errorf("first request's http_req_duration %v, want ≥ 300 ms", first)
	}
	if second == nil || second.Hist.Max >= 300 {
		t.Errorf("second request's http_req_duration must not carry the lag: %v", second.Hist.Max)
	}
	if svc.Hist.Max >= 300 {
		t.Errorf("http_req_service_time %.1f ms includes the lag", svc.Hist.Max)
	}
	if it := col.series(metrics.IterationDuration); it.Hist.Min < 300 {
		t.Errorf("iteration_duration %.1f ms, want ≥ 300", it.Hist.Min)
	}
}

// TestHeapDoesNotGrowWithRequests: samples are aggregated into a metrics.Store, never kept, so
// the heap after 4N requests is about the heap after N.
func TestHeapDoesNotGrowWithRequests(t *testing.T) {
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	heapAfter := func(n int) (uint64, *collector) {
		l := withDefaults(&plan.Load{Model: plan.SharedIterations, VUs: 4, Iterations: n})
		col, _ := run(t, Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL))})
		if got := col.sum(metrics.HTTPReqs); got != float64(n) {
			t.Fatalf("http_reqs %v, want %d", got, n)
		}
		runtime.GC()
		runtime.GC()
		var mstats runtime.MemStats
		runtime.ReadMemStats(&mstats)
		return mstats.HeapAlloc, col
	}
	const n = 1000
	h1, c1 := heapAfter(n)
	h4, c4 := heapAfter(4 * n)
	t.Logf("heap after %d requests: %d KB; after %d: %d KB", n, h1>>10, 4*n, h4>>10)
	// 4N samples kept would add ≥ 12 samples × 56 B × 3000 ≈ 2 MB; allow far less.
	if h4 > h1+h1/2+512<<10 {
		t.Errorf("heap grew from %d KB to %d KB for 4× the requests", h1>>10, h4>>10)
	}
	runtime.KeepAlive(c1)
	runtime.KeepAlive(c4)
}
