package threshold

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// Verdict is one threshold's outcome.
type Verdict struct {
	Threshold  *plan.Threshold
	Pass       bool
	NoSamples  bool     // the metric and selector received no samples in scope: a failure
	Reason     string   // why it failed other than by a value ("no samples", ...); "" otherwise
	Conditions []Result // one per condition, in order
	// Windows is, for a windowed threshold, how many windows held samples and were judged, and
	// FailedWindows how many of them failed; the observed values are the worst window's.
	Windows, FailedWindows int
	AbortedRun             bool // this threshold's abort_on_fail stopped the run
}

// Result is one condition's outcome.
type Result struct {
	Condition metrics.Condition
	Observed  float64 // in the metric's unit (milliseconds for time)
	Valid     bool    // Observed means something (false: no samples, no time for a rate)
	Pass      bool
}

func (v Verdict) noSamples() Verdict {
	v.Pass, v.NoSamples, v.Reason = false, true, "no samples"
	for _, c := range v.Threshold.Conditions {
		v.Conditions = append(v.Conditions, Result{Condition: c})
	}
	return v
}

// NoEventsMeansZero reports whether m counts exceptional events (dropped and interrupted
// iterations, errors, WebSocket errors, reconnects, unmatched frames), which the executor emits only when they happen:
// for these, no samples at the end of a run means zero events, so `dropped_iterations count == 0`
// passes on a healthy run as k6 users expect. Every other metric without samples fails.
func NoEventsMeansZero(m metrics.Metric) bool {
	switch m {
	case metrics.DroppedIterations, metrics.IterationsInterrupted, metrics.Errors, metrics.WSErrors, metrics.WSReconnects, metrics.WSMsgsUnmatched:
		return true
	}
	return false
}

// zeroEvents judges an event counter that saw no events: count and rate are 0.
func (v Verdict) zeroEvents() Verdict {
	v.Pass, v.Reason = true, "no events"
	for _, c := range v.Threshold.Conditions {
		r := Result{Condition: c, Observed: 0, Valid: true, Pass: c.Holds(0)}
		v.Pass = v.Pass && r.Pass
		v.Conditions = append(v.Conditions, r)
	}
	return v
}

// Summary renders the observed values, e.g. "p(95)=412.3ms, rate=0.20%", or the reason.
func (v Verdict) Summary() string {
	if v.NoSamples {
		return v.Reason
	}
	var parts []string
	for _, r := range v.Conditions {
		if !r.Valid {
			parts = append(parts, r.Condition.AggName()+"=n/a")
			continue
		}
		parts = append(parts, r.Condition.AggName()+"="+FormatValue(v.Threshold.Metric, r.Condition.Agg, r.Observed))
	}
	s := strings.Join(parts, ", ")
	if v.Reason != "" {
		s += " (" + v.Reason + ")"
	}
	return s
}

// Scope describes what the threshold judged: "", "worst 1m window (3/40 failed)", "stage 2".
func (v Verdict) Scope() string {
	th := v.Threshold
	switch {
	case th.Window > 0:
		s := "worst " + th.Window.String() + " window"
		if v.Windows > 0 {
			s += " (" + itoa(v.FailedWindows) + "/" + itoa(v.Windows) + " failed)"
		}
		return s
	case th.Stage > 0:
		return "stage " + itoa(th.Stage)
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
		return v.Threshold.Name + ": no samples (the metric and selector received none; check the metric name, tags and scope)"
	}
	var parts []string
	for _, r := range v.Conditions {
		if r.Pass {
			continue
		}
		obs := "n/a"
		if r.Valid {
			obs = r.Condition.AggName() + "=" + FormatValue(v.Threshold.Metric, r.Condition.Agg, r.Observed)
		}
		parts = append(parts, r.Condition.Source+": observed "+obs)
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

// FormatValue renders an aggregation of metric m for people: durations with a unit, rates of
// rate metrics as percentages, counts as integers.
func FormatValue(m metrics.Metric, agg string, v float64) string {
	info := m.Info()
	switch {
	case agg == "count":
		return strconv.FormatFloat(v, 'f', -1, 64)
	case agg == "rate" && info.Kind == metrics.Rate:
		return strconv.FormatFloat(v*100, 'f', 2, 64) + "%"
	case agg == "rate":
		return strconv.FormatFloat(v, 'f', 2, 64) + "/s"
	case info.Unit == metrics.Time:
		return FormatMillis(v)
	case info.Unit == metrics.Bytes:
		return FormatBytes(v)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// FormatMillis renders a duration given in milliseconds the way k6 does: µs, ms, s or m+s.
func FormatMillis(ms float64) string {
	switch {
	case math.IsNaN(ms) || math.IsInf(ms, 0):
		return "n/a"
	case ms == 0:
		return "0s"
	case ms < 1 && ms > 0:
		return strconv.FormatFloat(ms*1000, 'f', 0, 64) + "µs"
	case ms < 1000:
		return strconv.FormatFloat(ms, 'f', 2, 64) + "ms"
	case ms < 60000:
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + "s"
	}
	d := time.Duration(ms * float64(time.Millisecond)).Round(time.Second)
	return d.String()
}

// FormatBytes renders a byte count with a binary unit.
func FormatBytes(b float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for b >= 1000 && i < len(units)-1 {
		b /= 1000
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(b, 'f', 0, 64) + " B"
	}
	return strconv.FormatFloat(b, 'f', 1, 64) + " " + units[i]
}

// SelectorString renders a selector the way k6 names a submetric, "{scenario:rest,step:quote}",
// tags sorted, or "" when empty.
func SelectorString(sel map[string]string) string {
	if len(sel) == 0 {
		return ""
	}
	names := make([]string, 0, len(sel))
	for n := range sel {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n + ":" + sel[n])
	}
	b.WriteByte('}')
	return b.String()
}

// Matches reports whether the series key k passes the threshold's selector (metric included).
func Matches(th *plan.Threshold, k metrics.Key) bool {
	return k.Metric == th.Metric && matchSelector(th.Selector, k)
}
