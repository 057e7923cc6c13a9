package executor

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// weightsOf builds a plan whose scenarios s0, s1, … carry weights and share the plan-level load l.
func weightsOf(l *plan.Load, url string, weights ...int) *plan.Plan {
	p := &plan.Plan{Load: l}
	for i, w := range weights {
		name := fmt.Sprintf("s%d", i)
		st := &plan.Step{Kind: plan.HTTPStepKind, HTTP: httpStepOf(name, "get", "GET", url)}
		p.Scenarios = append(p.Scenarios, &plan.Scenario{Name: name, Weight: w, Steps: []*plan.Step{st}})
	}
	return p
}

// segmentModels are loads of every model, with odd counts, ramps up and down, a start above zero.
func segmentModels() map[string]*plan.Load {
	return map[string]*plan.Load{
		"users 4":            {Model: plan.Users, StartVUs: 4, Stages: stagesOf(10, 4)},
		"users ramp up/down": {Model: plan.Users, StartVUs: 3, Stages: stagesOf(10, 37, 5, 37, 10, 1, 5, 13, 10, 0)},
		"users odd":          {Model: plan.Users, Stages: stagesOf(7, 11, 7, 0)},
		"arrival ramp":       {Model: plan.ArrivalRate, StartRate: 3, PreAllocatedVUs: 5, MaxVUs: 13, Stages: stagesOf(10, 17, 5, 17, 10, 2)},
		"arrival odd":        {Model: plan.ArrivalRate, StartRate: 7, PreAllocatedVUs: 3, MaxVUs: 3, Stages: stagesOf(3, 7)},
		"per-VU 4":           {Model: plan.PerVUIterations, VUs: 4, Iterations: 3},
		"per-VU 11":          {Model: plan.PerVUIterations, VUs: 11, Iterations: 5},
		"shared 4 of 9":      {Model: plan.SharedIterations, VUs: 4, Iterations: 9},
		"shared 13 of 101":   {Model: plan.SharedIterations, VUs: 13, Iterations: 101},
		"shared 2 of 50":     {Model: plan.SharedIterations, VUs: 2, Iterations: 50},
	}
}

// segmentedLoads compiles l with weights as a single run and as each of n segments.
func segmentedLoads(t *testing.T, l *plan.Load, weights []int, n int) (whole *LoadSchedule, segs []*LoadSchedule) {
	t.Helper()
	at := func(seg Segment) *LoadSchedule {
		return compiled(t, weightsOf(withDefaults(l), "http://127.0.0.1:1", weights...), Config{Segment: seg}).Loads[0]
	}
	whole = at(Segment{})
	for k := 1; k <= n; k++ {
		segs = append(segs, at(Segment{k, n}))
	}
	return whole, segs
}

// arrivalRuns returns how many iterations of each scenario the arrival-rate schedule s runs, and
// adds each plan-wide iteration it runs to seen.
func arrivalRuns(t *testing.T, s *LoadSchedule, seen map[uint64]int) []int {
	per := make([]int, len(s.Weights))
	n := uint64(s.ExpectedIterations())
	for done := uint64(0); ; done++ {
		if _, stop := s.Pace(0, done); stop {
			if done != n {
				t.Errorf("segment %v runs %d iterations, expects %d", s.seg, done, n)
			}
			return per
		}
		j := s.iteration(done)
		seen[j]++
		per[s.pattern[j%uint64(len(s.pattern))]]++
	}
}

// TestSegmentsAddUpToTheSingleRun: for every model, weights and number of segments, the segments'
// VUs of each scenario at every instant (and at every whole value of a users ramp), their
// iterations of each scenario, and their pre-allocated VUs sum exactly to the single run's; every
// plan-wide arrival-rate iteration is run by exactly one segment. The 3:1 plan of issue 14 —
// 4 VUs in 2 segments — is among them: the stream scenario's one VU runs in one segment.
func TestSegmentsAddUpToTheSingleRun(t *testing.T) {
	for name, l := range segmentModels() {
		for _, weights := range [][]int{{3, 1}, {1, 1, 5}, {10, 1}, {1}} {
			for _, n := range []int{2, 3, 4, 7} {
				t.Run(fmt.Sprintf("%s %v %d", name, weights, n), func(t *testing.T) {
					checkSegments(t, l, weights, n)
				})
			}
		}
	}
}

