package metrics

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Condition is one parsed threshold condition such as `p(95) < 300ms`: an aggregation of a
// metric's series, a comparison and a bound. Time bounds are held in milliseconds.
type Condition struct {
	Source string  // as written
	Agg    string  // avg, min, max, med, p, count, rate, value
	P      float64 // percentile for Agg == "p", 0..100
	Op     string  // <, <=, >, >=, ==, !=
	Bound  float64

	// Baseline marks a bound relative to a baseline run ("p(95) < baseline * 1.10"): Bound is
	// then BaseValue*BaseMul + BaseAdd once BaseSet, i.e. once `apply --baseline FILE` gave the
	// baseline's value of the same metric, selector and aggregation (ResolveBaseline). Without
	// one the condition is skipped, never passed.
	Baseline  bool
	BaseMul   float64
	BaseAdd   float64 // in the metric's unit (milliseconds for time)
	BaseValue float64
	BaseSet   bool
}

// ResolveBaseline sets a baseline condition's bound from the baseline run's value of it.
func (c *Condition) ResolveBaseline(base float64) {
	c.BaseValue, c.BaseSet = base, true
	c.Bound = base*c.BaseMul + c.BaseAdd
}

// ConditionError says where in the condition text a problem is.
type ConditionError struct {
	Offset int // byte offset in the condition string
	Msg    string
}

func (e *ConditionError) Error() string { return e.Msg }

// aggsFor lists the aggregations each kind supports.
var aggsFor = map[Kind][]string{
	Trend:   {"avg", "min", "max", "med", "p", "count"},
	Counter: {"count", "rate"},
	Rate:    {"rate"},
	Gauge:   {"value", "min", "max"},
}

// ParseCondition parses a condition for a metric of kind k and unit u.
func ParseCondition(src string, k Kind, u Unit) (Condition, error) {
	c := Condition{Source: src}
	s := src
	i := 0
	skip := func() {
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	skip()
	start := i
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z') {
		i++
	}
	c.Agg = s[start:i]
	if c.Agg == "baseline" {
		return c, &ConditionError{start, `baseline is the bound, on the right of the comparison: "p(95) < baseline * 1.10"`}
	}
	if c.Agg == "" {
		return c, &ConditionError{start, "a condition starts with an aggregation such as p(95), avg, rate or count"}
	}
	if c.Agg == "p" {
		if i >= len(s) || s[i] != '(' {
			return c, &ConditionError{i, `a percentile is written p(N), e.g. "p(95) < 300ms"`}
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return c, &ConditionError{i, `missing ")" after the percentile`}
		}
		p, err := strconv.ParseFloat(strings.TrimSpace(s[i+1:i+j]), 64)
		if err != nil || p < 0 || p > 100 {
			return c, &ConditionError{i + 1, "the percentile must be a number from 0 to 100"}
		}
		c.P = p
		i += j + 1
	}
	ok := false
	for _, a := range aggsFor[k] {
		if a == c.Agg {
			ok = true
		}
	}
	if !ok {
		return c, &ConditionError{start, fmt.Sprintf("%q does not apply to a %s metric; use one of %s", c.Agg, k, aggList(k))}
	}
	skip()
	opStart := i
	for i < len(s) && strings.IndexByte("<>=!", s[i]) >= 0 {
		i++
	}
	c.Op = s[opStart:i]
	switch c.Op {
	case "<", "<=", ">", ">=", "==", "!=":
	default:
		return c, &ConditionError{opStart, "expected a comparison: <, <=, >, >=, == or !="}
	}
	skip()
	valStart := i
	val := strings.TrimSpace(s[i:])
	if val == "" {
		return c, &ConditionError{valStart, "expected a value after the comparison"}
	}
	timed := u == Time && (c.Agg != "count")
	if strings.HasPrefix(val, "baseline") {
		return parseBaseline(c, val, valStart, timed)
	}
	if timed {
		if f, err := strconv.ParseFloat(val, 64); err == nil {
			c.Bound = f // a bare number is milliseconds, as in k6
			return c, nil
		}
		d, err := time.ParseDuration(val)
		if err != nil {
			return c, &ConditionError{valStart, fmt.Sprintf("%q is not a duration; write e.g. 300ms, 1.5s or a number of milliseconds", val)}
		}
		c.Bound = float64(d) / float64(time.Millisecond)
		return c, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(val, "%"), 64)
	if err != nil {
		return c, &ConditionError{valStart, fmt.Sprintf("%q is not a number", val)}
	}
	if strings.HasSuffix(val, "%") {
		f /= 100
	}
	c.Bound = f
	return c, nil
}

