package compare

import (
	"fmt"
	"sort"

	"github.com/loadplan/loadplan/metrics"
)

// Verdicts of one row.
const (
	NoChange    = "no change"   // within the tolerance
	Noise       = "noise"       // beyond the tolerance, but the test cannot tell it from noise
	Regression  = "regression"  // significantly worse, beyond the tolerance
	Improvement = "improvement" // significantly better, beyond the tolerance
	Missing     = "missing"     // the step is in one run only
)

// ErrorFloor is the smallest rise of an error rate judged a regression (0.1 percentage point):
// a tolerance relative to a baseline of zero errors would call one failed request a regression.
const ErrorFloor = 0.001

// Row is one metric of one step: the base and new values, the relative change, the test's
// one-sided p-value in the direction of the change, and the verdict.
type Row struct {
	Metric  string  `json:"metric"` // "requests/s", "error rate", "p(50)", ...
	Base    float64 `json:"base"`   // milliseconds for latencies, a fraction for the error rate
	New     float64 `json:"new"`
	Change  float64 `json:"change"` // (new-base)/base; 0 when base is 0
	P       float64 `json:"p"`
	Test    string  `json:"test"`
	Verdict string  `json:"verdict"`
}

// Step is one step's rows; Name is "scenario/step".
type Step struct {
	Name    string `json:"name"`
	Base    uint64 `json:"base_requests"`
	New     uint64 `json:"new_requests"`
	Verdict string `json:"verdict"` // the worst of its rows
	Rows    []Row  `json:"rows"`
}

// Result is a whole comparison.
type Result struct {
	Base        []string `json:"base"`
	New         []string `json:"new"`
	Tolerance   float64  `json:"tolerance"`
	Alpha       float64  `json:"alpha"`
	Steps       []Step   `json:"steps"`
	Regressions []string `json:"regressions"` // "scenario/step p(95): 20.1ms → 26.3ms (+31%)"
}

// Regressed reports whether any row regressed.
func (r *Result) Regressed() bool { return len(r.Regressions) > 0 }

// stepData is what one step's HTTP series add up to.
type stepData struct {
	dur              *metrics.Histogram
	reqs             float64
	first, end       int64
	failed, answered uint64
}

func steps(run *Run) map[string]*stepData {
	out := map[string]*stepData{}
	for _, s := range run.Series {
		t := s.Key.Tags
		if t == nil || t.Step == "" {
			continue
		}
		name := t.Scenario + "/" + t.Step
		d := out[name]
		if d == nil {
			d = &stepData{dur: &metrics.Histogram{}}
		}
		switch s.Key.Metric {
		case metrics.HTTPReqDuration:
			if s.Hist != nil {
				d.dur.Merge(s.Hist)
			}
		case metrics.HTTPReqs:
			d.reqs += s.Sum
			if d.first == 0 || (s.First != 0 && s.First < d.first) {
				d.first = s.First
			}
			d.end = max(d.end, s.End)
		case metrics.HTTPReqFailed:
			d.failed += s.Trues
			d.answered += s.Count
		default:
			continue
		}
		out[name] = d
	}
	return out
}

// rate is the step's requests per second over the time it ran (its first to its last request),
// not the run's: a step that runs for part of the run keeps its own pace.
func (d *stepData) rate() (float64, float64) {
	secs := float64(d.end-d.first) / 1e9
	if secs <= 0 {
		return 0, 0
	}
	return d.reqs / secs, secs
}

// Compare judges next against base, step by step, with tolerance tol (0.10 for 10%).
func Compare(base, next *Run, tol float64) *Result {
	res := &Result{Base: base.Files, New: next.Files, Tolerance: tol, Alpha: Alpha}
	bs, ns := steps(base), steps(next)
	names := map[string]bool{}
	for n := range bs {
		names[n] = true
	}
	for n := range ns {
		names[n] = true
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		b, n := bs[name], ns[name]
		if b == nil || n == nil {
			st := Step{Name: name, Verdict: Missing}
			if b != nil {
				st.Base = uint64(b.reqs)
			} else {
				st.New = uint64(n.reqs)
			}
			res.Steps = append(res.Steps, st)
			continue
		}
		st := Step{Name: name, Base: uint64(b.reqs), New: uint64(n.reqs), Verdict: NoChange}
		st.Rows = compareStep(b, n, tol)
		for _, r := range st.Rows {
			st.Verdict = worse(st.Verdict, r.Verdict)
			if r.Verdict == Regression {
				res.Regressions = append(res.Regressions, fmt.Sprintf("%s %s: %s → %s (%+.1f%%, p=%.2g, %s)",
					name, r.Metric, format(r.Metric, r.Base), format(r.Metric, r.New), 100*r.Change, r.P, r.Test))
			}
		}
		res.Steps = append(res.Steps, st)
	}
	return res
}

var rank = map[string]int{NoChange: 0, Improvement: 1, Noise: 2, Missing: 3, Regression: 4}

func worse(a, b string) string {
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func compareStep(b, n *stepData, tol float64) []Row {
	var rows []Row
	br, bsecs := b.rate()
	nr, nsecs := n.rate()
	lower, higher := PoissonRates(b.reqs, bsecs, n.reqs, nsecs)
	// Fewer requests per second is the worse direction.
	rows = append(rows, judge(Row{Metric: "requests/s", Base: br, New: nr, Test: "poisson rates"},
		nr < br*(1-tol), nr > br*(1+tol), lower, higher))
	be, ne := ratio(b.failed, b.answered), ratio(n.failed, n.answered)
	up, down := TwoProportions(b.failed, b.answered, n.failed, n.answered)
	rows = append(rows, judge(Row{Metric: "error rate", Base: be, New: ne, Test: "two-proportion z"},
		ne > be*(1+tol)+ErrorFloor, ne < be*(1-tol)-ErrorFloor, up, down))
	slower, faster := MannWhitney(b.dur, n.dur)
	for _, q := range []float64{50, 90, 95, 99} {
		bq, nq := b.dur.Quantile(q/100), n.dur.Quantile(q/100)
		rows = append(rows, judge(Row{Metric: fmt.Sprintf("p(%g)", q), Base: bq, New: nq, Test: "mann-whitney u"},
			nq > bq*(1+tol), nq < bq*(1-tol), slower, faster))
	}
	return rows
}

// judge fills a row's change and verdict: worse and better say whether the change passes the
// tolerance either way, pWorse and pBetter are the test's one-sided p-values.
func judge(r Row, worse, better bool, pWorse, pBetter float64) Row {
	if r.Base != 0 {
		r.Change = (r.New - r.Base) / r.Base
	}
	switch {
	case worse && pWorse < Alpha:
		r.Verdict, r.P = Regression, pWorse
	case better && pBetter < Alpha:
		r.Verdict, r.P = Improvement, pBetter
	case worse:
		r.Verdict, r.P = Noise, pWorse
	case better:
		r.Verdict, r.P = Noise, pBetter
	default:
		r.Verdict, r.P = NoChange, min(pWorse, pBetter)
	}
	return r
}

func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
