package metrics

import (
	"math"
	"math/bits"
)

// Histogram is a log-linear histogram of non-negative values, mergeable exactly: two histograms
// that recorded sets A and B merge into the histogram that recorded A∪B, bucket for bucket. This
// is what lets percentiles combine across VUs, time buckets and distributed segments.
//
// Values are recorded in thousandths of their unit (microseconds for milliseconds). Below 128
// thousandths every value has its own bucket; above, each power of two is split into 128 buckets,
// so a reported percentile is within 1/256 (0.4%) of a recorded value. Buckets are held densely
// between the lowest and highest used index, so a latency spread over three decades costs about
// 10 KB whatever the sample count. Count, sum, min and max are exact.
//
// A Histogram is not safe for concurrent use; its owner serialises access.
type Histogram struct {
	counts []uint64 // counts[i] is the bucket lo+i
	lo     int
	Count  uint64
	Sum    float64
	Min    float64
	Max    float64
}

const subBuckets = 128

func bucketOf(x uint64) int {
	if x < subBuckets {
		return int(x)
	}
	e := bits.Len64(x) - 8 // shift that leaves 8 significant bits, mantissa in [128,256)
	return (e+1)*subBuckets + int(x>>uint(e)) - subBuckets
}

// bucketMid returns the middle of bucket i, in thousandths.
func bucketMid(i int) float64 {
	if i < subBuckets {
		return float64(i)
	}
	e := i/subBuckets - 1
	m := uint64(i%subBuckets + subBuckets)
	lo := float64(m << uint(e))
	return lo + float64(uint64(1)<<uint(e))/2
}

// Record adds one value. Negative values are recorded as zero.
func (h *Histogram) Record(v float64) {
	if v < 0 || math.IsNaN(v) {
		v = 0
	}
	x := v*1000 + 0.5
	if x >= math.MaxInt64/2 {
		x = math.MaxInt64 / 2
	}
	h.add(bucketOf(uint64(x)), 1)
	if h.Count == 0 || v < h.Min {
		h.Min = v
	}
	if h.Count == 0 || v > h.Max {
		h.Max = v
	}
	h.Count++
	h.Sum += v
}

func (h *Histogram) add(i int, n uint64) {
	if len(h.counts) == 0 {
		h.counts = make([]uint64, 1, 64)
		h.lo = i
	}
	if i < h.lo {
		grow := h.lo - i
		c := make([]uint64, len(h.counts)+grow, len(h.counts)+grow+32)
		copy(c[grow:], h.counts)
		h.counts, h.lo = c, i
	}
	if j := i - h.lo; j >= len(h.counts) {
		h.counts = append(h.counts, make([]uint64, j-len(h.counts)+1)...)
	}
	h.counts[i-h.lo] += n
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.Count == 0 {
		return
	}
	for j, n := range o.counts {
		if n != 0 {
			h.add(o.lo+j, n)
		}
	}
	if h.Count == 0 || o.Min < h.Min {
		h.Min = o.Min
	}
	if h.Count == 0 || o.Max > h.Max {
		h.Max = o.Max
	}
	h.Count += o.Count
	h.Sum += o.Sum
}

// Quantile returns the value at quantile q (0..1) by nearest rank, within the histogram's
// precision and clamped to the exact min and max. It returns 0 for an empty histogram.
func (h *Histogram) Quantile(q float64) float64 {
	if h.Count == 0 {
		return 0
	}
	if q <= 0 {
		return h.Min
	}
	if q >= 1 {
		return h.Max
	}
	return h.AtRank(uint64(math.Ceil(q * float64(h.Count))))
}

// AtRank returns the value of the rank-th smallest recorded value (1-based, nearest rank): the
// first value at or past rank, clamped to [1, Count]; 0 when empty.
func (h *Histogram) AtRank(rank uint64) float64 {
	if h.Count == 0 {
		return 0
	}
	rank = min(max(rank, 1), h.Count)
	var seen uint64
	for j, n := range h.counts {
		seen += n
		if seen >= rank {
			v := bucketMid(h.lo+j) / 1000
			return math.Min(math.Max(v, h.Min), h.Max)
		}
	}
	return h.Max
}

// Mean returns the exact arithmetic mean, 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.Count == 0 {
		return 0
	}
	return h.Sum / float64(h.Count)
}

// Reset empties h, keeping its storage.
func (h *Histogram) Reset() {
	clear(h.counts)
	h.Count, h.Sum, h.Min, h.Max = 0, 0, 0, 0
}

// Clone returns a deep copy of h.
func (h *Histogram) Clone() *Histogram {
	c := *h
	c.counts = append([]uint64(nil), h.counts...)
	return &c
}

// Buckets calls f for every non-empty bucket with its upper bound (in the value's unit) and count,
// in increasing order. Outputs use it to build cumulative histograms (Prometheus) and to encode
// histograms for merging.
func (h *Histogram) Buckets(f func(upper float64, count uint64)) {
	for j, n := range h.counts {
		if n == 0 {
			continue
		}
		i := h.lo + j
		var up float64
		if i < subBuckets {
			up = float64(i) + 0.5
		} else {
			e := i/subBuckets - 1
			m := uint64(i%subBuckets + subBuckets)
			up = float64((m + 1) << uint(e))
		}
		f(up/1000, n)
	}
}

// Ranges calls f for every non-empty bucket with the lowest and highest value it holds (in the
// value's unit; a value is recorded rounded to thousandths) and its count, in increasing order.
// Prometheus places each bucket's count in its own buckets by these bounds.
func (h *Histogram) Ranges(f func(lo, hi float64, count uint64)) {
	for j, n := range h.counts {
		if n == 0 {
			continue
		}
		i := h.lo + j
		lo, width := uint64(i), uint64(1)
		if i >= subBuckets {
			e := i/subBuckets - 1
			lo, width = uint64(i%subBuckets+subBuckets)<<uint(e), uint64(1)<<uint(e)
		}
		f(float64(lo)/1000, float64(lo+width-1)/1000, n)
	}
}

// Encoded is the serialisable form of a Histogram, used by summaries that must merge exactly
// across distributed segments.
type Encoded struct {
	Lo     int      `json:"lo"`
	Counts []uint64 `json:"counts"`
	Count  uint64   `json:"count"`
	Sum    float64  `json:"sum"`
	Min    float64  `json:"min"`
	Max    float64  `json:"max"`
}

// Encode returns h in serialisable form.
func (h *Histogram) Encode() Encoded {
	return Encoded{Lo: h.lo, Counts: append([]uint64(nil), h.counts...), Count: h.Count, Sum: h.Sum, Min: h.Min, Max: h.Max}
}

// Decode returns the histogram e encodes.
func (e Encoded) Decode() *Histogram {
	return &Histogram{lo: e.Lo, counts: append([]uint64(nil), e.Counts...), Count: e.Count, Sum: e.Sum, Min: e.Min, Max: e.Max}
}
