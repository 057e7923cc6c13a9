package csv

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// benchSamples is one 64-sample VU batch of HTTP request samples (11 metrics per request).
func benchSamples() []metrics.Sample {
	tags := &metrics.Tags{Scenario: "s", Step: "get", Target: "api", Method: "GET", URL: "/api/stocks", Group: "http"}
	ms := []metrics.Metric{metrics.HTTPReqs, metrics.HTTPReqDuration, metrics.HTTPReqServiceTime, metrics.HTTPReqBlocked,
		metrics.HTTPReqConnecting, metrics.HTTPReqSending, metrics.HTTPReqWaiting, metrics.HTTPReqReceiving,
		metrics.HTTPReqFailed, metrics.DataSent, metrics.DataReceived}
	out := make([]metrics.Sample, 64)
	for i := range out {
		out[i] = metrics.Sample{Metric: ms[i%len(ms)], Time: 1763800000123456789 + int64(i)*1000, Value: 1.234 + float64(i),
			Tags: tags, Status: 200}
	}
	return out
}

// benchCSV writes b.N batches through the output's public path (Emit, then Stop drains and
// flushes, timed too) and checks every sample became a row; ns/sample is the figure to read.
func benchCSV(b *testing.B, aggregated bool) {
	dir := b.TempDir()
	path := filepath.Join(dir, "raw.csv")
	o, err := New(Config{Path: path, Aggregated: aggregated}, outputs.Options{PlanName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	if err := o.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	batch := benchSamples()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o.Emit(batch)
	}
	if err := o.Stop(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/sample")
	data, err := os.ReadFile(o.Path())
	if err != nil {
		b.Fatal(err)
	}
	if rows := bytes.Count(data, []byte("\n")) - 1; rows != b.N*len(batch) {
		b.Fatalf("%d rows, want %d", rows, b.N*len(batch))
	}
}

// BenchmarkCSVRaw encodes and writes raw sample rows (k6's layout).
func BenchmarkCSVRaw(b *testing.B) { benchCSV(b, false) }

// BenchmarkCSVAggregated adds the Locust-style aggregated files (stats, history, failures).
func BenchmarkCSVAggregated(b *testing.B) { benchCSV(b, true) }
