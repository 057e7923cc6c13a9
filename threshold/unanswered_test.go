package threshold

import (
	"math"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// Requests that got no response have no latency sample, but a latency threshold ranks them above
// every answered request: with 100 answered in 10 ms, p(95) < 300ms holds with 5 unanswered (the
// 95th of 105 is answered) and fails with 6 (the 95th of 106 is past the answered ones); max and
// avg are unbounded as soon as one is unanswered; min and count stay the answered requests'; a
// selector that does not match the unanswered requests is not moved by them.
func TestUnansweredRequestsRankLast(t *testing.T) {
	cases := []struct {
		unanswered int
		cond       string
		pass       bool
		observed   float64
	}{
		{0, "p(95) < 300ms", true, 10},
		{5, "p(95) < 300ms", true, 10},
		{6, "p(95) < 300ms", false, math.Inf(1)},
		{100, "med < 300ms", true, 10},
		{101, "med < 300ms", false, math.Inf(1)},
		{1, "max < 2s", false, math.Inf(1)},
		{1, "avg < 2s", false, math.Inf(1)},
		{1, "min < 20ms", true, 10},
		{6, "count == 100", true, 100},
	}
	for _, c := range cases {
		onA := mk(t, "http_req_duration{scenario=a}", metrics.HTTPReqDuration, map[string]string{"scenario": "a"}, c.cond)
		onB := mk(t, "http_req_duration{scenario=b}", metrics.HTTPReqDuration, map[string]string{"scenario": "b"}, c.cond)
		ev := New(Config{Thresholds: []*plan.Threshold{onA, onB}, Run: run()})
		var batch []metrics.Sample
		for i := range 100 {
			at := time.Duration(i) * 10 * time.Millisecond
			batch = append(batch, sample(metrics.HTTPReqDuration, at, 10, tagsA), sample(metrics.HTTPReqDuration, at, 10, tagsB))
		}
		for range c.unanswered {
			batch = append(batch, sample(metrics.HTTPReqUnanswered, time.Second, 1, tagsA))
		}
		ev.Add(batch)
		vs := finish(t, ev, 2*time.Second)
		a, b := vs[0], vs[1]
		o := a.Outcomes[0]
		if a.Pass != c.pass || math.Abs(o.Observed-c.observed) > 0.1 && !(math.IsInf(o.Observed, 1) && math.IsInf(c.observed, 1)) {
			t.Errorf("%d unanswered, %s: pass %v observed %v; want pass %v observed %v", c.unanswered, c.cond, a.Pass, o.Observed, c.pass, c.observed)
		}
		if !b.Pass {
			t.Errorf("%d unanswered in scenario a moved scenario b's %s: %+v", c.unanswered, c.cond, b.Outcomes)
		}
	}
}

// A target that never answered: no latency sample at all, only unanswered requests. The p(95)
// gate fails with an unbounded value, not "no samples" hidden behind a pass, and a segment's
// exported state carries the unanswered count to `loadplan merge`.
func TestOnlyUnansweredFailsAndMerges(t *testing.T) {
	th := mk(t, "http_req_duration", metrics.HTTPReqDuration, nil, "p(95) < 300ms")
	ev := New(Config{Thresholds: []*plan.Threshold{th}, Run: run()})
	ev.Add([]metrics.Sample{sample(metrics.HTTPReqUnanswered, time.Second, 1, tagsA), sample(metrics.HTTPReqUnanswered, time.Second, 1, tagsB)})
	vs := finish(t, ev, 2*time.Second)
	if vs[0].Pass || !math.IsInf(vs[0].Outcomes[0].Observed, 1) {
		t.Fatalf("verdict %+v", vs[0])
	}
	st := ev.States()
	if len(st) != 1 || st[0].Total.Unanswered != 2 {
		t.Fatalf("exported state %+v", st)
	}
	fleet := New(Config{Thresholds: []*plan.Threshold{th}, Run: run()})
	fleet.Load(st[0])
	fleet.Load(st[0])
	fleet.Finish(t0.Add(2 * time.Second))
	fleet.Close()
	if v := fleet.Verdicts()[0]; v.Pass || fleet.States()[0].Total.Unanswered != 4 {
		t.Fatalf("merged: %+v, unanswered %d", v, fleet.States()[0].Total.Unanswered)
	}
}