// parseBaseline parses a bound relative to the baseline: "baseline", "baseline * 1.10",
// "baseline + 0.001", "baseline + 20ms" (a time metric's addend is a duration or milliseconds).
func parseBaseline(c Condition, val string, at int, timed bool) (Condition, error) {
	c.Baseline, c.BaseMul = true, 1
	rest := strings.TrimSpace(strings.TrimPrefix(val, "baseline"))
	if rest == "" {
		return c, nil
	}
	at += len(val) - len(rest)
	op, num := rest[0], strings.TrimSpace(rest[1:])
	if strings.IndexByte("*+-", op) < 0 || num == "" {
		return c, &ConditionError{at, `a baseline bound is "baseline", "baseline * 1.10" or "baseline + 0.001"`}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil && timed && op != '*' {
		d, derr := time.ParseDuration(num)
		if derr == nil {
			f, err = float64(d)/float64(time.Millisecond), nil
		}
	}
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return c, &ConditionError{at + 1, fmt.Sprintf("%q is not a non-negative number%s", num, map[bool]string{true: " or duration", false: ""}[timed && op != '*'])}
	}
	switch op {
	case '*':
		c.BaseMul = f
	case '+':
		c.BaseAdd = f
	case '-':
		c.BaseAdd = -f
	}
	return c, nil
}

func aggList(k Kind) string {
	var b []string
	for _, a := range aggsFor[k] {
		if a == "p" {
			a = "p(N)"
		}
		b = append(b, a)
	}
	return strings.Join(b, ", ")
}

// Observe returns the condition's aggregation of s. elapsed is the run time the series covers, for
// a counter's rate. ok is false when s holds no samples (a threshold then fails, never passes).
//
// Requests that got no response (s.Unanswered) have no value but are not forgotten: ranked above
// every answered one, they make max and avg unbounded (+Inf), and a percentile +Inf once they
// are more than its share (p(95) with over 5% unanswered); below it the percentile is taken at
// its rank among all the requests.
func (c Condition) Observe(s *Series, elapsed time.Duration) (v float64, ok bool) {
	if s == nil || (s.Count == 0 && s.Unanswered == 0) {
		return 0, false
	}
	if s.Unanswered > 0 {
		if v, ok := c.observeUnanswered(s); ok {
			return v, true
		}
	}
	k := s.Key.Metric.Kind()
	switch c.Agg {
	case "count":
		if k == Counter {
			return s.Sum, true
		}
		return float64(s.Count), true
	case "rate":
		if k == Counter {
			if elapsed <= 0 {
				return 0, false
			}
			return s.Sum / elapsed.Seconds(), true
		}
		return float64(s.Trues) / float64(s.Count), true
	case "value":
		return s.Last, true
	case "avg":
		return s.Sum / float64(s.Count), true
	case "min":
		if s.Hist != nil {
			return s.Hist.Min, true
		}
		return s.Min, true
	case "max":
		if s.Hist != nil {
			return s.Hist.Max, true
		}
		return s.Max, true
	case "med":
		return s.Hist.Quantile(0.5), true
	case "p":
		return s.Hist.Quantile(c.P / 100), true
	}
	return 0, false
}

// observeUnanswered is Observe's answer for the aggregations that unanswered requests change;
// ok is false for those they do not (count is the answered requests, min the fastest of them).
func (c Condition) observeUnanswered(s *Series) (float64, bool) {
	inf := math.Inf(1)
	n, all := float64(s.Count), float64(s.Count+s.Unanswered)
	q := 0.5
	switch c.Agg {
	case "avg", "max":
		return inf, true
	case "min":
		if s.Count == 0 {
			return inf, true
		}
		return 0, false
	case "p":
		q = c.P / 100
	case "med":
	default:
		return 0, false
	}
	// nearest rank among all the requests, the unanswered ones last
	rank := math.Ceil(q * all)
	if rank > n || s.Hist == nil {
		return inf, true
	}
	return s.Hist.AtRank(uint64(rank)), true
}

// Holds reports whether observed satisfies the condition.
func (c Condition) Holds(observed float64) bool {
	switch c.Op {
	case "<":
		return observed < c.Bound
	case "<=":
		return observed <= c.Bound
	case ">":
		return observed > c.Bound
	case ">=":
		return observed >= c.Bound
	case "==":
		return observed == c.Bound
	case "!=":
		return observed != c.Bound
	}
	return false
}

// AggName returns the aggregation as k6's summary-export names it: "p(95)", "avg", "rate", ...
func (c Condition) AggName() string {
	if c.Agg == "p" {
		return "p(" + strconv.FormatFloat(c.P, 'f', -1, 64) + ")"
	}
	return c.Agg
}

// Span is one stage of the plan-level load as run, as offsets from the run's start. The executor
// reports the stages it runs as Spans, the threshold engine places samples of a stage-scoped
// threshold by them, and a segment summary carries them to `loadplan merge`: one type, defined
// in this leaf so that all three use it without a conversion (its JSON form, {"Start":ns,
// "End":ns}, is part of the segment summary format).
type Span struct {
	Start, End time.Duration
}

// ThresholdState is the mergeable part of one threshold's state: what a segment summary carries
// and `loadplan merge` combines across segments to judge the thresholds over the whole fleet.
type ThresholdState struct {
	Name    string            // the threshold's name as written in the plan
	Total   *Series           // run or stage scope
	Buckets map[int64]*Series // window scope, by Unix second (complete when the engine keeps buckets)
}
