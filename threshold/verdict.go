package threshold

import (
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// Verdicts are metrics.Verdict, plain data that outputs render without importing this package;
// here they are made.

// newVerdict returns an undecided verdict naming th.
func newVerdict(th *plan.Threshold) metrics.Verdict {
	return metrics.Verdict{Name: th.Name, Metric: th.Metric, Selector: th.Selector, Conditions: th.Conditions,
		Window: th.Window, Stage: th.Stage}
}

// noSamples fails v for want of samples: every condition unobserved.
func noSamples(v metrics.Verdict) metrics.Verdict {
	v.Pass, v.NoSamples, v.Reason = false, true, "no samples"
	for _, c := range v.Conditions {
		v.Outcomes = append(v.Outcomes, metrics.Outcome{Condition: c})
	}
	return v
}

// NoEventsMeansZero reports whether m counts exceptional events (dropped and interrupted
// iterations, errors, WebSocket errors, reconnects, unmatched frames), which the executor emits
// only when they happen: for these, no samples at the end of a run means zero events, so
// `dropped_iterations count == 0` passes on a healthy run as k6 users expect. Every other metric
// without samples fails.
func NoEventsMeansZero(m metrics.Metric) bool {
	switch m {
	case metrics.DroppedIterations, metrics.IterationsInterrupted, metrics.Errors, metrics.WSErrors, metrics.WSReconnects, metrics.WSMsgsUnmatched:
		return true
	}
	return false
}

// zeroEvents judges an event counter that saw no events: count and rate are 0.
func zeroEvents(v metrics.Verdict) metrics.Verdict {
	v.Pass, v.Reason = true, "no events"
	for _, c := range v.Conditions {
		r := metrics.Outcome{Condition: c, Observed: 0, Valid: true, Pass: c.Holds(0)}
		v.Pass = v.Pass && r.Pass
		v.Outcomes = append(v.Outcomes, r)
	}
	return v
}

// Failed reports whether any verdict failed.
func Failed(vs []metrics.Verdict) bool {
	for _, v := range vs {
		if !v.Pass {
			return true
		}
	}
	return false
}
