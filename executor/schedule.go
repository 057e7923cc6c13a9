package executor

import (
	"math"
	"time"
)

// This file holds the pure scheduling math: ramps of VUs or rates over stages, the arrival-rate
// pacer, execution-segment shares and weight splits. Nothing here reads a clock; all of it is
// table-tested.

// rampStage is one linear piece of a ramp: from the previous value to target over dur.
type rampStage struct {
	dur    time.Duration
	target float64
}

// ramp is a piecewise-linear function of time: start at t=0, then each stage moves linearly to
// its target. Values are VUs (users model) or iterations per second (arrival-rate model).
type ramp struct {
	start  float64
	stages []rampStage
}

// total returns the ramp's length.
func (r *ramp) total() time.Duration {
	var d time.Duration
	for _, s := range r.stages {
		d += s.dur
	}
	return d
}

// at returns the ramp's value at offset t. Before 0 it is start; after the end, the last target.
func (r *ramp) at(t time.Duration) float64 {
	prev := r.start
	if t <= 0 {
		return prev
	}
	for _, s := range r.stages {
		if t < s.dur {
			return prev + (s.target-prev)*float64(t)/float64(s.dur)
		}
		t -= s.dur
		prev = s.target
	}
	return prev
}

// stageAt returns the 0-based index of the stage running at offset t (the last one after the end).
func (r *ramp) stageAt(t time.Duration) int {
	for i, s := range r.stages {
		if t < s.dur {
			return i
		}
		t -= s.dur
	}
	return len(r.stages) - 1
}

// peak returns the ramp's highest value.
func (r *ramp) peak() float64 {
	p := r.start
	for _, s := range r.stages {
		p = math.Max(p, s.target)
	}
	return p
}

// pacerEpsilon absorbs float rounding so that R/s for D seconds yields exactly R·D iterations
// when R·D is a whole number.
const pacerEpsilon = 1e-9

// pacer turns a rate ramp (iterations per second) into the scheduled start of every iteration:
// the n-th iteration (0-based) starts where the integral of the rate reaches n. It is
// deterministic: the same ramp always yields the same schedule.
type pacer struct {
	r   ramp
	cum []float64 // cum[i] is the integral of the rate up to the end of stage i
}

func newPacer(r ramp) *pacer {
	p := &pacer{r: r, cum: make([]float64, len(r.stages))}
	prev, sum := r.start, 0.0
	for i, s := range r.stages {
		sum += (prev + s.target) / 2 * s.dur.Seconds()
		p.cum[i] = sum
		prev = s.target
	}
	return p
}

// total returns the integral of the rate over the whole ramp: the planned iteration count as a
// real number.
func (p *pacer) total() float64 {
	if len(p.cum) == 0 {
		return 0
	}
	return p.cum[len(p.cum)-1]
}

// count returns how many iterations the ramp schedules.
func (p *pacer) count() uint64 {
	t := p.total() - pacerEpsilon
	if t <= 0 {
		return 0
	}
	return uint64(math.Floor(t)) + 1
}

// at returns the scheduled offset of the n-th iteration (0-based), and false when the ramp ends
// before the integral reaches n.
func (p *pacer) at(n uint64) (time.Duration, bool) {
	m := float64(n)
	if m > p.total()-pacerEpsilon {
		return 0, false
	}
	var off time.Duration
	prev, before := p.r.start, 0.0
	for i, s := range p.r.stages {
		if s.dur > 0 && (m < p.cum[i]-pacerEpsilon || i == len(p.r.stages)-1) {
			x := m - before // iterations into this stage
			if x <= 0 {
				return off, true
			}
			a := prev                                // rate at the stage start, per second
			k := (s.target - prev) / s.dur.Seconds() // slope, per second²
			// Solve a·τ + k·τ²/2 = x for the smallest τ ≥ 0, in the form that stays exact
			// when k is 0 and stable when k is negative.
			disc := a*a + 2*k*x
			if disc < 0 {
				disc = 0
			}
			den := a + math.Sqrt(disc)
			if den <= 0 {
				return off + s.dur, true
			}
			tau := 2 * x / den
			d := time.Duration(tau * float64(time.Second))
			if d > s.dur {
				d = s.dur
			}
			return off + d, true
		}
		before = p.cum[i]
		prev = s.target
		off += s.dur
	}
	return 0, false
}

