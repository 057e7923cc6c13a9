package summary

import (
	"math"
	"math/bits"

	"github.com/loadplan/loadplan/metrics"
)

// CoarseHist is a small mergeable latency histogram for the per-interval percentiles of the
// charts: 16 buckets per power of two (a quantile within 1/32, about 3%, of a recorded value),
// made from metrics.Histogram's buckets, which nest in its own (128 per power of two), so that
// converting loses nothing a chart can show and merging stays exact. metrics.Histogram's
// precision would cost ~10 KB per step and second; this one ~1 KB at most, which is what keeps a
// long run's timeline bounded (TimelineMaxBuckets). FuzzCoarseHistQuantiles holds its quantiles
// to the exact ones of the recorded values.
type CoarseHist struct {
	Lo     int      `json:"lo"`
	Counts []uint64 `json:"n"`
	Count  uint64   `json:"count"`
	Sum    float64  `json:"sum"`
	Min    float64  `json:"min"`
	Max    float64  `json:"max"`
}

const coarseSub = 16

// coarseBucket returns the bucket of x thousandths.
func coarseBucket(x uint64) int {
	if x < coarseSub {
		return int(x)
	}
	e := bits.Len64(x) - 5 // leaves 5 significant bits, mantissa in [16,32)
	return (e+1)*coarseSub + int(x>>uint(e)) - coarseSub
}

// coarseMid returns the middle of bucket i, in thousandths.
func coarseMid(i int) float64 {
	if i < coarseSub {
		return float64(i)
	}
	e := i/coarseSub - 1
	m := uint64(i%coarseSub + coarseSub)
	return float64(m<<uint(e)) + float64(uint64(1)<<uint(e))/2
}

func (h *CoarseHist) addN(i int, n uint64) {
	if len(h.Counts) == 0 {
		h.Counts = make([]uint64, 1, 8)
		h.Lo = i
	}
	if i < h.Lo {
		grow := h.Lo - i
		c := make([]uint64, len(h.Counts)+grow)
		copy(c[grow:], h.Counts)
		h.Counts, h.Lo = c, i
	}
	if j := i - h.Lo; j >= len(h.Counts) {
		h.Counts = append(h.Counts, make([]uint64, j-len(h.Counts)+1)...)
	}
	h.Counts[i-h.Lo] += n
}

func (h *CoarseHist) stats(count uint64, sum, lo, hi float64) {
	if h.Count == 0 || lo < h.Min {
		h.Min = lo
	}
	if h.Count == 0 || hi > h.Max {
		h.Max = hi
	}
	h.Count += count
	h.Sum += sum
}

// AddHistogram folds every value of o into h.
func (h *CoarseHist) AddHistogram(o *metrics.Histogram) {
	if o == nil || o.Count == 0 {
		return
	}
	o.Ranges(func(lo, _ float64, n uint64) {
		h.addN(coarseBucket(uint64(lo*1000+0.5)), n)
	})
	h.stats(o.Count, o.Sum, o.Min, o.Max)
}

// Merge adds every value of o to h.
func (h *CoarseHist) Merge(o *CoarseHist) {
	if o == nil || o.Count == 0 {
		return
	}
	for j, n := range o.Counts {
		if n != 0 {
			h.addN(o.Lo+j, n)
		}
	}
	h.stats(o.Count, o.Sum, o.Min, o.Max)
}

// Quantile returns the value at quantile q by nearest rank, clamped to the exact min and max;
// NaN when h is empty.
func (h *CoarseHist) Quantile(q float64) float64 {
	if h == nil || h.Count == 0 {
		return math.NaN()
	}
	rank := uint64(math.Ceil(q * float64(h.Count)))
	rank = min(max(rank, 1), h.Count)
	var seen uint64
	for j, n := range h.Counts {
		seen += n
		if seen >= rank {
			return math.Min(math.Max(coarseMid(h.Lo+j)/1000, h.Min), h.Max)
		}
	}
	return h.Max
}
