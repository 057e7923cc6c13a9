package compare

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/loadplan/loadplan/metrics"
)

// referenceU computes the Mann–Whitney statistic of the new values the textbook way, over the
// values themselves, ties given mid-ranks — with each value replaced by its histogram bucket's low
// bound, which is what "tied within a bucket" means.
func referenceU(base, next []float64, bucket func(float64) float64) (u, ties float64) {
	type v struct {
		x   float64
		new bool
	}
	var all []v
	for _, x := range base {
		all = append(all, v{bucket(x), false})
	}
	for _, x := range next {
		all = append(all, v{bucket(x), true})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].x < all[j].x })
	var r2 float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].x == all[i].x {
			j++
		}
		mid := float64(i+1+j) / 2
		t := float64(j - i)
		ties += t*t*t - t
		for k := i; k < j; k++ {
			if all[k].new {
				r2 += mid
			}
		}
		i = j
	}
	n2 := float64(len(next))
	return r2 - n2*(n2+1)/2, ties
}

func hist(xs []float64) *metrics.Histogram {
	h := &metrics.Histogram{}
	for _, x := range xs {
		h.Record(x)
	}
	return h
}

// TestMannWhitneyMatchesReference holds the bucket walk to the textbook statistic computed over
// expanded values, for overlapping and disjoint samples.
func TestMannWhitneyMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, shift := range []float64{0, 0.5, 3, 50} {
		var a, b []float64
		for range 300 {
			a = append(a, 20+rng.ExpFloat64()*4)
		}
		for range 200 {
			b = append(b, 20+shift+rng.ExpFloat64()*4)
		}
		ha, hb := hist(a), hist(b)
		low := func(x float64) float64 { // the low bound of x's histogram bucket
			var lo float64
			hist([]float64{x}).Ranges(func(l, _ float64, _ uint64) { lo = l })
			return lo
		}
		u, ties := referenceU(a, b, low)
		n1, n2 := 300.0, 200.0
		sd := math.Sqrt(n1 * n2 / 12 * ((n1 + n2 + 1) - ties/((n1+n2)*(n1+n2-1))))
		want := phi(-(u - n1*n2/2 - 0.5) / sd)
		slower, faster := MannWhitney(ha, hb)
		if math.Abs(slower-want) > 1e-9 {
			t.Errorf("shift %v: p(slower) = %v, reference %v", shift, slower, want)
		}
		if shift >= 3 && (slower >= Alpha || faster < 0.5) {
			t.Errorf("shift %v ms: p(slower) = %v, p(faster) = %v; want a significant slowdown", shift, slower, faster)
		}
		if shift == 0 && slower < Alpha {
			t.Errorf("same distribution judged slower: p = %v", slower)
		}
	}
}

func TestTwoProportions(t *testing.T) {
	for _, c := range []struct {
		f1, n1, f2, n2 uint64
		higher         bool // significant at Alpha
	}{
		{0, 1000, 0, 1000, false},
		{0, 1000, 1, 1000, false},
		{10, 1000, 12, 1000, false},
		{10, 1000, 60, 1000, true},
		{0, 200, 20, 200, true},
	} {
		hi, lo := TwoProportions(c.f1, c.n1, c.f2, c.n2)
		if (hi < Alpha) != c.higher || lo < Alpha {
			t.Errorf("%d/%d vs %d/%d: p(higher) = %.3g, p(lower) = %.3g; want significant %v", c.f1, c.n1, c.f2, c.n2, hi, lo, c.higher)
		}
	}
}

func TestPoissonRates(t *testing.T) {
	lower, _ := PoissonRates(1000, 10, 700, 10)
	if lower >= Alpha {
		t.Errorf("1000 vs 700 events in 10s: p(lower) = %v, want significant", lower)
	}
	lower, higher := PoissonRates(1000, 10, 990, 10)
	if lower < Alpha || higher < Alpha {
		t.Errorf("1000 vs 990 events: p = %v, %v, want no significance", lower, higher)
	}
}
