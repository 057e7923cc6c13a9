package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/csv"
	"github.com/loadplan/loadplan/outputs/influxdb"
	"github.com/loadplan/loadplan/outputs/jsonl"
	"github.com/loadplan/loadplan/outputs/prometheus"
	"github.com/loadplan/loadplan/outputs/summary"
	"github.com/loadplan/loadplan/plan"
)

// requestSamples returns the samples the executor emits for one HTTP request of a step with a
// check, as EXEC documents them (13 samples; iterations add 2 more every third request).
func requestSamples(tags *metrics.Tags, at int64, i int) []metrics.Sample {
	d := float64(i%50) + 0.5
	out := []metrics.Sample{
		{Metric: metrics.HTTPReqs, Time: at, Value: 1, Tags: tags, Status: 200},
		{Metric: metrics.HTTPReqDuration, Time: at, Value: d, Tags: tags, Status: 200},
		{Metric: metrics.HTTPReqServiceTime, Time: at, Value: d, Tags: tags, Status: 200},
		{Metric: metrics.HTTPReqBlocked, Time: at, Value: 0.01, Tags: tags, Status: 200},
		{Metric: metrics.HTTPReqConnecting, Time: at, Value: 0, Tags: tags, Status: 200},
		{Metric: metrics.HTTPReqTLSHandshaking, Time: at, Value: 0, Tags: tags, Status: 200},
		{Metric: metrics.HTTPReqSending, Time: at, Value: 0.02, Tags: tags, Status: 200},
		{Metric: metrics.HTTPReqWaiting, Time: at, Value: d - 0.1, Tags: tags, Status: 200},
		{Metric: metrics.HTTPReqReceiving, Time: at, Value: 0.05, Tags: tags, Status: 200},
		{Metric: metrics.HTTPReqFailed, Time: at, Value: 0, Tags: tags, Status: 200},
		{Metric: metrics.DataSent, Time: at, Value: 120, Tags: tags},
		{Metric: metrics.DataReceived, Time: at, Value: 310, Tags: tags},
		{Metric: metrics.Checks, Time: at, Value: 1, Tags: tags, Label: "status == 200"},
	}
	return out
}

// BenchmarkEmit measures what each output costs per HTTP request, Emit plus the work of its
// background goroutines (Stop, which drains everything, is inside the timed region), against no
// output at all. It reports ns/request of wall time and cpu-ns/request of process CPU time: on
// a 2-core machine the CPU figure is what competes with the VUs.
//
//	go test -run '^$' -bench Emit -benchtime 20000x ./outputs/integration/
func BenchmarkEmit(b *testing.B) {
	steps := []*metrics.Tags{
		{Scenario: "rest", Step: "stocks", Target: "api", Method: "GET", URL: "/api/stocks", Group: "http"},
		{Scenario: "rest", Step: "quote", Target: "api", Method: "GET", URL: "/api/stocks/{symbol}", Group: "http"},
		{Scenario: "rest", Step: "login", Target: "api", Method: "POST", URL: "/api/login", Group: "http"},
	}
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer sink.Close()
	influxURL := sink.URL // a server that accepts every write at once; the real one when running
	if env.influx != nil {
		influxURL = env.influx.url()
	}
	build := map[string]func(dir string) []outputs.Output{
		"none": func(string) []outputs.Output { return nil },
		"csv": func(dir string) []outputs.Output {
			o, _ := csv.New(csv.Config{Path: filepath.Join(dir, "b.csv"), Aggregated: true}, outputs.Options{})
			return []outputs.Output{o}
		},
		"json": func(dir string) []outputs.Output {
			o, _ := jsonl.New(jsonl.Config{Path: filepath.Join(dir, "b.jsonl")}, outputs.Options{})
			return []outputs.Output{o}
		},
		"prometheus": func(string) []outputs.Output {
			o, _ := prometheus.New(prometheus.Config{Listen: "127.0.0.1:0"}, outputs.Options{})
			return []outputs.Output{o}
		},
		"influxdb": func(string) []outputs.Output {
			o, _ := influxdb.New(influxdb.Config{URL: influxURL, Bucket: influxDB, Required: true}, outputs.Options{})
			return []outputs.Output{o}
		},
	}
	build["all"] = func(dir string) []outputs.Output {
		var all []outputs.Output
		for _, k := range []string{"csv", "prometheus", "influxdb"} {
			all = append(all, build[k](dir)...)
		}
		return all
	}
	for _, name := range []string{"none", "csv", "json", "prometheus", "influxdb", "all"} {
		b.Run(name, func(b *testing.B) {
			mgr := outputs.NewManager(build[name](b.TempDir())...)
			if err := mgr.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			batch := make([]metrics.Sample, 0, 80)
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				batch = append(batch, requestSamples(steps[i%3], time.Now().UnixNano(), i)...)
				if len(batch) >= 64 {
					mgr.Push(batch) // what a VU's batch flush does
					batch = batch[:0]
				}
			}
			mgr.Push(batch)
			if err := mgr.Stop(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/request")
		})
	}
}

