package compare

import (
	"math"

	"github.com/loadplan/loadplan/metrics"
)

// Alpha is the significance level of every test: a change is significant when its one-sided
// p-value is below it. 1% rather than 5% because a compare judges a dozen rows per step, and a
// CI gate that cries wolf gets switched off.
const Alpha = 0.01

// phi is the standard normal distribution function.
func phi(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// MannWhitney is the Mann–Whitney U (Wilcoxon rank-sum) test of two latency histograms, with the
// normal approximation, the tie correction and a continuity correction. Values in one histogram
// bucket are ties (they are equal to the histogram's precision, 1/128 of a power of two); both
// histograms bucket alike, so a merge walk over their buckets ranks every value exactly as the
// binned data stands, without expanding a sample. It returns the one-sided p-values that the new
// values are stochastically greater (slower) and smaller (faster) than the base ones; both are 1
// when either side has no values.
//
// Why a rank test: it needs no assumption on the shape of latency distributions (skewed,
// multi-modal), it uses every value the histograms hold, it is exact to the bins and costs one
// pass over the buckets — a bootstrap would resample millions of values for the same verdict.
func MannWhitney(base, next *metrics.Histogram) (slower, faster float64) {
	if base == nil || next == nil || base.Count == 0 || next.Count == 0 {
		return 1, 1
	}
	type bin struct {
		lo     float64
		n1, n2 uint64
	}
	var bins []bin
	base.Ranges(func(lo, _ float64, n uint64) { bins = append(bins, bin{lo: lo, n1: n}) })
	var merged []bin
	i := 0
	next.Ranges(func(lo, _ float64, n uint64) {
		for i < len(bins) && bins[i].lo < lo {
			merged = append(merged, bins[i])
			i++
		}
		if i < len(bins) && bins[i].lo == lo {
			b := bins[i]
			b.n2 = n
			merged = append(merged, b)
			i++
			return
		}
		merged = append(merged, bin{lo: lo, n2: n})
	})
	merged = append(merged, bins[i:]...)
	n1, n2 := float64(base.Count), float64(next.Count)
	n := n1 + n2
	var r2, ties, below float64
	for _, b := range merged {
		t := float64(b.n1 + b.n2)
		r2 += float64(b.n2) * (below + (t+1)/2) // the bin's mid-rank
		ties += t*t*t - t
		below += t
	}
	u := r2 - n2*(n2+1)/2
	mean := n1 * n2 / 2
	v := n1 * n2 / 12 * ((n + 1) - ties/(n*(n-1)))
	if v <= 0 {
		return 1, 1 // every value in one bin: no evidence either way
	}
	sd := math.Sqrt(v)
	// phi(-z), not 1-phi(z): a tiny p-value stays above 0
	return phi(-(u - mean - 0.5) / sd), phi((u - mean + 0.5) / sd)
}

// TwoProportions is the pooled two-proportion z-test of failure rates f1/n1 (base) and f2/n2
// (new): the one-sided p-values that the new rate is higher and lower. Both are 1 when a side is
// empty or no request failed on either side.
func TwoProportions(f1, n1, f2, n2 uint64) (higher, lower float64) {
	if n1 == 0 || n2 == 0 || f1+f2 == 0 {
		return 1, 1
	}
	p1, p2 := float64(f1)/float64(n1), float64(f2)/float64(n2)
	p := float64(f1+f2) / float64(n1+n2)
	sd := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n2)))
	if sd == 0 {
		return 1, 1
	}
	z := (p2 - p1) / sd
	return phi(-z), phi(z)
}

// PoissonRates compares two event rates, c1 events in s1 seconds (base) and c2 in s2 (new), with
// the conditional test: under equal rates c2 given c1+c2 is binomial with p = s2/(s1+s2)
// (normal approximation). It returns the one-sided p-values that the new rate is lower and
// higher. In a closed model the count is fixed and the time varies, which a Poisson model
// describes only roughly; the verdict also needs the change beyond the tolerance.
func PoissonRates(c1 float64, s1 float64, c2 float64, s2 float64) (lower, higher float64) {
	if s1 <= 0 || s2 <= 0 || c1+c2 == 0 {
		return 1, 1
	}
	n := c1 + c2
	p := s2 / (s1 + s2)
	sd := math.Sqrt(n * p * (1 - p))
	if sd == 0 {
		return 1, 1
	}
	z := (c2 - n*p) / sd
	return phi(z), phi(-z)
}
