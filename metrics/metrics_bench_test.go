package metrics

import (
	"math/rand/v2"
	"testing"
)

// benchBatch is one VU batch as the executor pushes it: 64 samples of the 11 metrics of one HTTP
// request (timings, bytes, counters, a rate) for one step's tags.
func benchBatch() []Sample {
	tags := &Tags{Scenario: "s", Step: "get", Target: "api", Method: "GET", URL: "/api/stocks", Group: "http"}
	ms := []Metric{HTTPReqs, HTTPReqDuration, HTTPReqServiceTime, HTTPReqBlocked, HTTPReqConnecting,
		HTTPReqSending, HTTPReqWaiting, HTTPReqReceiving, HTTPReqFailed, DataSent, DataReceived}
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]Sample, 64)
	for i := range out {
		m := ms[i%len(ms)]
		v := 1.0
		if m.Kind() == Trend {
			v = 0.2 + r.ExpFloat64()*5 // milliseconds, a loopback-like spread
		}
		out[i] = Sample{Metric: m, Time: int64(i) * 1e6, Value: v, Tags: tags, Status: 200}
	}
	return out
}

// BenchmarkStoreAdd folds one 64-sample batch into a Store (the summary's aggregation);
// ns/sample is ns/op / 64.
func BenchmarkStoreAdd(b *testing.B) {
	st := NewStore()
	batch := benchBatch()
	st.Add(batch)
	b.ReportAllocs()
	for b.Loop() {
		st.Add(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/sample")
	want := uint64(b.N+1) * uint64(len(batch)) / 11
	if s := Combine(st.Snapshot(), HTTPReqDuration, nil); s.Count < want {
		b.Fatalf("http_req_duration count %d, want at least %d", s.Count, want)
	}
}

// benchValues are latencies in ms spread over three decades, as a loaded server gives.
func benchValues(n int) []float64 {
	r := rand.New(rand.NewPCG(3, 4))
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = 0.1 + r.ExpFloat64()*r.ExpFloat64()*20
	}
	return vs
}

// BenchmarkHistogramRecord records one value.
func BenchmarkHistogramRecord(b *testing.B) {
	vs := benchValues(4096)
	var h Histogram
	for _, v := range vs {
		h.Record(v)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.Record(vs[i&4095])
		i++
	}
	if h.Count != uint64(4096+i) {
		b.Fatalf("count %d, want %d", h.Count, 4096+i)
	}
}

// BenchmarkHistogramMerge merges a histogram of 100,000 values spread over three decades into
// another (what a summary does per series and interval, and `loadplan merge` per segment).
func BenchmarkHistogramMerge(b *testing.B) {
	var src Histogram
	for _, v := range benchValues(100000) {
		src.Record(v)
	}
	var dst Histogram
	dst.Merge(&src)
	b.ReportAllocs()
	for b.Loop() {
		dst.Merge(&src)
	}
	if dst.Count != uint64(b.N+1)*src.Count {
		b.Fatalf("count %d, want %d", dst.Count, uint64(b.N+1)*src.Count)
	}
}

// BenchmarkHistogramQuantile reads p(95) of a histogram of 100,000 values (thresholds, summary).
func BenchmarkHistogramQuantile(b *testing.B) {
	var h Histogram
	for _, v := range benchValues(100000) {
		h.Record(v)
	}
	b.ReportAllocs()
	var q float64
	for b.Loop() {
		q = h.Quantile(0.95)
	}
	if q <= h.Min || q >= h.Max {
		b.Fatalf("p95 %v outside (%v, %v)", q, h.Min, h.Max)
	}
}

// BenchmarkFolderAdd folds one 64-sample VU batch into the VU's shard of an Aggregator (the
// per-VU half of the sample path); ns/sample is ns/op / 64.
func BenchmarkFolderAdd(b *testing.B) {
	agg := NewAggregator(0)
	f := agg.Folder()
	batch := benchBatch()
	b.ReportAllocs()
	for b.Loop() {
		f.Add(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/sample")
}

// BenchmarkDrain is the aggregator's half: one interval's drain of the shards (8, as on a
// 4-CPU machine) that 50 VUs folded requests into, merged into the summary's Store. The deltas
// of a loopback run's interval: 15 series per shard, their latencies over three decades.
func BenchmarkDrain(b *testing.B) {
	agg := NewAggregator(8)
	st := NewStore()
	folders := make([]*Folder, 50)
	for i := range folders {
		folders[i] = agg.Folder()
	}
	batch := benchBatch()
	vs := benchValues(len(batch))
	for i := range batch {
		if batch[i].Metric.Kind() == Trend {
			batch[i].Value = vs[i]
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for _, f := range folders {
			f.Add(batch)
		}
		b.StartTimer()
		agg.Drain(st.MergeAll)
	}
}
