package metrics

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// exactQuantile is the nearest-rank quantile of sorted values.
func exactQuantile(sorted []float64, q float64) float64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

func TestHistogramQuantilesWithinPrecision(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	vals := make([]float64, 0, 50000)
	for i := 0; i < 50000; i++ {
		v := math.Exp(r.NormFloat64()*1.5 + 3) // lognormal latencies in ms, ~0.1 ms to seconds
		vals = append(vals, v)
		h.Record(v)
	}
	sort.Float64s(vals)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.95, 0.99, 0.999} {
		want := exactQuantile(vals, q)
		got := h.Quantile(q)
		// One bucket is 1/128 of its lower bound wide; the midpoint is within 1/256, plus the
		// rounding to a thousandth of a unit for tiny values.
		if tol := want/200 + 0.001; math.Abs(got-want) > tol {
			t.Errorf("q=%v: got %v, exact %v (tolerance %v)", q, got, want, tol)
		}
	}
	if h.Min != vals[0] || h.Max != vals[len(vals)-1] {
		t.Errorf("min/max %v/%v, want %v/%v", h.Min, h.Max, vals[0], vals[len(vals)-1])
	}
	if h.Count != uint64(len(vals)) {
		t.Errorf("count %d", h.Count)
	}
}

func TestHistogramMergeIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var whole, a, b Histogram
	for i := 0; i < 20000; i++ {
		v := r.Float64() * 2000
		if i%3 == 0 {
			v = r.Float64() * 0.05 // small values land below the exact range
		}
		whole.Record(v)
		if i%2 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(&b)
	if a.Count != whole.Count || a.Min != whole.Min || a.Max != whole.Max {
		t.Fatalf("merged count/min/max %d/%v/%v, whole %d/%v/%v", a.Count, a.Min, a.Max, whole.Count, whole.Min, whole.Max)
	}
	if math.Abs(a.Sum-whole.Sum) > 1e-6*whole.Sum {
		t.Fatalf("sum %v vs %v", a.Sum, whole.Sum)
	}
	for q := 0.0; q <= 1; q += 0.01 {
		if a.Quantile(q) != whole.Quantile(q) {
			t.Fatalf("q=%v: merged %v, whole %v", q, a.Quantile(q), whole.Quantile(q))
		}
	}
	enc := a.Encode().Decode()
	if enc.Quantile(0.95) != whole.Quantile(0.95) || enc.Count != whole.Count {
		t.Fatalf("encode/decode changed the histogram")
	}
}

func TestHistogramBucketsAreCumulativeUpperBounds(t *testing.T) {
	var h Histogram
	for _, v := range []float64{0.01, 1, 1, 10, 100, 1000} {
		h.Record(v)
	}
	var total uint64
	prev := -1.0
	h.Buckets(func(upper float64, n uint64) {
		if upper <= prev {
			t.Errorf("bucket bounds not increasing: %v after %v", upper, prev)
		}
		prev = upper
		total += n
	})
	if total != 6 {
		t.Fatalf("bucket counts sum to %d, want 6", total)
	}
	if h.Quantile(0.5) < 0.99 || h.Quantile(0.5) > 1.01 {
		t.Fatalf("median %v, want ~1", h.Quantile(0.5))
	}
}

func TestStoreAggregatesBySeries(t *testing.T) {
	st := NewStore()
	tagsA := &Tags{Scenario: "rest", Step: "a"}
	tagsB := &Tags{Scenario: "rest", Step: "b"}
	var batch []Sample
	for i := 0; i < 1000; i++ {
		tg := tagsA
		if i%4 == 0 {
			tg = tagsB
		}
		batch = append(batch, Sample{Metric: HTTPReqs, Value: 1, Tags: tg, Status: 200, Time: int64(i)})
		batch = append(batch, Sample{Metric: HTTPReqFailed, Value: float64(i % 10 / 9), Tags: tg, Time: int64(i)})
		batch = append(batch, Sample{Metric: HTTPReqDuration, Value: float64(i), Tags: tg, Time: int64(i)})
	}
	st.Add(batch[:1500])
	st.Add(batch[1500:])
	snap := st.Snapshot()
	reqs := Combine(snap, HTTPReqs, nil)
	if reqs.Sum != 1000 || reqs.Count != 1000 {
		t.Fatalf("http_reqs sum %v count %d", reqs.Sum, reqs.Count)
	}
	onlyB := Combine(snap, HTTPReqs, func(k Key) bool { v, _ := k.Tag("step"); return v == "b" })
	if onlyB.Sum != 250 {
		t.Fatalf("step b: %v", onlyB.Sum)
	}
	failed := Combine(snap, HTTPReqFailed, nil)
	if failed.Trues != 100 {
		t.Fatalf("failed trues %d, want 100", failed.Trues)
	}
	d := Combine(snap, HTTPReqDuration, nil)
	if d.Hist == nil || d.Hist.Count != 1000 || d.Hist.Max != 999 {
		t.Fatalf("duration histogram %+v", d.Hist)
	}
	if len(snap) != 6 {
		t.Fatalf("%d series, want 6", len(snap))
	}
}
