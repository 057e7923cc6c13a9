package integration

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/internal/demo"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/csv"
	"github.com/loadplan/loadplan/outputs/influxdb"
	"github.com/loadplan/loadplan/outputs/jsonl"
	"github.com/loadplan/loadplan/outputs/prometheus"
	"github.com/loadplan/loadplan/plan"
	loadrun "github.com/loadplan/loadplan/run" // this package's run is a test's outcome
)

// testPlan exercises what the dashboards show: REST steps (one failing now and then), a
// WebSocket protocol, checks. It runs against the demo backend for a few seconds.
const testPlan = `
variable "host" {
  type = string
}

target "api" {
  base_url = var.host
}

scenario "rest" {
  target     = target.api
  weight     = 3
  think_time = "40ms"

  http "stocks" {
    path = "/api/stocks"
    check {
      status = 200
    }
  }
  http "quote" {
    path = "/api/stocks/AAPL"
    check {
      status        = 200
      body_contains = "price"
    }
  }
  http "flaky" {
    path  = "/api/flaky"
    query = { fail = "0.2" }
    check {
      status = 200
    }
  }
}

scenario "stream" {
  target     = target.api
  weight     = 1
  think_time = "100ms"

  websocket "osc" {
    path = "/api/oscilloscope/ws"
    send "start" {
      json = { command = "start", frequency = 50 }
    }
    expect "data" {
      json   = { type = "data" }
      count  = 3
      within = "2s"
    }
    send "stop" {
      json = { command = "stop" }
    }
    expect "stopped" {
      json   = { type = "stopped" }
      within = "2s"
    }
  }
}

load {
  vus      = 4
  duration = "%s"
}
`

// run is the outcome of one load run through every output.
type run struct {
	testID     string
	start, end time.Time
	series     []*metrics.Series // the summary's store
	csvPath    string
	csvPrefix  string
	jsonPath   string
	server     demo.Counts
	influx     *influxdb.Output
	result     executor.Result
}

// count returns the summary's total for metric m (the sum of values: a count for counters).
func (r *run) count(m metrics.Metric) float64 { return metrics.Combine(r.series, m, nil).Sum }

// runOptions says which outputs a run gets and against what.
type runOptions struct {
	testID   string
	duration string
	dir      string
	influx   string // InfluxDB URL, "" for none
	prom     bool
	pushgw   string
	during   func(elapsed time.Duration) // called every 100 ms while the run goes on
	logf     func(string, ...any)
	segment  executor.Segment // this run's share of the plan; the zero value runs all of it
	listen   string           // the Prometheus output's address; "" is env.promTarget
	vus      int              // the plan's VUs; 0 keeps testPlan's 4
	plan     string           // the plan's source, %s for the duration; "" is testPlan
}

// loadRun runs testPlan through package run (the real executor, summary and thresholds) against
// the demo backend with the outputs of o, and returns what the summary and the server saw.
func loadRun(o runOptions) (*run, error) {
	srv, err := demo.Listen("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	src := testPlan
	if o.plan != "" {
		src = o.plan
	}
	src = fmt.Sprintf(src, o.duration)
	if o.vus > 0 {
		src = strings.Replace(src, "vus      = 4", fmt.Sprintf("vus      = %d", o.vus), 1)
	}
	p, diags := plan.LoadSource("integration.hcl", []byte(src), plan.Options{Vars: map[string]string{"host": srv.URL()}})
	if diags.HasErrors() {
		return nil, fmt.Errorf("plan: %s", diags.Error())
	}
	opts := outputs.Options{PlanName: "integration", Logf: o.logf, SegmentName: o.segment.String()}
	c, err := csv.New(csv.Config{Path: o.dir + "/run.csv", Aggregated: true}, opts)
	if err != nil {
		return nil, err
	}
	j, err := jsonl.New(jsonl.Config{Path: o.dir + "/run.jsonl"}, opts)
	if err != nil {
		return nil, err
	}
	outs := []outputs.Output{c, j}
	if o.prom {
		listen := o.listen
		if listen == "" {
			listen = env.promTarget
		}
		pr, err := prometheus.New(prometheus.Config{Listen: listen, Linger: 4 * time.Second,
			PushGateway: o.pushgw, TestID: o.testID}, opts)
		if err != nil {
			return nil, err
		}
		outs = append(outs, pr)
	}
	r := &run{testID: o.testID}
	if o.influx != "" {
		in, err := influxdb.New(influxdb.Config{URL: o.influx, Bucket: influxDB, Required: true, TestID: o.testID}, opts)
		if err != nil {
			return nil, err
		}
		outs = append(outs, in)
		r.influx = in
	}
	// Wired as apply wires it: package run adds the summary and the thresholds, starts and stops
	// these outputs with them.
	lr, err := loadrun.New(p, loadrun.Config{Name: "integration", Extra: outs, Logf: o.logf, Segment: o.segment})
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	if o.during != nil {
		snaps, cancel := lr.Subscribe(100 * time.Millisecond)
		defer cancel()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for snap := range snaps {
				switch {
				case snap.Status.Phase < loadrun.Running: // outputs starting, targets checked
				case snap.Status.Phase == loadrun.Running:
					o.during(snap.Status.Elapsed)
				default:
					return // the load ended: the outputs are stopping
				}
			}
		}()
	}
	if err := lr.Start(context.Background()); err != nil {
		return nil, err
	}
	<-lr.Ended()
	res := lr.Wait()
	wg.Wait()
	r.result, r.start, r.end = res.Executor, res.Executor.Start, res.Executor.End
	if err := errors.Join(res.StopErr, res.ReportErr); err != nil {
		return nil, err
	}
	if r.result.Err != nil {
		return nil, r.result.Err
	}
	r.series = res.Report.Series
	r.server = srv.Counts()
	r.csvPath, r.csvPrefix, r.jsonPath = c.Path(), c.StatsPrefix(), j.Path()
	return r, nil
}

// shared is the one full run that the count and dashboard tests read.
var shared struct {
	once sync.Once
	dir  string
	r    *run
	err  error
}

func sharedRun(t *testing.T) *run {
	t.Helper()
	need(t, env.prom, env.influx, env.pushgw)
	shared.once.Do(func() {
		shared.dir, shared.err = tempDir()
		if shared.err != nil {
			return
		}
		shared.r, shared.err = loadRun(runOptions{
			testID: fmt.Sprintf("it-%d", time.Now().UnixNano()), duration: "6s", dir: shared.dir,
			influx: env.influx.url(), prom: true, pushgw: env.pushgw.url(), logf: log.Printf,
		})
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.r
}
