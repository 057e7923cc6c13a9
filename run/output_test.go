package run_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/run"
)

// lingering is an output that counts the requests it was fed and whose Stop lingers until its
// context ends, as a Prometheus output waits for a last scrape. Emit and Stop run on the
// Manager's goroutine and the test reads after Wait, so no field needs a lock.
type lingering struct {
	reqs    float64
	stopErr error // the Stop context's error when Stop returned
}

func (l *lingering) Name() string                   { return "lingering" }
func (l *lingering) Start(context.Context) error    { return nil }
func (l *lingering) Linger() time.Duration          { return time.Hour }
func (l *lingering) Stop(ctx context.Context) error { <-ctx.Done(); l.stopErr = ctx.Err(); return nil }
func (l *lingering) Emit(batch []metrics.Sample) {
	for _, s := range batch {
		if s.Metric == metrics.HTTPReqs {
			l.reqs += s.Value
		}
	}
}

var _ outputs.Output = (*lingering)(nil)

func TestRunAbortAfterTheLoadCutsTheOutputsShutdownShort(t *testing.T) {
	srv := newCounter(t)
	out := &lingering{}
	r := start(t, load(t, srv.srv.URL, "/ok", iterations200, ""), run.Config{Extra: []outputs.Output{out}})
	<-r.Ended()
	if st := r.Status(); st.Phase != run.Finishing {
		t.Errorf("phase after the load ended: %v, want finishing", st.Phase)
	}
	r.Abort() // without it Wait would wait out the hour of linger
	res := r.Wait()
	if out.stopErr != context.Canceled {
		t.Errorf("the output's Stop ended with %v, want it cancelled by Abort", out.stopErr)
	}
	if res.Code != run.ExitOK || res.Interrupted {
		t.Errorf("code %d interrupted %v: an Abort after the load must not change the verdict (0)", res.Code, res.Interrupted)
	}
	n := float64(srv.hits.Load())
	if out.reqs != n || count(res, metrics.HTTPReqs) != n || n != 200 {
		t.Errorf("the extra output was fed %v requests, the summary counts %v, the server saw %v; want 200 each",
			out.reqs, count(res, metrics.HTTPReqs), n)
	}
}

func TestRunAbortOnFail(t *testing.T) {
	srv := newCounter(t)
	r := start(t, load(t, srv.srv.URL, "/fail", `load {
  model             = "arrival_rate"
  rate              = 50
  duration          = "1m"
  pre_allocated_vus = 5
}`, `threshold "http_req_failed" {
  condition     = "rate < 0.01"
  abort_on_fail = true
  delay         = "1s"
}`), run.Config{})
	res := r.Wait()
	if res.Code != run.ExitThreshold || res.AbortReason == "" || res.Interrupted {
		t.Fatalf("code %d, abort reason %q, interrupted %v; want 99 with a reason, not interrupted", res.Code, res.AbortReason, res.Interrupted)
	}
	// Planned: 50/s for 60 s = 3000 requests; the abort after about a second leaves far fewer.
	n := srv.hits.Load()
	if got := count(res, metrics.HTTPReqs); got != float64(n) || n == 0 || n > 1000 {
		t.Errorf("http_reqs = %v, server saw %d; want equal, and far below the planned 3000", got, n)
	}
	if !strings.Contains(strings.Join(res.Report.Notes, "\n"), "stopped early: ") {
		t.Errorf("notes %q do not say which threshold stopped the run", res.Report.Notes)
	}
}
