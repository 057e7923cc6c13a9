package metrics

import (
	"encoding/binary"
	"math"
	"reflect"
	"sort"
	"testing"
)

// fuzzValues turns bytes into values from 0.0001 to about 4e11 (a latency in ms from 100 ns to
// 13 years), with some negative and NaN ones, which Record takes as zero.
func fuzzValues(b []byte) (vals []float64, recorded []float64) {
	scales := [8]float64{1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100, 1000}
	for ; len(b) >= 4 && len(vals) < 4096; b = b[4:] {
		u := binary.LittleEndian.Uint32(b)
		v := float64(u>>4) * scales[u&7]
		switch u & 0xf {
		case 15:
			v = -v
		case 14:
			v = math.NaN()
		}
		vals = append(vals, v)
		if v < 0 || math.IsNaN(v) {
			v = 0
		}
		recorded = append(recorded, v)
	}
	return vals, recorded
}

// FuzzHistogram holds the histogram to exact nearest-rank quantiles of the values it recorded:
// within half a bucket (1/256 of the value, or half a thousandth below 0.128), count, min and max
// exact; and a merge of two halves is the histogram of the whole, bucket for bucket.
func FuzzHistogram(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint16(500))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x0e, 1, 0, 0, 0x0f, 1, 0, 0}, uint16(999))
	f.Add([]byte("latencies of a run: 12ms 13ms 250ms and a 3s outlier"), uint16(0))
	f.Fuzz(func(t *testing.T, b []byte, qq uint16) {
		vals, recorded := fuzzValues(b)
		if len(vals) == 0 {
			return
		}
		var whole, odd, even Histogram
		for i, v := range vals {
			whole.Record(v)
			if i%2 == 0 {
				even.Record(v)
			} else {
				odd.Record(v)
			}
		}
		sorted := append([]float64(nil), recorded...)
		sort.Float64s(sorted)
		if whole.Count != uint64(len(sorted)) || whole.Min != sorted[0] || whole.Max != sorted[len(sorted)-1] {
			t.Fatalf("count/min/max %d/%v/%v, exact %d/%v/%v", whole.Count, whole.Min, whole.Max, len(sorted), sorted[0], sorted[len(sorted)-1])
		}
		for _, q := range []float64{0, 0.001, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1, float64(qq%1001) / 1000} {
			want := sorted[0]
			if q > 0 {
				want = exactQuantile(sorted, q)
			}
			got := whole.Quantile(q)
			// Half a bucket: 1/256 of the value above 128 thousandths, half a thousandth below,
			// plus float rounding.
			if tol := want/256 + 0.0005 + want*1e-12; math.Abs(got-want) > tol {
				t.Fatalf("q=%v of %d values: %v, exact %v (tolerance %v)", q, len(sorted), got, want, tol)
			}
		}
		even.Merge(&odd)
		we, me := whole.Encode(), even.Encode()
		we.Sum, me.Sum = 0, 0 // the sum is added in another order: equal only up to rounding
		if !reflect.DeepEqual(trimEncoded(we), trimEncoded(me)) {
			t.Fatalf("merge of the halves differs from the whole:\n%+v\n%+v", me, we)
		}
		if d := whole.Encode().Decode(); !reflect.DeepEqual(d.Encode(), whole.Encode()) {
			t.Fatalf("encode/decode changed the histogram")
		}
	})
}

// trimEncoded drops empty buckets at both ends, which depend on the order values arrived in.
func trimEncoded(e Encoded) Encoded {
	for len(e.Counts) > 0 && e.Counts[0] == 0 {
		e.Counts, e.Lo = e.Counts[1:], e.Lo+1
	}
	for len(e.Counts) > 0 && e.Counts[len(e.Counts)-1] == 0 {
		e.Counts = e.Counts[:len(e.Counts)-1]
	}
	return e
}
