package prometheus

import (
	"math"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/loadplan/loadplan/metrics"
)

// nativeSchema is the native histograms' resolution: 2^(2^-3) ≈ 1.09 between bucket bounds, the
// schema client_golang picks for a bucket factor of 1.1; nativeMaxBuckets the most buckets a
// series exposes before its schema is lowered, as client_golang's NativeHistogramMaxBucketNumber.
const (
	nativeSchema     = 3
	nativeMaxBuckets = 160
)

// trendVec is the histogram family of one trend metric. It is fed the aggregator's per-interval
// deltas, not samples: each series keeps the run's metrics.Histogram (values in the sample's
// unit, exactly mergeable) and a scrape turns it into a Prometheus histogram with classic and
// native buckets. client_golang's Histogram takes one Observe per value (atomics, a native
// bucket search) and cannot add a bucket's count at once: measured on the shared 2-core VM,
// Observe for the 13 samples of one HTTP request cost 1.8–2.5 µs (BenchmarkPerSampleObserve),
// about a tenth of loadplan's whole CPU per request, against 11–20 ns per request for the deltas
// of a quarter second (BenchmarkEmitSeries). TestTrendMatchesClientGolang and its fuzz target
// hold the figures to client_golang's.
//
// Count and sum are exact. A bucket count is exact up to the metrics.Histogram's resolution:
// a value within 1/128 of a classic bound may be counted on the other side of it (each of the
// histogram's buckets goes whole to the Prometheus bucket its middle falls in).
//
// Each series has only its non-empty labels (see scalarVec), so trendVec is an unchecked
// collector with a Desc per label-name set. mu guards series and every trendSeries' histogram and
// exemplars: EmitSeries writes on the Manager's goroutine, Collect reads on a scrape's.
type trendVec struct {
	scale float64 // sample unit → exposed unit (ms → s)
	seriesSet[trendSeries]
}

// trendSeries is one labelled histogram.
type trendSeries struct {
	desc    *prometheus.Desc
	labels  []string
	hist    metrics.Histogram
	created time.Time
	ex      exemplars
}

func newTrendVec(name, help string, constLabels prometheus.Labels, scale float64) *trendVec {
	return &trendVec{scale: scale, seriesSet: newSeriesSet[trendSeries](name, help, constLabels)}
}

// with returns the series with these labels, making it on first use.
func (tv *trendVec) with(names, values []string) *trendSeries {
	return tv.seriesSet.with(names, values, func(d *prometheus.Desc) *trendSeries {
		return &trendSeries{desc: d, labels: values, created: time.Now()}
	})
}

// add merges d, the delta of one series, into ts, and keeps its exemplar.
func (tv *trendVec) add(ts *trendSeries, d *metrics.Series) {
	if d.Hist == nil || d.Hist.Count == 0 {
		return
	}
	tv.mu.Lock()
	ts.hist.Merge(d.Hist)
	if d.Exemplar.Span != nil {
		ts.ex.keep(&d.Exemplar, tv.scale)
	}
	tv.mu.Unlock()
}

// Describe implements prometheus.Collector: nothing, as scalarVec's.
func (tv *trendVec) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector: one histogram per series, built from its buckets.
func (tv *trendVec) Collect(ch chan<- prometheus.Metric) {
	tv.mu.Lock()
	defer tv.mu.Unlock()
	for _, ts := range tv.order {
		if m := tv.metric(ts); m != nil {
			ch <- m
		}
	}
}

// metric turns one series into a histogram metric with classic and native buckets.
func (tv *trendVec) metric(ts *trendSeries) prometheus.Metric {
	h := &ts.hist
	classic := make([]uint64, len(Buckets))
	native := map[int]int64{}
	var zero uint64
	h.Ranges(func(lo, hi float64, n uint64) {
		mid := (lo + hi) / 2 * tv.scale
		if i, _ := slices.BinarySearch(Buckets, mid); i < len(Buckets) { // past the last: +Inf only
			classic[i] += n
		}
		if mid <= 0 {
			zero += n
			return
		}
		native[int(math.Ceil(math.Log2(mid)*(1<<nativeSchema)))] += int64(n)
	})
	schema := int32(nativeSchema)
	for len(native) > nativeMaxBuckets && schema > -4 {
		coarser := make(map[int]int64, len(native)/2+1)
		for k, n := range native {
			coarser[(k+1)>>1] += n // bucket k of schema s lies in bucket ceil(k/2) of schema s-1
		}
		native, schema = coarser, schema-1
	}
	m, err := prometheus.NewConstNativeHistogram(ts.desc, h.Count, h.Sum*tv.scale, native, map[int]int64{},
		zero, schema, prometheus.DefNativeHistogramZeroThreshold, ts.created, ts.labels...)
	if err != nil {
		return nil // counts are consistent by construction; a bad label count is a bug caught by tests
	}
	var cum uint64
	buckets := make([]*dto.Bucket, len(Buckets))
	for i, up := range Buckets {
		cum += classic[i]
		c := cum
		buckets[i] = &dto.Bucket{UpperBound: &up, CumulativeCount: &c}
	}
	return &withClassic{Metric: m, buckets: buckets, exemplars: ts.ex.dto()}
}

// withClassic adds classic buckets and the exemplars to a const native histogram.
type withClassic struct {
	prometheus.Metric
	buckets   []*dto.Bucket
	exemplars []*dto.Exemplar // per classic bucket (len(Buckets)+1, the last +Inf), nil where none
}

// Write implements prometheus.Metric.
func (w *withClassic) Write(out *dto.Metric) error {
	if err := w.Metric.Write(out); err != nil {
		return err
	}
	out.Histogram.Bucket = w.buckets
	attachExemplars(out.Histogram, w.exemplars)
	return nil
}
