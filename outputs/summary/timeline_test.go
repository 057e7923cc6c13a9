package summary

import (
	"bytes"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

var tlTags = &metrics.Tags{Scenario: "rest", Step: "quote", Method: "GET", Group: "http"}

// delta is an aggregate of n requests of latency ms each at t, as the Manager drains them.
func delta(t time.Time, n int, ms float64) []*metrics.Series {
	reqs := &metrics.Series{Key: metrics.Key{Metric: metrics.HTTPReqs, Tags: tlTags}}
	dur := &metrics.Series{Key: metrics.Key{Metric: metrics.HTTPReqDuration, Tags: tlTags}}
	failed := &metrics.Series{Key: metrics.Key{Metric: metrics.HTTPReqFailed, Tags: tlTags}}
	for i := range n {
		ns := t.UnixNano() + int64(i)
		reqs.Add(&metrics.Sample{Metric: metrics.HTTPReqs, Time: ns, Value: 1, Tags: tlTags})
		dur.Add(&metrics.Sample{Metric: metrics.HTTPReqDuration, Time: ns, Value: ms, Tags: tlTags})
		v := 0.0
		if i == 0 {
			v = 1
		}
		failed.Add(&metrics.Sample{Metric: metrics.HTTPReqFailed, Time: ns, Value: v, Tags: tlTags})
	}
	vus := &metrics.Series{Key: metrics.Key{Metric: metrics.VUs}}
	vus.Add(&metrics.Sample{Metric: metrics.VUs, Time: t.UnixNano(), Value: 7})
	return []*metrics.Series{reqs, dur, failed, vus}
}

func totals(tl *Timeline) (reqs, fails, lat uint64) {
	for _, b := range tl.Buckets {
		if b == nil {
			continue
		}
		for _, c := range b.Cells {
			reqs += c.Reqs
			fails += c.Fails
			if c.Lat != nil {
				lat += c.Lat.Count
			}
		}
	}
	return
}

// TestTimelineStaysBoundedAndExact feeds two hours of deltas, four a second: the timeline
// coarsens to at most TimelineMaxBuckets buckets (16 s wide for 7200 s) and still holds every
// request, failure and latency.
func TestTimelineStaysBoundedAndExact(t *testing.T) {
	var ts timelineStore
	start := time.Unix(1_700_000_000, 0)
	const secs = 7200
	for s := range secs {
		for q := range 4 {
			ts.addAll(delta(start.Add(time.Duration(s)*time.Second+time.Duration(q)*250*time.Millisecond), 3, 10))
		}
	}
	tl := ts.snapshot()
	if len(tl.Buckets) > TimelineMaxBuckets || time.Duration(tl.Width) != 16*time.Second {
		t.Fatalf("%d buckets of %v; want at most %d of 16s", len(tl.Buckets), time.Duration(tl.Width), TimelineMaxBuckets)
	}
	reqs, fails, lat := totals(tl)
	if reqs != secs*12 || fails != secs*4 || lat != secs*12 {
		t.Fatalf("timeline holds %d requests, %d failures, %d latencies; fed %d, %d, %d", reqs, fails, lat, secs*12, secs*4, secs*12)
	}
	for i, b := range tl.Buckets {
		if b == nil || b.VUs != 7 {
			t.Fatalf("bucket %d: %+v; want 7 VUs", i, b)
		}
	}
}

// TestTimelineMergesSegments merges two segments' timelines of different widths: counts add,
// the VUs of side-by-side segments add, and the JSON form round-trips.
func TestTimelineMergesSegments(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	var a, b timelineStore
	for s := range 30 {
		a.addAll(delta(start.Add(time.Duration(s)*time.Second), 2, 5))
	}
	for s := range 900 { // 15 minutes: 2 s buckets
		b.addAll(delta(start.Add(time.Duration(s)*time.Second), 1, 50))
	}
	seg := &SegmentSummary{Version: SegmentVersion, Segment: "2/2", Timeline: b.snapshot()}
	var buf bytes.Buffer
	if err := WriteSegment(&buf, seg); err != nil {
		t.Fatal(err)
	}
	back, err := ReadSegment(&buf)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Merge([]*SegmentSummary{{Version: SegmentVersion, Segment: "1/2", Timeline: a.snapshot()}, back})
	if err != nil {
		t.Fatal(err)
	}
	reqs, fails, lat := totals(m.Timeline)
	if reqs != 60+900 || fails != 30+900 || lat != 60+900 {
		t.Fatalf("merged: %d requests, %d failures, %d latencies; want 960, 930, 960", reqs, fails, lat)
	}
	if time.Duration(m.Timeline.Width) != 2*time.Second || m.Timeline.Buckets[0].VUs != 14 {
		t.Fatalf("merged width %v, first bucket's VUs %v; want 2s and 7+7", time.Duration(m.Timeline.Width), m.Timeline.Buckets[0].VUs)
	}
	c := m.Timeline.Buckets[0].Cells[0]
	if p := c.Lat.Quantile(0.5); p != 5 || c.Lat.Quantile(1) != 50 {
		t.Fatalf("first bucket's median %v, max %v; want 5 (4 of 6 at 5 ms) and 50", p, c.Lat.Quantile(1))
	}
}

// TestCoarseHistAgreesWithExactQuantiles holds the charts' histogram to exact nearest-rank
// quantiles of the recorded values: within its 1/32 bucket half-width plus metrics.Histogram's
// 1/256, for latencies spread over five decades.
func TestCoarseHistAgreesWithExactQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		n := 1 + rng.IntN(5000)
		vals := make([]float64, n)
		h := &metrics.Histogram{}
		for i := range vals {
			vals[i] = math.Exp(rng.Float64()*11.5) / 1000 // 0.001 ms .. ~100 s
			h.Record(vals[i])
		}
		c := &CoarseHist{}
		c.AddHistogram(h)
		if round%2 == 1 { // merging halves is the same as adding the whole
			c2 := &CoarseHist{}
			c2.Merge(c)
			c = c2
		}
		sort.Float64s(vals)
		for _, q := range []float64{0.01, 0.5, 0.9, 0.95, 0.99, 1} {
			rank := int(math.Ceil(q*float64(n))) - 1
			want, got := vals[max(rank, 0)], c.Quantile(q)
			if tol := want/32 + want/256 + 0.0015; math.Abs(got-want) > tol {
				t.Fatalf("round %d, %d values: q%v = %v, exact %v (tolerance %v)", round, n, q, got, want, tol)
			}
		}
		if c.Count != uint64(n) || c.Min != vals[0] || c.Max != vals[n-1] {
			t.Fatalf("count %d min %v max %v; want %d %v %v", c.Count, c.Min, c.Max, n, vals[0], vals[n-1])
		}
	}
	if !math.IsNaN((&CoarseHist{}).Quantile(0.5)) {
		t.Fatal("an empty histogram's quantile is not NaN (a gap in the chart)")
	}
}

