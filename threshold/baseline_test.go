package threshold

import (
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// TestBaselineConditions: a baseline bound without a baseline value is skipped — it fails
// nothing and is reported as skipped, not passed — and, once resolved, judged against
// baseline * factor like any bound, its summary naming the baseline.
func TestBaselineConditions(t *testing.T) {
	judge := func(th *plan.Threshold) metrics.Verdict {
		ev := New(Config{Thresholds: []*plan.Threshold{th}, Run: run()})
		var batch []metrics.Sample
		for i := range 100 {
			batch = append(batch, sample(metrics.HTTPReqDuration, time.Duration(i)*time.Millisecond, float64(40+i%10), tagsA))
		}
		ev.Add(batch)
		return finish(t, ev, time.Second)[0]
	}
	mkb := func() *plan.Threshold {
		return mk(t, "http_req_duration", metrics.HTTPReqDuration, nil, "p(95) < baseline * 1.10", "max < 10s")
	}
	v := judge(mkb())
	if !v.Pass || !v.Outcomes[0].Skipped || v.Outcomes[1].Skipped || v.Skipped() || !strings.Contains(v.Summary(), metrics.SkippedNote) {
		t.Errorf("unresolved: %+v, %q; want the baseline condition skipped, the other judged", v.Outcomes, v.Summary())
	}
	for _, c := range []struct {
		base float64
		pass bool
	}{{49, true}, {40, false}} { // p(95) is 49 ms: within 1.10 × 49, not within 1.10 × 40 = 44
		th := mkb()
		th.Conditions[0].ResolveBaseline(c.base)
		v := judge(th)
		if v.Pass != c.pass || v.Outcomes[0].Skipped || !strings.Contains(v.Summary(), "vs baseline") {
			t.Errorf("baseline %v ms: pass %v (%s), want %v", c.base, v.Pass, v.Summary(), c.pass)
		}
	}
}