// cpuTime returns the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// throughputPlan is a tight loop: 20 VUs sharing N iterations of one GET, no think time.
const throughputPlan = `
variable "host" {
  type = string
}
target "api" {
  base_url = var.host
}
scenario "tight" {
  target = target.api
  http "get" {
    path = "/x"
    check {
      status = 200
    }
  }
}
load {
  model        = "shared_iterations"
  vus          = 20
  iterations   = %d
  max_duration = "10m"
}
`

// BenchmarkThroughput runs the real executor against a loopback server with no output and
// with CSV + Prometheus + InfluxDB on, and reports requests/s and process CPU per request; the
// ratio of the two runs is the outputs' overhead (budget: all outputs ≥ 95% of none).
//
//	go test -run '^$' -bench Throughput -benchtime 50000x -count 3 ./outputs/integration/
func BenchmarkThroughput(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer sink.Close()
	influxURL := sink.URL
	if env.influx != nil {
		influxURL = env.influx.url()
	}
	for _, name := range []string{"none", "csv", "prometheus", "influxdb", "all"} {
		b.Run(name, func(b *testing.B) {
			p, diags := plan.LoadSource("t.hcl", fmt.Appendf(nil, throughputPlan, b.N), plan.Options{Vars: map[string]string{"host": srv.URL}})
			if diags.HasErrors() {
				b.Fatal(diags.Error())
			}
			dir := b.TempDir()
			var outs []outputs.Output
			if name == "csv" || name == "all" {
				c, _ := csv.New(csv.Config{Path: filepath.Join(dir, "t.csv"), Aggregated: true}, outputs.Options{PlanName: "t"})
				outs = append(outs, c)
			}
			if name == "prometheus" || name == "all" {
				pr, _ := prometheus.New(prometheus.Config{Listen: "127.0.0.1:0"}, outputs.Options{PlanName: "t"})
				outs = append(outs, pr)
			}
			if name == "influxdb" || name == "all" {
				in, _ := influxdb.New(influxdb.Config{URL: influxURL, Bucket: influxDB, Required: true}, outputs.Options{PlanName: "t"})
				outs = append(outs, in)
			}
			mgr := outputs.NewManager(append([]outputs.Output{summary.New()}, outs...)...)
			if err := mgr.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			e, err := executor.New(executor.Config{Plan: p, Sink: mgr})
			if err != nil {
				b.Fatal(err)
			}
			cpu0, t0 := cpuTime(), time.Now()
			b.ResetTimer()
			res := e.Run(context.Background())
			if err := mgr.Stop(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if res.Err != nil {
				b.Fatal(res.Err)
			}
			b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "req/s")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1000, "cpu-µs/req")
			b.ReportMetric(float64(mgr.Stalls()), "push-stalls") // VU pushes that waited for the fan-out
		})
	}
}
