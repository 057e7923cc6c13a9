package executor

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/summary"
)

// nullRaw is a per-sample output that keeps nothing but counts, to show what shipping every
// sample costs and to count what was shipped. Emit runs on the Manager's goroutine; readers read
// after Stop.
type nullRaw struct{ n, reqs int }

func (o *nullRaw) Name() string                { return "null" }
func (o *nullRaw) Start(context.Context) error { return nil }
func (o *nullRaw) Emit(b []metrics.Sample) {
	o.n += len(b)
	for _, s := range b {
		if s.Metric == metrics.HTTPReqs {
			o.reqs++
		}
	}
}
func (o *nullRaw) Stop(ctx context.Context) error { return nil }

// requestSamples are the 14 samples one HTTP request emits through VU.Emit.
func benchRequestSamples() []metrics.Sample {
	tags := &metrics.Tags{Scenario: "s", Step: "get", Target: "api", Method: "GET", URL: "/", Group: "http"}
	ms := []metrics.Metric{metrics.HTTPReqs, metrics.HTTPReqDuration, metrics.HTTPReqServiceTime, metrics.HTTPReqBlocked,
		metrics.HTTPReqConnecting, metrics.HTTPReqTLSHandshaking, metrics.HTTPReqSending, metrics.HTTPReqWaiting,
		metrics.HTTPReqReceiving, metrics.HTTPReqFailed, metrics.DataSent, metrics.DataReceived,
		metrics.Iterations, metrics.IterationDuration}
	out := make([]metrics.Sample, len(ms))
	for i, m := range ms {
		v := 1.0
		if m.Kind() == metrics.Trend {
			v = 0.1 + float64(i%5)*0.37
		}
		out[i] = metrics.Sample{Metric: m, Value: v, Tags: tags, Status: 200}
	}
	return out
}

func processCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkSamplePath is the sample path of one HTTP request: its 14 samples through a VU's
// batcher into the outputs Manager with the summary, until the summary's Store holds them.
// cpu-ns/req is the process CPU (the Manager's goroutine included) per request:
//
//   - fold: the VU folds into its shard of the aggregates, nothing is queued (today's path);
//
//   - push: every batch is pushed to the Manager and folded on its goroutine (the path before
//     aggregation moved to the VUs, kept for sinks that do not aggregate);
//
//   - fold+raw: fold, plus a per-sample output that needs every sample (CSV, JSONL, InfluxDB).
//
//     go test -run '^$' -bench SamplePath -benchmem ./executor/
func BenchmarkSamplePath(b *testing.B) {
	for _, name := range []string{"fold", "push", "fold+raw"} {
		b.Run(name, func(b *testing.B) {
			sum := summary.New()
			outs := []outputs.Output{sum}
			if name == "fold+raw" {
				outs = append(outs, &nullRaw{})
			}
			mgr := outputs.NewManager(outs...)
			if err := mgr.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			var sink metrics.Sink = mgr
			if name == "push" {
				sink = metrics.SinkFunc(mgr.Push)
			}
			bt := newBatcher(sink)
			req := benchRequestSamples()
			b.ReportAllocs()
			cpu0 := processCPU()
			t := bt.last
			for b.Loop() {
				t += 20_000 // 20 µs per request: a flush by size, not by age, as at full speed
				for _, s := range req {
					s.Time = t
					bt.add(s)
				}
			}
			bt.flush(t)
			if err := mgr.Stop(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/req")
			if n := metrics.Combine(sum.Store().Snapshot(), metrics.HTTPReqs, nil).Count; n != uint64(b.N) {
				b.Fatalf("summary http_reqs %d, want %d", n, b.N)
			}
		})
	}
}

var sinkTime time.Time

// BenchmarkClockNow is the executor's clock reading (clockNow: the monotonic clock only), taken
// at an iteration's start and for the samples the executor times itself.
func BenchmarkClockNow(b *testing.B) {
	for b.Loop() {
		sinkTime = clockNow()
	}
}

// BenchmarkTimeNow is time.Now, which clockNow replaced there: the wall and the monotonic clock.
func BenchmarkTimeNow(b *testing.B) {
	for b.Loop() {
		sinkTime = time.Now()
	}
}
