package prometheus

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// TestDeltasEqualSamples: the same samples folded by VUs into an Aggregator and handed over as
// several per-interval deltas expose the same values as one Emit of all of them.
func TestDeltasEqualSamples(t *testing.T) {
	whole := newOutput(t, Config{TestID: "d"})
	whole.Emit(fed())
	parts := newOutput(t, Config{TestID: "d"})
	agg := metrics.NewAggregator(2)
	f1, f2 := agg.Folder(), agg.Folder()
	for i, s := range fed() {
		[]*metrics.Folder{f1, f2}[i%2].Add([]metrics.Sample{s})
		if i%4 == 3 {
			agg.Drain(parts.EmitSeries)
		}
	}
	agg.Drain(parts.EmitSeries)
	mfs, err := whole.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got, err := parts.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(mfs) {
		t.Fatalf("%d families, want %d", len(got), len(mfs))
	}
	for i, mf := range mfs {
		if a, b := values(got[i]), values(mf); a != b {
			t.Errorf("%s:\n got %s\nwant %s", mf.GetName(), a, b)
		}
	}
}

// values renders every series of mf with its labels and values (bucket counts included), without
// the created timestamps, which differ between two outputs.
func values(mf *dto.MetricFamily) string {
	var b strings.Builder
	b.WriteString(mf.GetName())
	for _, m := range mf.GetMetric() {
		b.WriteString("\n{")
		for _, l := range m.GetLabel() {
			b.WriteString(l.GetName() + "=" + l.GetValue() + ",")
		}
		b.WriteString("} ")
		switch {
		case m.Counter != nil:
			fmt.Fprint(&b, m.GetCounter().GetValue())
		case m.Gauge != nil:
			fmt.Fprint(&b, m.GetGauge().GetValue())
		case m.Histogram != nil:
			h := m.GetHistogram()
			fmt.Fprint(&b, h.GetSampleCount(), h.GetSampleSum(), h.GetSchema(), h.GetZeroCount(), h.GetPositiveDelta())
			for _, bk := range h.GetBucket() {
				fmt.Fprint(&b, " ", bk.GetUpperBound(), ":", bk.GetCumulativeCount())
			}
		}
	}
	return b.String()
}

// histOf feeds values (ms) to a trendVec as one delta and to client_golang's histogram with the
// options the output used before it was fed deltas (the reference), and returns both as gathered.
func histOf(t testing.TB, values []float64) (ours, ref *dto.Histogram) {
	tv := newTrendVec("x_seconds", "x", nil, 1.0/1000)
	d := &metrics.Series{Key: metrics.Key{Metric: metrics.HTTPReqDuration}}
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x_seconds", Help: "x", Buckets: Buckets,
		NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: 160, NativeHistogramMinResetDuration: time.Hour})
	for _, v := range values {
		d.Add(&metrics.Sample{Metric: metrics.HTTPReqDuration, Value: v})
		h.Observe(v / 1000)
	}
	ts := tv.with(nil, nil)
	tv.add(ts, d)
	var m dto.Metric
	if err := tv.metric(ts).Write(&m); err != nil {
		t.Fatal(err)
	}
	var r dto.Metric
	if err := h.Write(&r); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram(), r.GetHistogram()
}

// near counts the values (ms) within the histogram's resolution (1/128) of bound (s).
func near(values []float64, bound float64) uint64 {
	var n uint64
	for _, v := range values {
		if math.Abs(v/1000-bound) <= bound/128+1e-6 {
			n++
		}
	}
	return n
}

// nativeCum decodes native buckets into the cumulative count at or below each bucket index.
func nativeCum(h *dto.Histogram) (schema int32, cum func(k int) uint64) {
	counts := map[int]int64{}
	idx, c := 0, int64(0)
	di := 0
	for _, sp := range h.GetPositiveSpan() {
		idx += int(sp.GetOffset())
		for range sp.GetLength() {
			c += h.GetPositiveDelta()[di]
			di++
			counts[idx] = c
			idx++
		}
	}
	return h.GetSchema(), func(k int) uint64 {
		n := h.GetZeroCount()
		for i, x := range counts {
			if i <= k {
				n += uint64(x)
			}
		}
		return n
	}
}

// checkAgainstReference holds the histogram built from aggregates to client_golang's: count
// exact, sum to float rounding, every classic and native cumulative count off by no more than
// the values that lie within the aggregate histogram's resolution of that bound.
func checkAgainstReference(t *testing.T, values []float64) {
	t.Helper()
	ours, ref := histOf(t, values)
	if ours.GetSampleCount() != ref.GetSampleCount() || math.Abs(ours.GetSampleSum()-ref.GetSampleSum()) > 1e-9*math.Max(1, ref.GetSampleSum()) {
		t.Fatalf("count %d sum %v, reference %d %v", ours.GetSampleCount(), ours.GetSampleSum(), ref.GetSampleCount(), ref.GetSampleSum())
	}
	for i, b := range ref.GetBucket() {
		o := ours.GetBucket()[i]
		diff := int64(o.GetCumulativeCount()) - int64(b.GetCumulativeCount())
		if o.GetUpperBound() != b.GetUpperBound() || uint64(max(diff, -diff)) > near(values, b.GetUpperBound()) {
			t.Errorf("le=%v: %d, reference %d", b.GetUpperBound(), o.GetCumulativeCount(), b.GetCumulativeCount())
		}
	}
	os, ocum := nativeCum(ours)
	rs, rcum := nativeCum(ref)
	if os != rs {
		t.Fatalf("native schema %d, reference %d", os, rs)
	}
	for k := -200; k <= 200; k++ {
		bound := math.Exp2(float64(k) / float64(int(1)<<os))
		a, b := ocum(k), rcum(k)
		diff := int64(a) - int64(b)
		if uint64(max(diff, -diff)) > near(values, bound) {
			t.Errorf("native bucket %d (≤ %v s): %d, reference %d", k, bound, a, b)
		}
	}
}

func TestTrendMatchesClientGolang(t *testing.T) {
	for seed := range uint64(5) {
		r := rand.New(rand.NewPCG(seed, 11))
		values := make([]float64, 2000)
		for i := range values {
			values[i] = 0.05 + r.ExpFloat64()*r.ExpFloat64()*40 // ms, over three decades
		}
		values = append(values, 0, 5, 25, 1000) // zero and values on classic bounds
		checkAgainstReference(t, values)
	}
}

// FuzzTrendMatchesClientGolang: any set of latencies (ms, up to a minute) gives the reference's
// figures within the resolution checkAgainstReference allows.
func FuzzTrendMatchesClientGolang(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 17, 0, 90})
	f.Fuzz(func(t *testing.T, data []byte) {
		var values []float64
		for i := 0; i+1 < len(data) && len(values) < 500; i += 2 {
			v := float64(uint16(data[i])<<8|uint16(data[i+1])) / 65536 // [0, 1)
			values = append(values, math.Pow(60000, v)-1)              // 0 … 60 s, log-spread
		}
		if len(values) == 0 {
			return
		}
		slices.Sort(values)
		checkAgainstReference(t, values)
	})
}

// The Manager feeds the output deltas, never samples.
var _ outputs.SeriesOutput = (*Output)(nil)
