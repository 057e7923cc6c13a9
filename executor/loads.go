package executor

import (
	"math"
	"sort"
	"time"

	"github.com/loadplan/loadplan/plan"
)

// Schedule is the compiled schedule of a run: every load block as this instance runs it, after
// Config.Duration scaling, the Config.MaxVUs cap and the segment's share. The executor's groups run
// it and `loadplan plan` prints it, so what is shown is what is run. It is immutable after New.
type Schedule struct {
	Loads   []*LoadSchedule // the plan-level load first, then the scenarios' own, in plan order
	Total   time.Duration   // the longest load (without graceful stop)
	Segment Segment         // the share this instance runs ({1 1}: all of it)
}

// LoadSchedule is one load block as run by this instance. Its methods are pure functions of the
// elapsed time: nothing here reads a clock.
type LoadSchedule struct {
	Load      *plan.Load    // as written in the plan
	Scenario  string        // the scenario owning this load; "" for the plan-level load
	Scenarios []string      // the scenarios sharing it, in plan order
	Weights   []int         // their weights, at least 1 each
	Duration  time.Duration // the stages as scaled, or max_duration as capped
	Stages    []Stage       // as scaled; nil for the iterations models
	// PeakVUs is the most VUs the load runs at once: the highest point of the users ramp, max_vus
	// of arrival_rate, the VUs of the iterations models — after the cap and the segment's share.
	PeakVUs         int
	PreAllocatedVUs int // arrival_rate: the VUs started before the first iteration
	Iterations      int // per_vu_iterations: per VU; shared_iterations: this instance's share

	seg     Segment
	maxVUs  int  // Config.MaxVUs; 0 is no cap
	ramp    ramp // users: VUs; arrival_rate: iterations per second of the whole plan
	pacer   *pacer
	pattern []int // arrival_rate: the scenario of iteration n is pattern[n%len(pattern)]

	// The segment's share, scenario by scenario (see split).
	offs   []int    // where each scenario's stripe of VUs and iterations starts
	slots  []uint64 // arrival_rate: the plan-wide iterations of one cycle this segment runs
	perVUs []int    // iterations models: VUs; arrival_rate: max VUs (at least 1 each)
	perPre []int    // arrival_rate: pre-allocated VUs
	perIts []int    // shared_iterations: iterations
}

// Stage is one stage as run, as offsets from the start of the run. From and To are this
// instance's VUs (users) or iterations per second (arrival_rate) at the stage's ends.
type Stage struct {
	Start, End time.Duration
	From, To   float64
	// Iterations is, for arrival_rate, this instance's share of the iterations planned during the
	// stage (the integral of the rate, a real number); 0 for the users model.
	Iterations float64
}

// staged reports whether the load runs stages (users, arrival_rate) rather than iterations.
func (s *LoadSchedule) staged() bool {
	return s.Load.Model == plan.Users || s.Load.Model == plan.ArrivalRate
}

// split is how a segment's share of a load is taken: the plan-wide count (VUs, iterations) is
// divided among the scenarios by weight exactly as a single run divides it (splitWeights), and
// then the m-th of scenario i's plan-wide VUs (or iterations) runs on segment (offs[i]+m) mod N + 1
// (stripe). Each plan-wide VU is so assigned once to a scenario and once to a segment: summed over
// the segments, every scenario's VUs and iterations are the single run's at every instant — a
// share taken of the load's total before the weight split would round a low-weight scenario
// away in every segment (3:1 over 4 VUs in 2 segments: 2 + 0 each, never the 1).
func (s *LoadSchedule) split(per []int) []int {
	out := make([]int, len(per))
	for i, v := range per {
		out[i] = stripe(v, s.offs[i], s.seg.Index, s.seg.Total)
	}
	return out
}

// capSplit applies Config.MaxVUs to a segment's VUs per scenario: over the cap, the cap is
// divided in proportion to them.
func (s *LoadSchedule) capSplit(per []int) []int {
	if s.maxVUs > 0 && sum(per) > s.maxVUs {
		return splitWeights(s.maxVUs, per)
	}
	return per
}

// usersSplit returns this instance's VUs of each scenario of the users model for a ramp value:
// floored (a VU more starts when the ramp reaches it), split by weight, this segment's stripe,
// capped.
func (s *LoadSchedule) usersSplit(v float64) []int {
	return s.capSplit(s.split(splitWeights(int(math.Floor(v+1e-9)), s.Weights)))
}

// usersAt returns the VUs of the users model for a ramp value, summed over the scenarios.
func (s *LoadSchedule) usersAt(v float64) int { return sum(s.usersSplit(v)) }

// sum returns the sum of v.
func sum(v []int) int {
	t := 0
	for _, x := range v {
		t += x
	}
	return t
}

// VUs returns the VUs this instance runs at elapsed: the users ramp; the pre-allocated VUs of
// arrival_rate (more start, up to PeakVUs, only while all are busy); the VUs of the iterations
// models until their max_duration.
func (s *LoadSchedule) VUs(elapsed time.Duration) int {
	switch s.Load.Model {
	case plan.Users:
		return s.usersAt(s.ramp.at(elapsed))
	case plan.ArrivalRate:
		return s.PreAllocatedVUs
	}
	if elapsed < 0 || elapsed > s.Duration {
		return 0
	}
	return s.PeakVUs
}

