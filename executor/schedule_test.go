package executor

import (
	"math"
	"testing"
	"time"
)

func TestPacerTable(t *testing.T) {
	const s = time.Second
	tests := []struct {
		name  string
		r     ramp
		count uint64
		at    map[uint64]time.Duration // n -> expected offset
	}{
		{"constant 10/s for 1s", ramp{10, []rampStage{{s, 10}}}, 10,
			map[uint64]time.Duration{0: 0, 1: 100 * time.Millisecond, 9: 900 * time.Millisecond}},
		{"constant 3/s for 3s", ramp{3, []rampStage{{3 * s, 3}}}, 9,
			map[uint64]time.Duration{3: s, 8: 2*s + 666666666}},
		{"ramp 0 to 10 over 2s", ramp{0, []rampStage{{2 * s, 10}}}, 10,
			// integral 2.5 t^2 reaches n at t = sqrt(n/2.5)
			map[uint64]time.Duration{0: 0, 1: time.Duration(math.Sqrt(1/2.5) * 1e9), 9: time.Duration(math.Sqrt(9/2.5) * 1e9)}},
		{"ramp down 10 to 0 over 2s", ramp{10, []rampStage{{2 * s, 0}}}, 10,
			// 10t - 2.5t^2 = n
			map[uint64]time.Duration{0: 0, 5: time.Duration((10 - math.Sqrt(100-50)) / 5 * 1e9)}},
		{"two stages", ramp{5, []rampStage{{s, 5}, {s, 10}}}, 13,
			// stage 1: 5 iterations at 0..0.8s; stage 2 starts at n=5 at t=1s
			map[uint64]time.Duration{4: 800 * time.Millisecond, 5: s}},
		{"zero-rate pause", ramp{0, []rampStage{{s, 0}, {s, 4}}}, 2,
			map[uint64]time.Duration{0: s}},
		{"fractional total", ramp{2.5, []rampStage{{s, 2.5}}}, 3,
			map[uint64]time.Duration{2: 800 * time.Millisecond}},
		{"nothing", ramp{0, []rampStage{{s, 0}}}, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPacer(tc.r)
			if got := p.count(); got != tc.count {
				t.Fatalf("count = %d, want %d", got, tc.count)
			}
			// at(n) is defined exactly for n < count, increasing, and within the ramp.
			var prev time.Duration
			for n := uint64(0); n < tc.count; n++ {
				off, ok := p.at(n)
				if !ok {
					t.Fatalf("at(%d) not ok, count %d", n, tc.count)
				}
				if off < prev || off > tc.r.total() {
					t.Fatalf("at(%d) = %v after %v (total %v)", n, off, prev, tc.r.total())
				}
				prev = off
			}
			if _, ok := p.at(tc.count); ok {
				t.Fatalf("at(count=%d) is ok", tc.count)
			}
			for n, want := range tc.at {
				got, _ := p.at(n)
				if d := got - want; d < -time.Microsecond || d > time.Microsecond {
					t.Errorf("at(%d) = %v, want %v", n, got, want)
				}
			}
		})
	}
}

func TestPacerExactForWholeProducts(t *testing.T) {
	for _, rate := range []float64{1, 7, 10, 33, 100, 1000, 5000} {
		for _, secs := range []int{1, 3, 10, 60} {
			p := newPacer(ramp{rate, []rampStage{{time.Duration(secs) * time.Second, rate}}})
			if got, want := p.count(), uint64(rate)*uint64(secs); got != want {
				t.Errorf("%v/s for %ds: count %d, want %d", rate, secs, got, want)
			}
		}
	}
}

// TestSegmentSharesSumExactly: the stripes of v over n segments, from any offset, are balanced,
// sum to v, and grow by one in exactly one segment when v does (a ramp moves no VU across).
func TestSegmentSharesSumExactly(t *testing.T) {
	for _, v := range []int{0, 1, 2, 3, 7, 10, 99, 100, 1001} {
		for n := 1; n <= 7; n++ {
			for off := range n {
				sum, grew := 0, 0
				for i := 1; i <= n; i++ {
					s := stripe(v, off, i, n)
					if s < v/n || s > v/n+1 {
						t.Errorf("stripe(%d,%d,%d,%d) = %d is unbalanced", v, off, i, n, s)
					}
					sum += s
					grew += stripe(v+1, off, i, n) - s
				}
				if sum != v || grew != 1 {
					t.Errorf("v=%d n=%d off=%d: stripes sum to %d, grew by %d", v, n, off, sum, grew)
				}
			}
		}
	}
}

