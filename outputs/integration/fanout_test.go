package integration

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/csv"
	"github.com/loadplan/loadplan/outputs/influxdb"
	"github.com/loadplan/loadplan/outputs/prometheus"
	"github.com/loadplan/loadplan/outputs/summary"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/threshold"
)

// BenchmarkFanOut measures the capacity of the Manager's one fan-out goroutine with what apply
// runs — summary, three thresholds, CSV (raw and aggregated), Prometheus and InfluxDB — when VUs
// push faster than it can emit: pushers only copy pre-built 64-sample batches, so the fan-out is
// the bottleneck and the figure is the most requests per second it can take (the outputs'
// background writers run meanwhile, as in a run). Compare it with BenchmarkThroughput's req/s:
// while the executor stays below it, Push never waits (push-stalls there is 0). Here the stalls
// are expected: they are how Push holds VUs back when the fan-out is the bottleneck.
//
//	go test -run '^$' -bench FanOut -benchtime 100000x ./outputs/integration/
func BenchmarkFanOut(b *testing.B) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer sink.Close()
	influxURL := sink.URL
	if env.influx != nil {
		influxURL = env.influx.url()
	}
	dir := b.TempDir()
	c, err := csv.New(csv.Config{Path: filepath.Join(dir, "f.csv"), Aggregated: true}, outputs.Options{PlanName: "f"})
	if err != nil {
		b.Fatal(err)
	}
	pr, err := prometheus.New(prometheus.Config{Listen: "127.0.0.1:0"}, outputs.Options{PlanName: "f"})
	if err != nil {
		b.Fatal(err)
	}
	in, err := influxdb.New(influxdb.Config{URL: influxURL, Bucket: influxDB, Required: true}, outputs.Options{PlanName: "f"})
	if err != nil {
		b.Fatal(err)
	}
	cond := func(src string, m metrics.Metric) metrics.Condition {
		cd, err := metrics.ParseCondition(src, m.Kind(), m.Info().Unit)
		if err != nil {
			b.Fatal(err)
		}
		return cd
	}
	ths := []*plan.Threshold{
		{Name: "http_req_duration", Metric: metrics.HTTPReqDuration, Conditions: []metrics.Condition{cond("p(95) < 300ms", metrics.HTTPReqDuration)}},
		{Name: "http_req_failed", Metric: metrics.HTTPReqFailed, Conditions: []metrics.Condition{cond("rate < 0.01", metrics.HTTPReqFailed)}, Window: time.Minute},
		{Name: "http_req_duration{step=quote}", Metric: metrics.HTTPReqDuration, Selector: map[string]string{"step": "quote"},
			Conditions: []metrics.Condition{cond("p(99) < 1s", metrics.HTTPReqDuration)}},
	}
	start := time.Now()
	thr := threshold.New(threshold.Config{Thresholds: ths, Run: func() threshold.Run { return threshold.Run{Start: start} }})
	mgr := outputs.NewManager(summary.New(), thr.Ingester(), c, pr, in)
	if err := mgr.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	steps := []*metrics.Tags{
		{Scenario: "rest", Step: "stocks", Target: "api", Method: "GET", URL: "/api/stocks", Group: "http"},
		{Scenario: "rest", Step: "quote", Target: "api", Method: "GET", URL: "/api/stocks/{symbol}", Group: "http"},
		{Scenario: "rest", Step: "login", Target: "api", Method: "POST", URL: "/api/login", Group: "http"},
	}
	// Batches as VUs flush them, up to 64 samples: whole requests of 13 samples, 4 a batch.
	const pushers = 4
	perReq := len(requestSamples(steps[0], 0, 0))
	reqsPerBatch := 64 / perReq
	batches := max(b.N/reqsPerBatch, 1)
	prebuilt := make([][]metrics.Sample, pushers)
	for p := range prebuilt {
		for i := range reqsPerBatch {
			prebuilt[p] = append(prebuilt[p], requestSamples(steps[(p+i)%3], start.UnixNano(), i)...)
		}
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	for p := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := prebuilt[p]
			for i := p; i < batches; i += pushers {
				now := t0.UnixNano() + int64(i)*int64(time.Millisecond)/10 // 10 batches a simulated ms
				for j := range batch {
					batch[j].Time = now
				}
				mgr.Push(batch)
			}
		}()
	}
	wg.Wait()
	mgr.Close() // every batch emitted: the fan-out's work is done
	elapsed := time.Since(t0)
	b.StopTimer()
	if err := mgr.Stop(context.Background()); err != nil {
		b.Fatal(err)
	}
	reqs := float64(batches * reqsPerBatch)
	b.ReportMetric(reqs/elapsed.Seconds(), "fanout-req/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/reqs, "cpu-ns/req")
	b.ReportMetric(float64(mgr.Stalls())/float64(batches), "stalls/push")
	if vs := thr.Verdicts(); !vs[0].Outcomes[0].Valid {
		b.Fatalf("thresholds saw nothing: %+v", vs[0])
	}
}