func checkSegments(t *testing.T, l *plan.Load, weights []int, n int) {
	whole, segs := segmentedLoads(t, l, weights, n)
	sumOver := func(f func(s *LoadSchedule) []int) []int {
		out := make([]int, len(weights))
		for _, s := range segs {
			for i, v := range f(s) {
				out[i] += v
			}
		}
		return out
	}
	var instants []time.Duration
	for at := time.Duration(0); at <= whole.Duration; at += whole.Duration / 97 {
		instants = append(instants, at)
	}
	for _, st := range whole.Stages {
		instants = append(instants, st.Start, st.End, st.End-time.Millisecond)
	}
	switch l.Model {
	case plan.Users:
		for _, at := range instants {
			got := sumOver(func(s *LoadSchedule) []int { return s.ScenarioVUs(at) })
			if want := whole.ScenarioVUs(at); !slices.Equal(got, want) {
				t.Errorf("at %s the segments run %v VUs, the single run %v", at, got, want)
			}
		}
		for v := range 40 {
			got := sumOver(func(s *LoadSchedule) []int { return s.usersSplit(float64(v)) })
			if want := whole.usersSplit(float64(v)); !slices.Equal(got, want) {
				t.Errorf("at %d VUs the segments run %v, the single run %v", v, got, want)
			}
		}
	case plan.ArrivalRate:
		seen := map[uint64]int{}
		got := sumOver(func(s *LoadSchedule) []int { return arrivalRuns(t, s, seen) })
		if want := arrivalRuns(t, whole, map[uint64]int{}); !slices.Equal(got, want) {
			t.Errorf("the segments run %v iterations, the single run %v", got, want)
		}
		for j := range uint64(whole.ExpectedIterations()) {
			if seen[j] != 1 {
				t.Errorf("plan-wide iteration %d runs %d times", j, seen[j])
			}
		}
		if got, want := sumOver(func(s *LoadSchedule) []int { return s.perPre }), whole.perPre; !slices.Equal(got, want) {
			t.Errorf("pre-allocated VUs: the segments %v, the single run %v", got, want)
		}
	default:
		got := sumOver(func(s *LoadSchedule) []int { return s.ScenarioVUs(0) })
		if want := whole.ScenarioVUs(0); !slices.Equal(got, want) {
			t.Errorf("the segments run %v VUs, the single run %v", got, want)
		}
		if l.Model == plan.SharedIterations {
			if got, want := sumOver(func(s *LoadSchedule) []int { return s.perIts }), whole.perIts; !slices.Equal(got, want) {
				t.Errorf("the segments run %v iterations, the single run %v", got, want)
			}
			for _, s := range segs {
				for i, it := range s.perIts {
					if it > 0 && s.perVUs[i] == 0 {
						t.Errorf("segment %v holds %d iterations of %d without a VU", s.seg, it, i)
					}
				}
			}
		}
	}
	// Each segment's totals stay balanced where the counts are fixed: within one VU per scenario.
	if l.Model == plan.PerVUIterations {
		lo, hi := segs[0].PeakVUs, segs[0].PeakVUs
		for _, s := range segs {
			lo, hi = min(lo, s.PeakVUs), max(hi, s.PeakVUs)
		}
		if hi-lo > 1 {
			t.Errorf("segments' VUs range %d–%d", lo, hi)
		}
	}
}

// TestIssue14StreamScenarioRuns: 4 VUs weighted 3:1 are 3 + 1 in a single run; in 2 segments
// they are 2 + 0 and 1 + 1 — not 2 + 0 twice, which never ran the stream scenario.
func TestIssue14StreamScenarioRuns(t *testing.T) {
	l := &plan.Load{Model: plan.Users, StartVUs: 4, Stages: stagesOf(10, 4)}
	whole, segs := segmentedLoads(t, l, []int{3, 1}, 2)
	got := [][]int{whole.ScenarioVUs(time.Second), segs[0].ScenarioVUs(time.Second), segs[1].ScenarioVUs(time.Second)}
	if want := [][]int{{3, 1}, {2, 0}, {1, 1}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("single run, segment 1/2, 2/2: %v, want %v", got, want)
	}
}

// TestSegmentsRequestsPerScenario: a server counting requests by path (one per scenario) receives,
// summed over the runs of N segments, exactly what it receives from a single run — scenario by
// scenario — for the deterministic models; loadplan's http_reqs per scenario equal its counts.
func TestSegmentsRequestsPerScenario(t *testing.T) {
	var mu sync.Mutex
	byPath := map[string]int{}
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		byPath[r.URL.Path]++
		mu.Unlock()
	})
	take := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := byPath
		byPath = map[string]int{}
		return out
	}
	for _, tc := range []struct {
		name    string
		l       *plan.Load
		weights []int
		n       int
	}{
		{"per-VU 4 VUs 3:1", &plan.Load{Model: plan.PerVUIterations, VUs: 4, Iterations: 3}, []int{3, 1}, 2},
		{"per-VU 11 VUs 1:1:5", &plan.Load{Model: plan.PerVUIterations, VUs: 11, Iterations: 2}, []int{1, 1, 5}, 4},
		{"shared 3 VUs 10:1", &plan.Load{Model: plan.SharedIterations, VUs: 3, Iterations: 33}, []int{10, 1}, 7},
		{"shared 5 VUs 1:1:5", &plan.Load{Model: plan.SharedIterations, VUs: 5, Iterations: 29}, []int{1, 1, 5}, 3},
		{"arrival 3:1", &plan.Load{Model: plan.ArrivalRate, StartRate: 30, PreAllocatedVUs: 4, MaxVUs: 20,
			Stages: stagesOf(0.5, 30)}, []int{3, 1}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := weightsOf(withDefaults(tc.l), srv.URL, tc.weights...)
			for i, sc := range p.Scenarios {
				sc.Steps[0].HTTP = httpStepOf(sc.Name, "get", "GET", fmt.Sprintf("%s/s%d", srv.URL, i))
			}
			take()
			run(t, Config{Plan: p})
			whole := take()
			fleet := map[string]int{}
			reported := map[string]float64{}
			for k := 1; k <= tc.n; k++ {
				col, _ := run(t, Config{Plan: p, Segment: Segment{k, tc.n}})
				for path, c := range take() {
					fleet[path] += c
				}
				for _, s := range col.store.Snapshot() {
					if s.Key.Metric == metrics.HTTPReqs {
						reported["/"+s.Key.Tags.Scenario] += s.Sum
					}
				}
			}
			t.Logf("single run %v, %d segments %v", whole, tc.n, fleet)
			if len(whole) != len(tc.weights) || !maps.Equal(whole, fleet) {
				t.Errorf("the server received %v from the single run, %v from %d segments", whole, fleet, tc.n)
			}
			for path, c := range fleet {
				if reported[path] != float64(c) {
					t.Errorf("%s: loadplan reported %v requests, the server received %d", path, reported[path], c)
				}
			}
		})
	}
}