func TestSegmentRateSharesSumExactly(t *testing.T) {
	// Segment i runs iterations n ≡ i-1 (mod Total); together they run every scheduled one.
	p := newPacer(ramp{0, []rampStage{{10 * time.Second, 37}, {5 * time.Second, 37}}})
	whole := p.count()
	for total := 1; total <= 5; total++ {
		var sum uint64
		for i := 1; i <= total; i++ {
			for n := uint64(i - 1); ; n += uint64(total) {
				if _, ok := p.at(n); !ok {
					break
				}
				sum++
			}
		}
		if sum != whole {
			t.Errorf("%d segments run %d iterations, whole %d", total, sum, whole)
		}
	}
}

func TestSplitWeights(t *testing.T) {
	tests := []struct {
		total   int
		weights []int
		want    []int
	}{
		{10, []int{1, 1}, []int{5, 5}},
		{10, []int{3, 1}, []int{8, 2}}, // 7.5 / 2.5: tie goes to the first
		{1, []int{1, 1, 1}, []int{1, 0, 0}},
		{5, []int{1, 2, 2}, []int{1, 2, 2}},
		{7, []int{1, 2, 4}, []int{1, 2, 4}},
		{0, []int{1, 2}, []int{0, 0}},
		{4, []int{1, 1, 1}, []int{2, 1, 1}},
	}
	for _, tc := range tests {
		got := splitWeights(tc.total, tc.weights)
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("splitWeights(%d, %v) = %v, want %v", tc.total, tc.weights, got, tc.want)
				break
			}
		}
	}
}

func TestWeightPattern(t *testing.T) {
	tests := []struct {
		weights []int
		want    []int // one cycle
	}{
		{[]int{3, 1}, []int{0, 0, 1, 0}},
		{[]int{1, 1}, []int{0, 1}},
		{[]int{1}, []int{0}},
		{[]int{2, 2, 1}, []int{0, 1, 2, 0, 1}},
		{[]int{5, 1, 1}, []int{0, 0, 1, 0, 2, 0, 0}},
		{[]int{0, 0}, []int{0}}, // no weight: everything to the first
	}
	for _, tc := range tests {
		got := weightPattern(tc.weights)
		if len(got) != len(tc.want) {
			t.Errorf("weightPattern(%v) = %v, want %v", tc.weights, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("weightPattern(%v) = %v, want %v", tc.weights, got, tc.want)
				break
			}
		}
	}
}

func TestRampAt(t *testing.T) {
	const s = time.Second
	r := ramp{2, []rampStage{{10 * s, 12}, {10 * s, 12}, {5 * s, 0}}}
	tests := []struct {
		t     time.Duration
		want  float64
		stage int
	}{
		{-s, 2, 0},
		{0, 2, 0},
		{5 * s, 7, 0},
		{10 * s, 12, 1},
		{15 * s, 12, 1},
		{22500 * time.Millisecond, 6, 2},
		{25 * s, 0, 2},
		{time.Minute, 0, 2},
	}
	for _, tc := range tests {
		if got := r.at(tc.t); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("at(%v) = %v, want %v", tc.t, got, tc.want)
		}
		if got := r.stageAt(tc.t); got != tc.stage {
			t.Errorf("stageAt(%v) = %d, want %d", tc.t, got, tc.stage)
		}
	}
	if r.peak() != 12 || r.total() != 25*s {
		t.Errorf("peak %v, total %v; want 12, 25s", r.peak(), r.total())
	}
}

func TestScaleRamp(t *testing.T) {
	const s = time.Second
	r := ramp{2, []rampStage{{10 * s, 12}, {20 * s, 12}, {30 * s, 0}}}
	tests := []struct {
		f    float64
		want []time.Duration
	}{
		{1, []time.Duration{10 * s, 20 * s, 30 * s}},
		{0.5, []time.Duration{5 * s, 10 * s, 15 * s}},
		{0.1, []time.Duration{s, 2 * s, 3 * s}},
	}
	for _, tc := range tests {
		got := scaleRamp(r, tc.f)
		for i, st := range got.stages {
			if st.dur != tc.want[i] || st.target != r.stages[i].target {
				t.Errorf("scaleRamp(%v) stage %d = %v, want %v to %v", tc.f, i, st, tc.want[i], r.stages[i].target)
			}
		}
		if got.start != r.start {
			t.Errorf("scaleRamp(%v) starts at %v", tc.f, got.start)
		}
	}
}