// Rate returns the iterations per second this instance starts at elapsed (arrival_rate), and 0
// for the other models, whose rate depends on the target's speed.
func (s *LoadSchedule) Rate(elapsed time.Duration) float64 {
	if s.Load.Model != plan.ArrivalRate {
		return 0
	}
	return s.ramp.at(elapsed) / float64(s.seg.Total)
}

// PeakRate returns the highest Rate.
func (s *LoadSchedule) PeakRate() float64 {
	if s.Load.Model != plan.ArrivalRate {
		return 0
	}
	return s.ramp.peak() / float64(s.seg.Total)
}

// ExpectedIterations returns the iterations this instance runs if the target keeps up: the
// iterations the arrival-rate pacer schedules for this segment, VUs × iterations per VU, the
// shared iterations; 0 for the users model, whose count depends on the target's speed.
func (s *LoadSchedule) ExpectedIterations() float64 {
	switch s.Load.Model {
	case plan.ArrivalRate:
		c, cycle := s.pacer.count(), uint64(len(s.pattern)*s.seg.Total)
		n := c / cycle * uint64(len(s.slots))
		for _, j := range s.slots {
			if j < c%cycle {
				n++
			}
		}
		return float64(n)
	case plan.PerVUIterations:
		return float64(s.PeakVUs) * float64(s.Iterations)
	case plan.SharedIterations:
		return float64(s.Iterations)
	}
	return 0
}

// iteration returns the plan-wide index of this instance's done-th iteration: the slots of
// every cycle of len(pattern)·Total plan-wide iterations (arrivalSlots).
func (s *LoadSchedule) iteration(done uint64) uint64 {
	n := uint64(len(s.slots))
	return done/n*uint64(len(s.pattern)*s.seg.Total) + s.slots[done%n]
}

// Pace returns how long after elapsed this instance's done-th iteration (0-based) of the
// arrival-rate model is due — negative when it is already late by that much — and stop true when
// the schedule has no such iteration. For the other models it always stops.
func (s *LoadSchedule) Pace(elapsed time.Duration, done uint64) (wait time.Duration, stop bool) {
	if s.pacer == nil {
		return 0, true
	}
	off, ok := s.pacer.at(s.iteration(done))
	if !ok {
		return 0, true
	}
	return off - elapsed, false
}

// finish fills the exported fields from the (scaled) ramp; it runs once, in New.
func (s *LoadSchedule) finish() {
	l := s.Load
	switch l.Model {
	case plan.ArrivalRate:
		s.offs = stripeOffsets(splitWeights(max(l.MaxVUs, l.PreAllocatedVUs), s.Weights), s.seg.Total)
		s.pacer = newPacer(s.ramp)
		s.pattern = weightPattern(s.Weights)
		s.slots = arrivalSlots(s.pattern, s.Weights, s.offs, s.seg.Index, s.seg.Total)
		maxVUs := s.capSplit(s.split(splitWeights(max(l.MaxVUs, l.PreAllocatedVUs), s.Weights)))
		s.PeakVUs = max(sum(maxVUs), 1)
		// Every segment runs every scenario's share of the iterations, so each scenario's pool
		// holds at least one VU (allocated only when an iteration comes).
		s.perVUs, s.perPre = make([]int, len(maxVUs)), s.split(splitWeights(l.PreAllocatedVUs, s.Weights))
		for i, m := range maxVUs {
			s.perVUs[i] = max(m, 1)
			s.perPre[i] = min(s.perPre[i], m)
		}
		s.PreAllocatedVUs = sum(s.perPre)
	case plan.Users:
		s.offs = stripeOffsets(splitWeights(int(math.Floor(s.ramp.peak()+1e-9)), s.Weights), s.seg.Total)
		s.PeakVUs = s.usersPeak()
	case plan.PerVUIterations:
		s.offs = stripeOffsets(splitWeights(l.VUs, s.Weights), s.seg.Total)
		s.perVUs = s.capSplit(s.split(splitWeights(l.VUs, s.Weights)))
		s.PeakVUs, s.Iterations = sum(s.perVUs), l.Iterations
	case plan.SharedIterations:
		s.splitShared()
		s.PeakVUs, s.Iterations = sum(s.perVUs), sum(s.perIts)
	}
	if !s.staged() {
		return
	}
	var at time.Duration
	prev, before := s.ramp.start, 0.0
	for i, st := range s.ramp.stages {
		stage := Stage{Start: at, End: at + st.dur}
		if l.Model == plan.Users {
			stage.From, stage.To = float64(s.usersAt(prev)), float64(s.usersAt(st.target))
		} else {
			n := float64(s.seg.Total)
			stage.From, stage.To = prev/n, st.target/n
			stage.Iterations = (s.pacer.cum[i] - before) / n
			before = s.pacer.cum[i]
		}
		s.Stages = append(s.Stages, stage)
		at, prev = at+st.dur, st.target
	}
}

