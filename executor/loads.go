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

// capVUs applies Config.MaxVUs.
func (s *LoadSchedule) capVUs(n int) int {
	if s.maxVUs > 0 && n > s.maxVUs {
		return s.maxVUs
	}
	return n
}

// share returns this instance's share of v.
func (s *LoadSchedule) share(v int) int { return segmentShare(v, s.seg.Index, s.seg.Total) }

// usersAt returns the VUs of the users model for a ramp value: floored (a VU more starts when
// the ramp reaches it), this instance's share, capped.
func (s *LoadSchedule) usersAt(v float64) int {
	return s.capVUs(s.share(int(math.Floor(v + 1e-9))))
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
		c, k, n := s.pacer.count(), uint64(s.seg.Index-1), uint64(s.seg.Total)
		if c <= k {
			return 0
		}
		return float64((c - k + n - 1) / n)
	case plan.PerVUIterations:
		return float64(s.PeakVUs) * float64(s.Iterations)
	case plan.SharedIterations:
		return float64(s.Iterations)
	}
	return 0
}

// iteration returns the plan-wide index of this instance's done-th iteration: segment Index of
// Total runs iterations Index-1, Index-1+Total, …
func (s *LoadSchedule) iteration(done uint64) uint64 {
	return uint64(s.seg.Index-1) + done*uint64(s.seg.Total)
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
		s.pacer = newPacer(s.ramp)
		s.pattern = weightPattern(s.Weights)
		maxVUs := max(l.MaxVUs, l.PreAllocatedVUs)
		s.PeakVUs = max(s.capVUs(s.share(maxVUs)), 1)
		s.PreAllocatedVUs = min(s.share(l.PreAllocatedVUs), s.PeakVUs)
	case plan.Users:
		s.PeakVUs = s.usersPeak()
	case plan.PerVUIterations:
		s.PeakVUs, s.Iterations = s.capVUs(s.share(l.VUs)), l.Iterations
	case plan.SharedIterations:
		s.PeakVUs, s.Iterations = s.capVUs(s.share(l.VUs)), s.share(l.Iterations)
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

// usersPeak returns the most VUs the users ramp runs: the ramp is continuous, so it passes every
// whole value between its lowest and highest point; a segment's share of v is ⌊v/n⌋ or ⌈v/n⌉, so
// the highest share is among the top n values.
func (s *LoadSchedule) usersPeak() int {
	hi := int(math.Floor(s.ramp.peak() + 1e-9))
	lo := int(math.Floor(s.ramp.start + 1e-9))
	for _, st := range s.ramp.stages {
		lo = min(lo, int(math.Floor(st.target+1e-9)))
	}
	peak := 0
	for v := max(lo, hi-s.seg.Total); v <= hi; v++ {
		peak = max(peak, s.capVUs(s.share(v)))
	}
	return peak
}

// ScenarioVUs returns the VUs each of the load's scenarios, in Scenarios order, holds at elapsed
// from the start to the load's end, both included (the graceful_stop tail is not counted), and
// nil outside: the load's VUs split by weight — the split the groups run (runIterations and
// runArrival take it from here; runUsers splits the same ramp at every tick). That is the users ramp;
// max_vus for arrival_rate, which allocates that many when the target is slow, and at least one
// per scenario (each scenario's pool holds one); the VUs of the iterations models, plus one for a
// shared_iterations scenario whose share of the VUs is none but whose share of iterations is not.
func (s *LoadSchedule) ScenarioVUs(elapsed time.Duration) []int {
	if elapsed < 0 || elapsed > s.Duration {
		return nil
	}
	switch s.Load.Model {
	case plan.Users:
		return splitWeights(s.VUs(elapsed), s.Weights)
	case plan.ArrivalRate:
		per := splitWeights(s.PeakVUs, s.Weights)
		for i := range per {
			per[i] = max(per[i], 1)
		}
		return per
	}
	per := splitWeights(s.PeakVUs, s.Weights)
	if s.Load.Model == plan.SharedIterations {
		for i, it := range splitWeights(s.Iterations, s.Weights) {
			if it > 0 && per[i] == 0 {
				per[i] = 1
			}
		}
	}
	return per
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
