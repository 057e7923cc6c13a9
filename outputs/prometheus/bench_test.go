package prometheus

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// benchRequest is one HTTP request's samples as the Prometheus output sees them: 9 timings, a
// count, a rate and two byte counters.
func benchRequest(i int) []metrics.Sample {
	ms := []metrics.Metric{metrics.HTTPReqs, metrics.HTTPReqDuration, metrics.HTTPReqServiceTime, metrics.HTTPReqBlocked,
		metrics.HTTPReqConnecting, metrics.HTTPReqTLSHandshaking, metrics.HTTPReqSending, metrics.HTTPReqWaiting,
		metrics.HTTPReqReceiving, metrics.HTTPReqFailed, metrics.DataSent, metrics.DataReceived, metrics.IterationDuration}
	out := make([]metrics.Sample, len(ms))
	for j, m := range ms {
		v := 1.0
		if m.Kind() == metrics.Trend {
			v = 0.05 + float64((i*7+j*13)%997)/100 // ms, spread over three decades
		}
		out[j] = metrics.Sample{Metric: m, Value: v, Tags: quote, Status: 200}
	}
	return out
}

// BenchmarkPerSampleObserve is what the output cost before it was fed deltas: for each sample,
// client_golang's Observe on the series' histogram (native buckets included) or Inc/Add on its
// counter. ns/op is per request.
func BenchmarkPerSampleObserve(b *testing.B) {
	vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "x_seconds", Help: "x", Buckets: Buckets,
		NativeHistogramBucketFactor: 1.1, NativeHistogramMaxBucketNumber: 160, NativeHistogramMinResetDuration: time.Hour},
		[]string{"metric"})
	ctr := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "x"}, []string{"metric"})
	var obs [64]prometheus.Observer
	var cts [64]prometheus.Counter
	for _, m := range metrics.All() {
		obs[m] = vec.WithLabelValues(m.String())
		cts[m] = ctr.WithLabelValues(m.String())
	}
	reqs := make([][]metrics.Sample, 1000)
	for i := range reqs {
		reqs[i] = benchRequest(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		for _, s := range reqs[i%len(reqs)] {
			if s.Metric.Kind() == metrics.Trend {
				obs[s.Metric].Observe(s.Value / 1000)
			} else {
				cts[s.Metric].Add(s.Value)
			}
		}
		i++
	}
}

// BenchmarkEmitSeries is what it costs now: one interval's deltas (here 4,000 requests, a
// quarter second at 16,000 requests/s) handed to EmitSeries, per request (ns/op). The samples
// were folded once, for the summary; Prometheus adds only this.
func BenchmarkEmitSeries(b *testing.B) { benchEmitSeries(b, false) }

// BenchmarkEmitSeriesTraced is BenchmarkEmitSeries with tracing on (sampling 0.1): a tenth of the
// requests' durations carry a sampled span, so each interval's duration delta has an exemplar.
func BenchmarkEmitSeriesTraced(b *testing.B) { benchEmitSeries(b, true) }

func benchEmitSeries(b *testing.B, traced bool) {
	p, err := New(Config{Listen: "127.0.0.1:0"}, outputsOptions())
	if err != nil {
		b.Fatal(err)
	}
	const perInterval = 4000
	agg := metrics.NewAggregator(1)
	f := agg.Folder()
	var deltas []*metrics.Series
	for i := range perInterval {
		r := benchRequest(i)
		if traced && i%10 == 0 {
			sp := &metrics.TraceSpan{Sampled: true}
			sp.TraceID[0], sp.TraceID[1] = byte(i), byte(i>>8)
			r[1].Span = sp // http_req_duration
			r[1].Time = int64(i)
		}
		f.Add(r)
	}
	agg.Drain(func(d []*metrics.Series) {
		for _, s := range d {
			deltas = append(deltas, s.Clone())
		}
	})
	p.EmitSeries(deltas) // resolves the series once
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n%perInterval == 0 {
			p.EmitSeries(deltas)
		}
		n++
	}
}

func outputsOptions() outputs.Options { return outputs.Options{PlanName: "bench"} }

// BenchmarkGather is one scrape's Gather with 100 steps' series (13 metrics each, plus a check):
// the cost on the scraper's goroutine, which builds every histogram's buckets.
func BenchmarkGather(b *testing.B) {
	p, err := New(Config{Listen: "127.0.0.1:0"}, outputsOptions())
	if err != nil {
		b.Fatal(err)
	}
	var batch []metrics.Sample
	for s := range 100 {
		tags := &metrics.Tags{Scenario: "rest", Step: fmt.Sprint("step", s), Target: "api", Method: "GET", URL: fmt.Sprint("/api/", s), Group: "http"}
		for i := range 20 {
			for _, x := range benchRequest(i) {
				x.Tags = tags
				batch = append(batch, x)
			}
			batch = append(batch, metrics.Sample{Metric: metrics.Checks, Value: float64(i % 2), Tags: tags, Label: "status 200"})
		}
	}
	p.Emit(batch)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Gatherer().Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
