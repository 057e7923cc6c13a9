package threshold

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// The adapter is an outputs.Output; the engine is not one.
var (
	_ outputs.Output       = (*Ingester)(nil)
	_ outputs.SampleFilter = (*Ingester)(nil) // the VUs push only the samples it judges
)

// TestIngesterThroughManager feeds the engine through a real fan-out from many pushers, as a run
// does, and checks that the verdicts count every sample pushed, no more, no less.
func TestIngesterThroughManager(t *testing.T) {
	count := mk(t, "http_reqs", metrics.HTTPReqs, nil, "count == 4000")
	sel := mk(t, "http_reqs{scenario=a}", metrics.HTTPReqs, map[string]string{"scenario": "a"}, "count == 2000")
	win := mk(t, "http_req_failed", metrics.HTTPReqFailed, nil, "rate < 0.5")
	win.Window = time.Second
	ev := New(Config{Thresholds: []*plan.Threshold{count, sel, win}, Run: run()})
	mgr := outputs.NewManager(ev.Ingester())
	if err := mgr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	tagsB := &metrics.Tags{Scenario: "b", Step: "s"}
	const pushers, batches, size = 8, 25, 20 // 4 pushers a scenario: 2000 requests each
	var wg sync.WaitGroup
	for p := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tags := tagsA
			if p%2 == 1 {
				tags = tagsB
			}
			batch := make([]metrics.Sample, 0, 2*size)
			for i := range batches {
				batch = batch[:0]
				at := time.Duration(i) * 100 * time.Millisecond
				for range size {
					batch = append(batch, sample(metrics.HTTPReqs, at, 1, tags), sample(metrics.HTTPReqFailed, at, 0, tags))
				}
				mgr.Push(batch)
			}
		}()
	}
	wg.Wait()
	ev.Finish(t0.Add(3 * time.Second))
	if err := mgr.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	vs := ev.Verdicts()
	if !vs[0].Pass || vs[0].Outcomes[0].Observed != 4000 {
		t.Errorf("http_reqs count: got %+v, want 4000", vs[0].Outcomes)
	}
	if !vs[1].Pass || vs[1].Outcomes[0].Observed != 2000 {
		t.Errorf("http_reqs{scenario=a} count: got %+v, want 2000", vs[1].Outcomes)
	}
	// Samples span 2.4 s: the windows ending at 1 s, 2 s and 3 s, the last judged by Stop.
	if !vs[2].Pass || vs[2].Windows != 3 || vs[2].Outcomes[0].Observed != 0 {
		t.Errorf("windowed http_req_failed: got %d windows, %+v; want 3 windows, rate 0", vs[2].Windows, vs[2].Outcomes)
	}
}

// TestIngesterWants: the VUs push only the samples of the judged metrics (and, for a latency
// threshold, of the requests that got no answer), plus the vus gauge that moves the clock of
// windowed thresholds; nothing when no threshold is set.
func TestIngesterWants(t *testing.T) {
	if m := New(Config{}).Ingester().Wants(); m != 0 {
		t.Fatalf("no thresholds: wants %b", m)
	}
	e := New(Config{Thresholds: []*plan.Threshold{{Name: "p95", Metric: metrics.HTTPReqDuration}}})
	want := metrics.MaskOf(metrics.HTTPReqDuration, metrics.HTTPReqUnanswered, metrics.VUs)
	if m := e.Ingester().Wants(); m != want {
		t.Fatalf("wants %b, want %b", m, want)
	}
}