// splitShared fills perVUs and perIts for shared_iterations. A single run gives a scenario whose
// weight earns it iterations but no VU one VU to run them; the segments stripe those VUs, and
// each scenario's iterations go to the segments in proportion to the VUs each holds of it — so
// no segment holds iterations without a VU, and both sum over the segments to the single run's.
func (s *LoadSchedule) splitShared() {
	l := s.Load
	its, vus := splitWeights(l.Iterations, s.Weights), splitWeights(l.VUs, s.Weights)
	s.perVUs, s.perIts = make([]int, len(vus)), make([]int, len(vus))
	for i := range vus {
		if its[i] > 0 && vus[i] == 0 {
			vus[i] = 1
		}
	}
	s.offs = stripeOffsets(vus, s.seg.Total)
	for i := range vus {
		held := make([]int, s.seg.Total) // every segment's VUs of this scenario
		for k := range held {
			held[k] = stripe(vus[i], s.offs[i], k+1, s.seg.Total)
		}
		s.perVUs[i], s.perIts[i] = held[s.seg.Index-1], splitWeights(its[i], held)[s.seg.Index-1]
	}
	s.perVUs = s.capSplit(s.perVUs)
	for i, n := range s.perIts {
		if n > 0 && s.perVUs[i] == 0 {
			s.perVUs[i] = 1
		}
	}
}

// usersPeak returns the most VUs the users ramp runs: the ramp is continuous, so it passes every
// whole value between its lowest and highest point; a segment's VUs at each are summed stripes of
// a weight split, not monotonic in the value, so every value is looked at.
func (s *LoadSchedule) usersPeak() int {
	hi := int(math.Floor(s.ramp.peak() + 1e-9))
	lo := int(math.Floor(s.ramp.start + 1e-9))
	for _, st := range s.ramp.stages {
		lo = min(lo, int(math.Floor(st.target+1e-9)))
	}
	if s.seg.Total == 1 && len(s.Weights) == 1 {
		lo = hi // the whole of one scenario: the highest value is the peak
	}
	peak := 0
	for v := max(lo, 0); v <= hi; v++ {
		peak = max(peak, s.usersAt(float64(v)))
	}
	return peak
}

// ScenarioVUs returns the VUs each of the load's scenarios, in Scenarios order, holds at elapsed
// from the start to the load's end, both included (the graceful_stop tail is not counted), and
// nil outside: this segment's share of the load's VUs split by weight (split) — the split the groups run (runIterations and
// runArrival take it from here; runUsers splits the same ramp at every tick). That is the users ramp;
// max_vus for arrival_rate, which allocates that many when the target is slow, and at least one
// per scenario (each scenario's pool holds one); the VUs of the iterations models, plus one for a
// shared_iterations scenario whose share of the VUs is none but whose share of iterations is not.
func (s *LoadSchedule) ScenarioVUs(elapsed time.Duration) []int {
	if elapsed < 0 || elapsed > s.Duration {
		return nil
	}
	if s.Load.Model == plan.Users {
		return s.usersSplit(s.ramp.at(elapsed))
	}
	return append([]int(nil), s.perVUs...)
}

// Instants returns, ascending and without repeats, the instants at which the loads' VUs — summed,
// or weighed per scenario by what each VU costs — are highest: the start, every stage's end and
// every load's end. Between two of them each load holds still or ramps one way, so the sum is
// highest at one end (give or take the one VU by which a segment's share or a weight split may
// round higher inside a ramp than at both its ends).
func (s *Schedule) Instants() []time.Duration {
	points := []time.Duration{0}
	for _, l := range s.Loads {
		for _, st := range l.Stages {
			points = append(points, st.End)
		}
		points = append(points, l.Duration)
	}
	sort.Slice(points, func(i, j int) bool { return points[i] < points[j] })
	out := points[:1]
	for _, t := range points[1:] {
		if t != out[len(out)-1] {
			out = append(out, t)
		}
	}
	return out
}

// VUsAt returns the VUs every load holds at elapsed, summed over their scenarios (ScenarioVUs).
func (s *Schedule) VUsAt(elapsed time.Duration) int {
	sum := 0
	for _, l := range s.Loads {
		for _, n := range l.ScenarioVUs(elapsed) {
			sum += n
		}
	}
	return sum
}

// PeakVUs returns the most VUs the schedule's loads, which run concurrently from the start, hold
// at once: the highest VUsAt over the Instants. It is what `loadplan plan` shows and what apply's
// resource check sizes.
func (s *Schedule) PeakVUs() int {
	peak := 0
	for _, t := range s.Instants() {
		peak = max(peak, s.VUsAt(t))
	}
	return peak
}

// ExpectedIterations returns the iterations of every load that has a planned count.
func (s *Schedule) ExpectedIterations() float64 {
	total := 0.0
	for _, l := range s.Loads {
		total += l.ExpectedIterations()
	}
	return total
}

// Schedule returns the compiled schedule the executor runs.
func (e *Executor) Schedule() *Schedule { return e.sched }
