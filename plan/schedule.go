package plan

import (
	"math"
	"time"
)

// The schedule math below is pure: it depends on the Load only, so `loadplan plan`, the executor
// and the tests agree on the same numbers.

// level returns the stage value (VUs or iterations per TimeUnit) at t, ramping linearly from start
// through the stages. Before 0 it is start; after the last stage it is the last target.
func (l *Load) level(t time.Duration, start float64) float64 {
	if t <= 0 {
		return start
	}
	from := start
	var at time.Duration
	for _, s := range l.Stages {
		if t < at+s.Duration {
			frac := float64(t-at) / float64(s.Duration)
			return from + (s.Target-from)*frac
		}
		at += s.Duration
		from = s.Target
	}
	return from
}

// VUsAt returns the virtual users planned at t from the start of the load: the linear ramp of the
// users model, the VUs of an iterations model (for its whole max_duration), and the pre-allocated
// VUs of the arrival-rate model (which starts more, up to MaxVUs, only when they are all busy).
func (l *Load) VUsAt(t time.Duration) float64 {
	switch l.Model {
	case Users:
		return l.level(t, float64(l.StartVUs))
	case ArrivalRate:
		return float64(l.PreAllocatedVUs)
	case PerVUIterations, SharedIterations:
		if t < 0 || t > l.MaxDuration {
			return 0
		}
		return float64(l.VUs)
	}
	return 0
}

// RateAt returns the planned iterations per second at t for the arrival-rate model (stage targets
// are per TimeUnit), and 0 for the other models, whose rate depends on the target's speed.
func (l *Load) RateAt(t time.Duration) float64 {
	if l.Model != ArrivalRate {
		return 0
	}
	return l.level(t, l.StartRate) / l.unitSeconds()
}

func (l *Load) unitSeconds() float64 {
	if l.TimeUnit <= 0 {
		return 1
	}
	return l.TimeUnit.Seconds()
}

// ExpectedIterations returns the iterations the plan schedules: the integral of the rate over the
// stages for arrival_rate, VUs × Iterations for per_vu_iterations, Iterations for
// shared_iterations, and 0 for the users model (its count depends on how fast the target answers).
func (l *Load) ExpectedIterations() float64 {
	switch l.Model {
	case ArrivalRate:
		total := 0.0
		from := l.StartRate
		for _, s := range l.Stages {
			total += (from + s.Target) / 2 * s.Duration.Seconds()
			from = s.Target
		}
		return total / l.unitSeconds()
	case PerVUIterations:
		return float64(l.VUs) * float64(l.Iterations)
	case SharedIterations:
		return float64(l.Iterations)
	}
	return 0
}

// StageIterations returns the iterations the arrival-rate model schedules during stage i (0-based),
// and 0 for other models.
func (l *Load) StageIterations(i int) float64 {
	if l.Model != ArrivalRate || i < 0 || i >= len(l.Stages) {
		return 0
	}
	from := l.StartRate
	if i > 0 {
		from = l.Stages[i-1].Target
	}
	s := l.Stages[i]
	return (from + s.Target) / 2 * s.Duration.Seconds() / l.unitSeconds()
}

// PeakVUs returns the most VUs the load may run at once: the highest stage target (or StartVUs)
// of the users model, MaxVUs for arrival_rate, VUs for the iterations models.
func (l *Load) PeakVUs() int {
	switch l.Model {
	case Users:
		peak := float64(l.StartVUs)
		for _, s := range l.Stages {
			peak = math.Max(peak, s.Target)
		}
		return int(peak)
	case ArrivalRate:
		return l.MaxVUs
	}
	return l.VUs
}

// PeakRate returns the highest planned iterations per second (arrival_rate only).
func (l *Load) PeakRate() float64 {
	if l.Model != ArrivalRate {
		return 0
	}
	peak := l.StartRate
	for _, s := range l.Stages {
		peak = math.Max(peak, s.Target)
	}
	return peak / l.unitSeconds()
}

// StageStart returns the offset at which stage i (0-based) starts.
func (l *Load) StageStart(i int) time.Duration {
	var at time.Duration
	for j := 0; j < i && j < len(l.Stages); j++ {
		at += l.Stages[j].Duration
	}
	return at
}
