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

// stalled is a file output that reports the waits a slow disk made (outputs.Staller) and counts
// the requests it was fed; Emit runs on the Manager's goroutine, read after Wait.
type stalled struct{ reqs float64 }

func (s *stalled) Name() string                    { return "slowfile" }
func (s *stalled) Start(context.Context) error     { return nil }
func (s *stalled) Stop(context.Context) error      { return nil }
func (s *stalled) Stalls() (uint64, time.Duration) { return 3, 1500 * time.Millisecond }
func (s *stalled) Emit(batch []metrics.Sample)     { s.reqs += sum(batch, metrics.HTTPReqs) }
func sum(batch []metrics.Sample, m metrics.Metric) (n float64) {
	for _, x := range batch {
		if x.Metric == m {
			n += x.Value
		}
	}
	return n
}

var _ outputs.Staller = (*stalled)(nil)

// TestRunSaysAFileOutputsStalls: the summary's notes name the output, its waits and their time,
// and the run is not failed for them (nothing was lost: the output had every request).
func TestRunSaysAFileOutputsStalls(t *testing.T) {
	srv := newCounter(t)
	out := &stalled{}
	res := start(t, load(t, srv.srv.URL, "/ok", iterations200, ""), run.Config{Extra: []outputs.Output{out}}).Wait()
	notes := strings.Join(res.Report.Notes, "\n")
	if !strings.Contains(notes, "output slowfile: the disk was slower than the load: 3 sample batches waited 1.5s") {
		t.Errorf("notes do not say the stalls:\n%s", notes)
	}
	if n := float64(srv.hits.Load()); out.reqs != n || n != 200 || res.Code != run.ExitOK {
		t.Errorf("output fed %v requests, server saw %v (want 200 each), code %d (want 0)", out.reqs, n, res.Code)
	}
}