// stripe returns segment k's (1-based, of n) count of the first v members of a stripe starting at
// segment off+1: member m (0-based) runs on segment (off+m) mod n + 1. Every member has one
// segment, so the n counts sum to v exactly; each is ⌊v/n⌋ or ⌈v/n⌉; and as v grows by one
// exactly one segment gains one — a ramp never moves a VU from one segment to another. It is
// k6's execution-segment striping for equal segments.
func stripe(v, off, k, n int) int {
	if n <= 1 {
		return v
	}
	if v <= 0 {
		return 0
	}
	first := ((k-1-off)%n + n) % n // the first member falling to segment k
	if first >= v {
		return 0
	}
	return (v-1-first)/n + 1
}

// stripeOffsets returns where each scenario's stripe starts, given the single run's VUs of each
// at the load's peak: after the VUs of the scenarios before it. So the plan-wide VUs are numbered
// scenario after scenario and VU j runs on segment j mod n + 1: at the peak (and all along for the
// iterations models) the segments' totals are balanced too, and the first VUs of small scenarios
// do not all fall to the first segment.
func stripeOffsets(per []int, n int) []int {
	out := make([]int, len(per))
	sum := 0
	for i, v := range per {
		out[i] = sum % max(n, 1)
		sum += v
	}
	return out
}

// arrivalSlots returns, ascending, the plan-wide iterations of one cycle of len(pattern)·n that
// segment k runs. Iteration j goes to scenario pattern[j mod len(pattern)], as in a single run;
// that scenario's m-th iteration goes to segment (offs[i]+m) mod n + 1, so each segment runs every
// scenario's share and the segments together run every iteration once. A cycle holds each
// scenario's weight·n iterations, so exactly len(pattern) fall to each segment.
func arrivalSlots(pattern, weights, offs []int, k, n int) []uint64 {
	seen := make([]int, len(weights)) // the scenario's iterations so far in the cycle
	var out []uint64
	for j := range len(pattern) * max(n, 1) {
		i := pattern[j%len(pattern)]
		if (offs[i]+seen[i])%max(n, 1) == k-1 {
			out = append(out, uint64(j))
		}
		seen[i]++
	}
	return out
}

// splitWeights divides total among weights by the largest-remainder method; ties go to the
// earlier index, so the split is deterministic and sums to total exactly.
func splitWeights(total int, weights []int) []int {
	out := make([]int, len(weights))
	sum := 0
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 || total <= 0 {
		return out
	}
	rest := total
	rems := make([]int, len(weights)) // remainders scaled by sum, exact in integers
	for i, w := range weights {
		out[i] = total * w / sum
		rems[i] = total * w % sum
		rest -= out[i]
	}
	for ; rest > 0; rest-- {
		best := -1
		for i := range rems {
			if rems[i] >= 0 && (best < 0 || rems[i] > rems[best]) {
				best = i
			}
		}
		out[best]++
		rems[best] = -1
	}
	return out
}

// weightPattern returns a deterministic interleaving of scenario indexes in which index i appears
// weights[i] times per cycle (smooth weighted round-robin). Iteration n of a shared arrival-rate
// load goes to pattern[n % len(pattern)].
func weightPattern(weights []int) []int {
	sum := 0
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 {
		return []int{0}
	}
	cur := make([]int, len(weights))
	out := make([]int, 0, sum)
	for range sum {
		best := 0
		for i, w := range weights {
			cur[i] += w
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= sum
		out = append(out, best)
	}
	return out
}

// scaleRamp multiplies every stage duration by f (0 < f ≤ 1).
func scaleRamp(r ramp, f float64) ramp {
	out := ramp{start: r.start, stages: make([]rampStage, len(r.stages))}
	for i, s := range r.stages {
		out.stages[i] = rampStage{dur: time.Duration(float64(s.dur) * f), target: s.target}
	}
	return out
}