// FuzzCoarseHistQuantiles holds the charts' histogram to the exact nearest-rank quantiles of
// any values (three bytes each: a value up to ~16.7 s in thousandths of a millisecond), whole
// and merged from two halves.
func FuzzCoarseHistQuantiles(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 3, 232, 255, 255, 255})
	f.Add([]byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var vals []float64
		for i := 0; i+3 <= len(b) && len(vals) < 2000; i += 3 {
			vals = append(vals, float64(int(b[i])<<16|int(b[i+1])<<8|int(b[i+2]))/1000)
		}
		if len(vals) == 0 {
			return
		}
		half := len(vals) / 2
		h1, h2 := &metrics.Histogram{}, &metrics.Histogram{}
		for i, v := range vals {
			if i < half {
				h1.Record(v)
			} else {
				h2.Record(v)
			}
		}
		c1, c2 := &CoarseHist{}, &CoarseHist{}
		c1.AddHistogram(h1)
		c2.AddHistogram(h2)
		c := &CoarseHist{}
		c.Merge(c1)
		c.Merge(c2)
		sort.Float64s(vals)
		for _, q := range []float64{0, 0.25, 0.5, 0.9, 0.99, 1} {
			rank := max(int(math.Ceil(q*float64(len(vals))))-1, 0)
			want, got := vals[rank], c.Quantile(q)
			if tol := want/32 + want/256 + 0.0015; math.Abs(got-want) > tol {
				t.Fatalf("%d values: q%v = %v, exact %v", len(vals), q, got, want)
			}
		}
	})
}
