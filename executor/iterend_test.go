package executor

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// recorder is a Sink that keeps every sample in the order pushed (one VU: the order emitted).
type recorder struct {
	mu      sync.Mutex
	samples []metrics.Sample
}

func (r *recorder) Push(batch []metrics.Sample) {
	r.mu.Lock()
	r.samples = append(r.samples, batch...)
	r.mu.Unlock()
}

// TestIterationEndsAtItsLastResponse: in a scenario of HTTP steps without think time, an
// iteration's end is the end-of-response reading of its last request (iterEnd), not a later
// clock reading: its iterations sample is timed with the last request's samples and its
// iteration_duration covers both requests (each ≥ 20 ms at the server). Every count equals the
// server's.
func TestIterationEndsAtItsLastResponse(t *testing.T) {
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		w.Write([]byte("ok"))
	})
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 3})
	rec := &recorder{}
	e, err := New(Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL), httpStepOf("s", "b", "GET", srv.URL)),
		Sink: rec, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.Run(t.Context()); res.Err != nil {
		t.Fatal(res.Err)
	}
	var lastReq metrics.Sample
	reqs, iters := 0, 0
	var durs []float64
	for _, s := range rec.samples {
		switch s.Metric {
		case metrics.HTTPReqs:
			reqs++
			lastReq = s
		case metrics.HTTPReqDuration:
			durs = append(durs, s.Value)
		case metrics.Iterations:
			iters++
			// The same reading, carried over two time frames that differ by nanoseconds.
			if d := s.Time - lastReq.Time; d < -int64(time.Millisecond) || d > int64(time.Millisecond) {
				t.Errorf("iteration %d ends %v after its last request's samples, want the same reading", iters, time.Duration(d))
			}
		case metrics.IterationDuration:
			if n := len(durs); n < 2 || s.Value < durs[n-1]+durs[n-2]-0.01 {
				t.Errorf("iteration_duration %.3f ms is shorter than its two requests %v", s.Value, durs)
			}
		}
	}
	if reqs != 6 || iters != 3 || srv.hits.Load() != 6 {
		t.Errorf("http_reqs %d, iterations %d, server %d; want 6, 3, 6", reqs, iters, srv.hits.Load())
	}
}

// TestIterationEndAfterThinkTime: a think time after the last step is part of the iteration,
// so iterEnd reads the clock: iteration_duration ≥ the think time, and the iterations sample
// comes at least that long after the request's samples.
func TestIterationEndAfterThinkTime(t *testing.T) {
	srv := newCounter(t, nil)
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 2})
	st := httpStepOf("s", "a", "GET", srv.URL)
	st.ThinkTime = &plan.ThinkTime{Min: 30 * time.Millisecond, Max: 30 * time.Millisecond}
	rec := &recorder{}
	e, err := New(Config{Plan: planOf(l, st), Sink: rec, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.Run(t.Context()); res.Err != nil {
		t.Fatal(res.Err)
	}
	var lastReq int64
	iters := 0
	for _, s := range rec.samples {
		switch s.Metric {
		case metrics.HTTPReqs:
			lastReq = s.Time
		case metrics.Iterations:
			iters++
			if d := s.Time - lastReq; d < int64(30*time.Millisecond) {
				t.Errorf("iteration %d ends %v after its request, want ≥ the 30 ms think time", iters, time.Duration(d))
			}
		case metrics.IterationDuration:
			if s.Value < 30 {
				t.Errorf("iteration_duration %.3f ms, want ≥ 30", s.Value)
			}
		}
	}
	if iters != 2 || srv.hits.Load() != 2 {
		t.Errorf("iterations %d, server %d; want 2, 2", iters, srv.hits.Load())
	}
}
