package compare

import (
	"fmt"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// Resolve gives every baseline condition of p's thresholds ("p(95) < baseline * 1.10") the
// baseline run's value of the same metric, selector and aggregation, which sets its bound
// (metrics.Condition.ResolveBaseline). A condition the baseline has no value for (the series
// received no samples there: a new step) stays unresolved, hence skipped, and is named in the
// returned notes. Call it before the run starts: the conditions are the plan's own.
func Resolve(p *plan.Plan, base *Run) []string {
	var notes []string
	elapsed := base.End.Sub(base.Start)
	for _, t := range p.Thresholds {
		var series *metrics.Series
		for i := range t.Conditions {
			c := &t.Conditions[i]
			if !c.Baseline {
				continue
			}
			if series == nil {
				keep := func(k metrics.Key) bool { return k.Matches(t.Selector) }
				series = metrics.Combine(base.Series, t.Metric, keep)
				if metrics.Unanswerable(t.Metric) {
					un := metrics.Combine(base.Series, metrics.HTTPReqUnanswered, keep)
					series.Unanswered += uint64(un.Sum)
				}
			}
			v, ok := c.Observe(series, max(elapsed, time.Nanosecond))
			if !ok {
				notes = append(notes, fmt.Sprintf("threshold %s: %q skipped: the baseline has no samples of it", t.Name, c.Source))
				continue
			}
			c.ResolveBaseline(v)
		}
	}
	return notes
}
