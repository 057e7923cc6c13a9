package executor

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/summary"
)

// TestAggregatingSinkCountsWhatTheServerSaw runs the executor into an outputs Manager, whose
// Folders the VUs fold their samples with, in the closed model (VUs stopped by Stop) and the
// open model (arrival rate, idle VUs flushing at the tick, dropped iterations folded by the
// scheduler's batcher), with and without a per-sample output: the summary's figures, and the
// raw output's, equal the server's count.
func TestAggregatingSinkCountsWhatTheServerSaw(t *testing.T) {
	loads := map[string]string{
		"users": `load {
  model    = "users"
  vus      = 4
  duration = "1m"
}`,
		"arrival": `load {
  model             = "arrival_rate"
  start_rate        = 300
  time_unit         = "1s"
  pre_allocated_vus = 1
  max_vus           = 2
  stage {
    duration = "1s"
    target   = 300
  }
}`,
	}
	for _, name := range []string{"users", "arrival"} {
		for _, raw := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/raw=%v", name, raw), func(t *testing.T) {
				srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
				p := loadPlan(t, t.TempDir(), `
variable "host" { type = string }
target "api" { base_url = var.host }
scenario "s" {
  target = target.api
  http "get" { path = "/" }
}
`+loads[name], srv.URL)
				sum := summary.New()
				outs := []outputs.Output{sum}
				rec := &nullRaw{}
				if raw {
					outs = append(outs, rec)
				}
				mgr := outputs.NewManager(outs...)
				if err := mgr.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				e, err := New(Config{Plan: p, Sink: mgr})
				if err != nil {
					t.Fatal(err)
				}
				done := make(chan Result)
				go func() { done <- e.Run(context.Background()) }()
				if name == "users" {
					for srv.hits.Load() < 300 {
						<-e.flushTick() // closed every 250 ms by the executor's clock
					}
					e.Stop()
				}
				res := <-done
				if err := mgr.Stop(context.Background()); err != nil || res.Err != nil {
					t.Fatal(err, res.Err)
				}
				ss := sum.Store().Snapshot()
				n := float64(srv.hits.Load())
				reqs := metrics.Combine(ss, metrics.HTTPReqs, nil)
				iters := metrics.Combine(ss, metrics.Iterations, nil).Sum
				dropped := metrics.Combine(ss, metrics.DroppedIterations, nil).Sum
				if reqs.Sum != n || iters != n || n == 0 {
					t.Errorf("summary: %v requests, %v iterations; server saw %v", reqs.Sum, iters, n)
				}
				if d := metrics.Combine(ss, metrics.HTTPReqDuration, nil); d.Count != uint64(n) || d.Hist.Count != uint64(n) {
					t.Errorf("http_req_duration count %d (histogram %d), server saw %v", d.Count, d.Hist.Count, n)
				}
				var want uint64
				for _, g := range e.groups {
					want += g.dropped.Load()
				}
				if dropped != float64(want) {
					t.Errorf("dropped_iterations %v, the scheduler dropped %d", dropped, want)
				}
				if raw && float64(rec.reqs) != n {
					t.Errorf("raw output got %d http_reqs samples, server saw %v", rec.reqs, n)
				}
				if !raw && rec.n != 0 {
					t.Errorf("no per-sample output, yet %d samples were shipped", rec.n)
				}
			})
		}
	}
}
