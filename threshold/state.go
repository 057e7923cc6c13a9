package threshold

import (
	"strconv"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// state is what one threshold has seen. Its owner (the Evaluator) serialises access.
type state struct {
	th    *plan.Threshold
	total *metrics.Series // whole run, or the stage for stage scope; unused for window scope

	// Window scope: samples by Unix second, the windows judged so far (every window [T-W, T)
	// with T <= judgedTo) and, per condition, the worst value any window showed.
	buckets       map[int64]*metrics.Series
	judgedTo      int64
	windows       int // windows judged that held samples
	failedWindows int
	worst         []observation

	abortedRun bool // this threshold's abort_on_fail stopped the run
}

type observation struct {
	v      float64
	set    bool
	failed bool
}

func newState(th *plan.Threshold) *state {
	return &state{
		th:      th,
		total:   &metrics.Series{Key: metrics.Key{Metric: th.Metric}},
		buckets: make(map[int64]*metrics.Series),
		worst:   make([]observation, len(th.Conditions)),
	}
}

// feeds reports whether samples of m count for the threshold: its own metric's, and for a
// latency threshold the requests that got no response (metrics.Unanswerable).
func (st *state) feeds(m metrics.Metric) bool {
	return m == st.th.Metric || (m == metrics.HTTPReqUnanswered && metrics.Unanswerable(st.th.Metric))
}

// fold adds x to s: a sample of the threshold's metric as a value, an unanswered request as a
// count that has none.
func (st *state) fold(s *metrics.Series, x *metrics.Sample) {
	if x.Metric != st.th.Metric {
		s.Unanswered += uint64(x.Value)
		return
	}
	s.Add(x)
}

// add folds x into the state; run and start place it in a stage.
func (st *state) add(x *metrics.Sample, run Run, start time.Time) {
	switch {
	case st.th.Window > 0:
		sec := x.Time / int64(time.Second)
		b := st.buckets[sec]
		if b == nil {
			b = &metrics.Series{Key: metrics.Key{Metric: st.th.Metric}}
			st.buckets[sec] = b
		}
		st.fold(b, x)
	case st.th.Stage > 0:
		i := st.th.Stage - 1
		if i >= len(run.Stages) || start.IsZero() {
			return
		}
		off := time.Duration(x.Time - start.UnixNano())
		sp := run.Stages[i]
		// Samples after the last stage (iterations finishing within graceful_stop) belong to it.
		if off >= sp.Start && (off < sp.End || i == len(run.Stages)-1) {
			st.fold(st.total, x)
		}
	default:
		st.fold(st.total, x)
	}
}

// windowSecs is the window length in whole seconds, at least 1.
func (st *state) windowSecs() int64 {
	w := int64((st.th.Window + time.Second - 1) / time.Second)
	return max(w, 1)
}

// judgeWindows judges every window [T-W, T) whose seconds are all complete, that is with
// T-1 <= completeSec, and that starts at or after the run's start second.
func (st *state) judgeWindows(completeSec, startSec int64, keep bool) {
	if startSec == 0 {
		return
	}
	w := st.windowSecs()
	if st.judgedTo < startSec+w-1 {
		st.judgedTo = startSec + w - 1
	}
	for t := st.judgedTo + 1; t <= completeSec+1; t++ {
		st.judge(t-w, t)
		st.judgedTo = t
		if !keep {
			for sec := range st.buckets {
				if sec < t+1-w {
					delete(st.buckets, sec)
				}
			}
		}
	}
}

// closeWindows judges the windows left at the end of the run. A run shorter than its window is
// judged once over everything it saw.
func (st *state) closeWindows(lastSec, startSec int64, keep bool) {
	if startSec == 0 {
		return
	}
	st.judgeWindows(lastSec, startSec, keep)
	if st.windows == 0 && len(st.buckets) > 0 {
		st.judge(startSec, lastSec+1)
	}
}

// judge evaluates the conditions over the seconds [from, to).
func (st *state) judge(from, to int64) {
	s := &metrics.Series{Key: metrics.Key{Metric: st.th.Metric}}
	for sec := from; sec < to; sec++ {
		if b := st.buckets[sec]; b != nil {
			s.Merge(b)
		}
	}
	if s.Count == 0 && s.Unanswered == 0 {
		return
	}
	st.windows++
	failed := false
	for i, c := range st.th.Conditions {
		v, ok := c.Observe(s, time.Duration(to-from)*time.Second)
		if !ok {
			continue
		}
		pass := c.Holds(v)
		o := &st.worst[i]
		if !pass {
			failed = true
		}
		switch {
		case !o.set, !pass && !o.failed: // the first value, or the first failure
			o.v, o.set = v, true
		case pass && o.failed: // a passing window never hides a failing one
		case worse(c.Op, v, o.v):
			o.v = v
		}
		o.failed = o.failed || !pass
	}
	if failed {
		st.failedWindows++
	}
}

// worse reports whether v is further from satisfying op than w.
func worse(op string, v, w float64) bool {
	switch op {
	case "<", "<=":
		return v > w
	case ">", ">=":
		return v < w
	}
	return false // == and !=: keep the first failing (or the first) value
}

// verdict judges the state. final says whether the run is over: only then does a threshold
// without samples fail (during the run it may still get some).
func (st *state) verdict(run Run, start, end time.Time, final bool) metrics.Verdict {
	v := newVerdict(st.th)
	v.AbortedRun = st.abortedRun
	if st.th.Window > 0 {
		v.Windows, v.FailedWindows = st.windows, st.failedWindows
		if st.windows == 0 {
			if final && NoEventsMeansZero(st.th.Metric) {
				return zeroEvents(v)
			}
			return noSamples(v)
		}
		v.Pass = true
		for i, c := range st.th.Conditions {
			o := st.worst[i]
			r := skipUnresolved(metrics.Outcome{Condition: c, Observed: o.v, Valid: o.set, Pass: o.set && !o.failed})
			v.Pass = v.Pass && r.Pass
			v.Outcomes = append(v.Outcomes, r)
		}
		return v
	}
	var elapsed time.Duration
	if !start.IsZero() && !end.IsZero() {
		elapsed = end.Sub(start)
	}
	if st.th.Stage > 0 {
		i := st.th.Stage - 1
		if i >= len(run.Stages) {
			if !final {
				return noSamples(v)
			}
			v.Reason = "the run has no stage " + strconv.Itoa(st.th.Stage)
			v.NoSamples = st.total.Count == 0
			return v
		}
		sp := run.Stages[i]
		elapsed = min(elapsed, sp.End) - sp.Start
		if i == len(run.Stages)-1 && end.Sub(start) > sp.End {
			elapsed = end.Sub(start) - sp.Start
		}
	}
	if st.total.Count == 0 && st.total.Unanswered == 0 {
		if final && NoEventsMeansZero(st.th.Metric) {
			return zeroEvents(v)
		}
		return noSamples(v)
	}
	v.Pass = true
	for _, c := range st.th.Conditions {
		obs, ok := c.Observe(st.total, elapsed)
		r := skipUnresolved(metrics.Outcome{Condition: c, Observed: obs, Valid: ok, Pass: ok && c.Holds(obs)})
		if !ok && v.Reason == "" {
			v.Reason = "no run time to compute a rate over"
		}
		if n := st.total.Unanswered; n > 0 && v.Reason == "" {
			v.Reason = strconv.FormatUint(n, 10) + " requests got no response"
		}
		v.Pass = v.Pass && r.Pass
		v.Outcomes = append(v.Outcomes, r)
	}
	return v
}

func (st *state) export() metrics.ThresholdState {
	out := metrics.ThresholdState{Name: st.th.Name, Total: st.total.Clone()}
	if len(st.buckets) > 0 {
		out.Buckets = make(map[int64]*metrics.Series, len(st.buckets))
		for sec, b := range st.buckets {
			out.Buckets[sec] = b.Clone()
		}
	}
	return out
}

// Load merges a segment's state into the evaluator, matched by threshold name; states of
// thresholds the plan does not have are ignored and reported false. Call Close after the last
// Load to judge the windows.
func (e *Evaluator) Load(s metrics.ThresholdState) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, st := range e.states {
		if st.th.Name != s.Name {
			continue
		}
		if s.Total != nil {
			st.total.Merge(s.Total)
			e.lastNs = max(e.lastNs, s.Total.End)
		}
		for sec, b := range s.Buckets {
			dst := st.buckets[sec]
			if dst == nil {
				dst = &metrics.Series{Key: metrics.Key{Metric: st.th.Metric}}
				st.buckets[sec] = dst
			}
			dst.Merge(b)
			e.lastNs = max(e.lastNs, b.End)
		}
		e.runLocked(0)
		return true
	}
	return false
}

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
	case metrics.DroppedIterations, metrics.IterationsInterrupted, metrics.Errors, metrics.HTTPReqUnanswered, metrics.WSErrors, metrics.WSReconnects, metrics.WSMsgsUnmatched:
		return true
	}
	return false
}

// zeroEvents judges an event counter that saw no events: count and rate are 0.
func zeroEvents(v metrics.Verdict) metrics.Verdict {
	v.Pass, v.Reason = true, "no events"
	for _, c := range v.Conditions {
		r := skipUnresolved(metrics.Outcome{Condition: c, Observed: 0, Valid: true, Pass: c.Holds(0)})
		v.Pass = v.Pass && r.Pass
		v.Outcomes = append(v.Outcomes, r)
	}
	return v
}

// skipUnresolved marks the outcome of a baseline condition that has no baseline value as
// skipped: it fails nothing (the run was given no baseline to compare with) and is reported as
// skipped, never as passed.
func skipUnresolved(r metrics.Outcome) metrics.Outcome {
	if r.Condition.Baseline && !r.Condition.BaseSet {
		r.Skipped, r.Pass = true, true
	}
	return r
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
