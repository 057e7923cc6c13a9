package metrics

import (
	"strings"
	"time"
)

// Verdict is one threshold's outcome as plain data. The threshold engine (package threshold)
// produces it; the summary, the summary export and JUnit render it, so no output imports the
// engine. It names the threshold by copies of the plan's fields (metrics cannot import plan).
type Verdict struct {
	// The threshold as the plan wrote it.
	Name       string            // the block label, e.g. `http_req_duration{scenario=rest}`
	Metric     Metric            // the metric judged
	Selector   map[string]string // its tag filters; shared with the plan, read-only
	Conditions []Condition       // its conditions, in order
	Window     time.Duration     // sliding-window scope; 0 when none
	Stage      int               // 1-based stage scope; 0 when none

	Pass      bool
	NoSamples bool      // the metric and selector received no samples in scope: a failure
	Reason    string    // why it failed other than by a value ("no samples", ...); "" otherwise
	Outcomes  []Outcome // one per condition, in order; none when the scope does not exist
	// Windows is, for a windowed threshold, how many windows held samples and were judged, and
	// FailedWindows how many of them failed; the observed values are the worst window's.
	Windows, FailedWindows int
	AbortedRun             bool // this threshold's abort_on_fail stopped the run
}

// Outcome is one condition's outcome.
type Outcome struct {
	Condition Condition
	Observed  float64 // in the metric's unit (milliseconds for time)
	Valid     bool    // Observed means something (false: no samples, no time for a rate)
	Pass      bool
	// Skipped: a baseline condition judged without a baseline; Pass is then true so that it fails
	// nothing, but it is reported as skipped, never as passed.
	Skipped bool
}

// SkippedNote is what a skipped baseline condition reports.
const SkippedNote = "skipped: no baseline (apply --baseline FILE)"

// Skipped reports whether every condition of v was skipped for want of a baseline.
func (v Verdict) Skipped() bool {
	for _, r := range v.Outcomes {
		if !r.Skipped {
			return false
		}
	}
	return len(v.Outcomes) > 0
}

// observed renders one outcome: "p(95)=412.3ms", with the baseline's bound when it has one
// ("p(95)=412.3ms vs baseline 380ms → bound 418ms").
func (v Verdict) observed(r Outcome) string {
	s := r.Condition.AggName() + "=n/a"
	if r.Valid {
		s = r.Condition.AggName() + "=" + FormatValue(v.Metric, r.Condition.Agg, r.Observed)
	}
	c := r.Condition
	switch {
	case r.Skipped:
		s += " (" + SkippedNote + ")"
	case c.Baseline && c.BaseSet:
		s += " vs baseline " + FormatValue(v.Metric, c.Agg, c.BaseValue) + ", bound " + FormatValue(v.Metric, c.Agg, c.Bound)
	}
	return s
}

// Summary renders the observed values, e.g. "p(95)=412.3ms, rate=0.20%", or the reason.
func (v Verdict) Summary() string {
	if v.NoSamples {
		return v.Reason
	}
	var parts []string
	for _, r := range v.Outcomes {
		parts = append(parts, v.observed(r))
	}
	s := strings.Join(parts, ", ")
	if v.Reason != "" {
		s += " (" + v.Reason + ")"
	}
	return s
}

// Scope describes what the threshold judged: "", "worst 1m window (3/40 failed)", "stage 2".
func (v Verdict) Scope() string {
	switch {
	case v.Window > 0:
		s := "worst " + v.Window.String() + " window"
		if v.Windows > 0 {
			s += " (" + itoa(v.FailedWindows) + "/" + itoa(v.Windows) + " failed)"
		}
		return s
	case v.Stage > 0:
		return "stage " + itoa(v.Stage)
	}
	return ""
}

// Failure renders a failed verdict for CI reports: which conditions failed with the observed
// value, e.g. "p(95) < 300ms: observed p(95)=412.3ms".
func (v Verdict) Failure() string {
	if v.Pass {
		return ""
	}
	if v.NoSamples {
		return v.Name + ": no samples (the metric and selector received none; check the metric name, tags and scope)"
	}
	var parts []string
	for _, r := range v.Outcomes {
		if r.Pass {
			continue
		}
		parts = append(parts, r.Condition.Source+": observed "+v.observed(r))
	}
	s := strings.Join(parts, "; ")
	if sc := v.Scope(); sc != "" {
		s += " [" + sc + "]"
	}
	if v.Reason != "" {
		s += " (" + v.Reason + ")"
	}
	return s
}

// Matches reports whether the series key k is one the threshold judges: its metric, and every
// tag of its selector with the wanted value.
func (v Verdict) Matches(k Key) bool { return k.Metric == v.Metric && k.Matches(v.Selector) }
