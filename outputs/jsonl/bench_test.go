package jsonl

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// BenchmarkJSONL writes b.N HTTP requests of 14 samples each through Emit and Stop (timed:
// the writer's encoding is the cost); ns/op is per request.
func BenchmarkJSONL(b *testing.B) {
	tags := &metrics.Tags{Scenario: "s", Step: "get", Target: "api", Method: "GET", URL: "/api/stocks", Group: "http"}
	ms := []metrics.Metric{metrics.HTTPReqs, metrics.HTTPReqDuration, metrics.HTTPReqServiceTime, metrics.HTTPReqBlocked,
		metrics.HTTPReqConnecting, metrics.HTTPReqTLSHandshaking, metrics.HTTPReqSending, metrics.HTTPReqWaiting,
		metrics.HTTPReqReceiving, metrics.DataSent, metrics.DataReceived, metrics.Checks, metrics.HTTPReqFailed}
	var all []metrics.Sample
	for i := 0; i < 1000; i++ {
		t := 1763800000123456789 + int64(i)*20_000
		for k, m := range ms {
			s := metrics.Sample{Metric: m, Time: t, Value: 1.234 / float64(k+1), Tags: tags, Status: 200}
			if m == metrics.Checks {
				s.Status, s.Label, s.Time = 0, "status is 200", t+300
			}
			all = append(all, s)
		}
	}
	o, err := New(Config{Path: filepath.Join(b.TempDir(), "b.jsonl")}, outputs.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := o.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	n := 0
	for done := 0; done < b.N; done += 1000 {
		for off := 0; off < len(all); off += 64 {
			o.Emit(all[off:min(off+64, len(all))])
		}
		n += 1000
	}
	if err := o.Stop(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(n), "cpu-ns/req")
}
