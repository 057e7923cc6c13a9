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

// benchRequests returns VU batches of 64 samples cut from requests as executor/httpstep emits
// them (13 samples: http_reqs, eight timings, bytes, a check, http_req_failed), so requests
// straddle batches as they do in a run.
func benchRequests(n int) [][]metrics.Sample {
	tags := &metrics.Tags{Scenario: "s", Step: "get", Target: "api", Method: "GET", URL: "/api/stocks", Group: "http"}
	var all []metrics.Sample
	for i := 0; i < n; i++ {
		r := req{tags: tags, t1: 1763800000123456789 + int64(i)*20_000, status: 200, sent: true, response: true,
			dur: 1.234 + float64(i%100)/1000, checks: []bool{true}, sentBytes: 73}
		r.t2 = r.t1 + 300
		all = append(all, r.samples()...)
	}
	var out [][]metrics.Sample
	for len(all) > 0 {
		k := min(64, len(all))
		out = append(out, all[:k])
		all = all[k:]
	}
	return out
}

// benchCSV writes b.N requests through the output's public path (Emit, then Stop drains and
// flushes, timed too) and checks every request is there; ns/op is per HTTP request, and B/req
// is the raw file's size per request.
func benchCSV(b *testing.B, layout string, aggregated bool) {
	path := filepath.Join(b.TempDir(), "raw.csv")
	o, err := New(Config{Path: path, Aggregated: aggregated, Layout: layout}, outputs.Options{PlanName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	if err := o.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	batches := benchRequests(1000) // 1,000 requests over and over: no heap of b.N samples to scan
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	emitN(o, batches, b.N)
	if err := o.Stop(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/req")
	b.StopTimer()
	data, err := os.ReadFile(o.Path())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(data))/float64(b.N), "B/req")
	if rows := bytes.Count(data, []byte("\nhttp_reqs,")); rows != b.N {
		b.Fatalf("%d http_reqs rows, want %d", rows, b.N)
	}
}

// emitN emits n requests from the batches of 1,000 requests, repeating them: the batch that
// holds the n-th request's end is cut there, so that exactly n requests are emitted.
func emitN(o *Output, batches [][]metrics.Sample, n int) {
	total := 0
	for _, batch := range batches {
		total += len(batch)
	}
	left := n * (total / 1000)
	for left > 0 {
		for _, batch := range batches {
			if len(batch) > left {
				batch = batch[:left]
			}
			o.Emit(batch)
			if left -= len(batch); left == 0 {
				return
			}
		}
	}
}

// BenchmarkCSV is the raw file's cost per HTTP request, in the compact layout (the default) and
// in k6's long layout, without and with the Locust-style aggregated files.
func BenchmarkCSV(b *testing.B) {
	b.Run("compact", func(b *testing.B) { benchCSV(b, LayoutCompact, false) })
	b.Run("long", func(b *testing.B) { benchCSV(b, LayoutLong, false) })
	b.Run("compact+aggregated", func(b *testing.B) { benchCSV(b, LayoutCompact, true) })
	b.Run("long+aggregated", func(b *testing.B) { benchCSV(b, LayoutLong, true) })
}

// BenchmarkCSVEmit is what a request costs the Manager's goroutine alone: Emit's copy into the
// queue (the writer goroutine encodes meanwhile on another core).
func BenchmarkCSVEmit(b *testing.B) {
	o, err := New(Config{Path: filepath.Join(b.TempDir(), "raw.csv")}, outputs.Options{PlanName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	if err := o.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	batches := benchRequests(1000)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	emitN(o, batches, b.N)
	b.StopTimer()
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/req") // the writer's too, up to here
	if err := o.Stop(context.Background()); err != nil {
		b.Fatal(err)
	}
}
