package influxdb

import (
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// requestSamples is one HTTP request as executor/httpstep emits it: 14 samples.
func requestSamples(tags *metrics.Tags, t int64) []metrics.Sample {
	var out []metrics.Sample
	at := func(t int64, m metrics.Metric, v float64, st int, label string) {
		out = append(out, metrics.Sample{Metric: m, Time: t, Value: v, Tags: tags, Status: st, Label: label})
	}
	at(t, metrics.HTTPReqs, 1, 200, "")
	for i, m := range []metrics.Metric{metrics.HTTPReqDuration, metrics.HTTPReqServiceTime, metrics.HTTPReqBlocked,
		metrics.HTTPReqConnecting, metrics.HTTPReqTLSHandshaking, metrics.HTTPReqSending, metrics.HTTPReqWaiting,
		metrics.HTTPReqReceiving} {
		at(t, m, 1.234/float64(i+1)+float64(t%1000)/1e3, 200, "")
	}
	at(t, metrics.DataSent, 73, 200, "")
	at(t, metrics.DataReceived, 104, 200, "")
	at(t+300, metrics.Checks, 1, 0, "status is 200")
	at(t+300, metrics.HTTPReqFailed, 0, 200, "")
	return out
}

// BenchmarkEmit is what one HTTP request costs the Manager's goroutine in the InfluxDB output:
// folding its 14 samples into the interval's aggregates (what the points are made of), in
// 64-sample VU batches; a flush every 10,000 requests, as a 1 s interval at that rate would.
func BenchmarkEmit(b *testing.B) {
	var g aggregator
	g.init()
	var all []metrics.Sample
	for i := 0; i < 1000; i++ {
		all = append(all, requestSamples(quote, 1763800000123456789+int64(i)*20_000)...)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime(b)
	done := 0
	for done < b.N {
		for off := 0; off < len(all) && done < b.N; off += 64 {
			g.add(all[off:min(off+64, len(all))])
		}
		done += 1000
		if done%10_000 == 0 {
			g.points(time.Now(), "t", "")
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(done), "cpu-ns/req")
}
