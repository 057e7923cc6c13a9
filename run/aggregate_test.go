package run_test

import (
	"context"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	prom "github.com/loadplan/loadplan/outputs/prometheus"
	"github.com/loadplan/loadplan/outputs/summary"
	"github.com/loadplan/loadplan/run"
)

// rawCounter is a per-sample output (as CSV is): it counts the http_reqs samples it was fed.
// Emit runs on the Manager's goroutine and the test reads after Wait: no lock.
type rawCounter struct{ reqs, samples int }

func (o *rawCounter) Name() string                { return "raw" }
func (o *rawCounter) Start(context.Context) error { return nil }
func (o *rawCounter) Stop(context.Context) error  { return nil }
func (o *rawCounter) Emit(batch []metrics.Sample) {
	o.samples += len(batch)
	for _, s := range batch {
		if s.Metric == metrics.HTTPReqs {
			o.reqs++
		}
	}
}

var (
	_ outputs.Output       = (*rawCounter)(nil)
	_ outputs.SeriesOutput = (*summary.Summary)(nil) // fed the VUs' aggregates, no samples
)

// TestRunAggregatesEqualTheServer: the VUs fold their samples into the aggregates and only
// per-sample outputs get samples. Whether a raw output is on or not, and whether the run ends by
// Stop (first Ctrl-C) or Abort (second Ctrl-C, in-flight requests cut), the summary, Prometheus,
// a raw output and a threshold count exactly the requests the server received.
func TestRunAggregatesEqualTheServer(t *testing.T) {
	for _, c := range []struct {
		name       string
		raw, abort bool
	}{{"stop", false, false}, {"stop+raw", true, false}, {"abort", false, true}, {"abort+raw", true, true}} {
		t.Run(c.name, func(t *testing.T) {
			srv := newCounter(t)
			p, err := prom.New(prom.Config{Listen: "127.0.0.1:0"}, outputs.Options{PlanName: "agg"})
			if err != nil {
				t.Fatal(err)
			}
			extra := []outputs.Output{p}
			raw := &rawCounter{}
			if c.raw {
				extra = append(extra, raw)
			}
			r := start(t, load(t, srv.srv.URL, "/ok", minuteLong, `threshold "http_reqs" {
  condition = "count > 0"
}`), run.Config{Extra: extra})
			snaps, cancel := r.Subscribe(5 * time.Millisecond)
			defer cancel()
			// Mid-run, the live view (the aggregates, drained every 250 ms) has figures.
			waitFor(t, snaps, func(s run.Snapshot) bool { return metrics.Combine(s.Series, metrics.HTTPReqs, nil).Sum >= 100 })
			if c.abort {
				r.Abort()
			} else {
				r.Stop()
			}
			res := r.Wait()
			if res.Code != run.ExitInterrupted {
				t.Fatalf("code %d, want 105", res.Code)
			}
			n := float64(srv.hits.Load())
			total := count(res, metrics.HTTPReqs)
			answered := metrics.Combine(res.Report.Series, metrics.HTTPReqs, func(k metrics.Key) bool { return k.Status == 200 }).Sum
			if c.abort {
				// A request the abort cut is a request (failed, error interrupted) whether or not
				// the server's handler got to it: the server saw every answered one, and at most
				// every one; at most one per VU was cut.
				if answered > n || n > total || total-answered > 4 {
					t.Errorf("summary http_reqs = %v (%v answered), server saw %v", total, answered, n)
				}
			} else if total != n || answered != n {
				t.Errorf("summary http_reqs = %v (%v answered), server saw %v", total, answered, n)
			}
			if n < 100 {
				t.Errorf("server saw %v requests, the live view said at least 100", n)
			}
			if got := promTotal(t, p, "loadplan_http_reqs_total"); got != total {
				t.Errorf("prometheus http_reqs = %v, summary %v", got, total)
			}
			// The threshold, fed the http_reqs samples themselves, counted the same requests.
			if v := res.Report.Verdicts; len(v) != 1 || !v[0].Pass || len(v[0].Outcomes) != 1 || v[0].Outcomes[0].Observed != total {
				t.Errorf("verdicts %+v, want count %v", v, total)
			}
			if c.raw && float64(raw.reqs) != total {
				t.Errorf("raw output got %d http_reqs samples, summary %v", raw.reqs, total)
			}
		})
	}
}

// promTotal sums every series of the counter name that p exposes.
func promTotal(t *testing.T, p *prom.Output, name string) float64 {
	t.Helper()
	mfs, err := p.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
