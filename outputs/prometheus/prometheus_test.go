package prometheus

import (
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

var (
	quote = &metrics.Tags{Scenario: "rest", Step: "quote", Target: "api", Method: "GET", URL: "/api/stocks/${symbol}", Group: "http"}
	ack   = &metrics.Tags{Scenario: "stream", Step: "osc.ack", Target: "api", Method: "WS", URL: "/ws", Group: "ws"}
)

func newOutput(t *testing.T, o Config) *Output {
	t.Helper()
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	p, err := New(o, outputs.Options{PlanName: "smoke", SegmentName: "1/2"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func fed() []metrics.Sample {
	now := time.Now().UnixNano()
	return []metrics.Sample{
		{Metric: metrics.VUs, Time: now, Value: 7},
		{Metric: metrics.HTTPReqs, Time: now, Value: 1, Tags: quote, Status: 200},
		{Metric: metrics.HTTPReqs, Time: now, Value: 1, Tags: quote, Status: 200},
		{Metric: metrics.HTTPReqs, Time: now, Value: 1, Tags: quote, Status: 500},
		{Metric: metrics.HTTPReqDuration, Time: now, Value: 4, Tags: quote, Status: 200},
		{Metric: metrics.HTTPReqDuration, Time: now, Value: 20, Tags: quote, Status: 200},
		{Metric: metrics.HTTPReqDuration, Time: now, Value: 300, Tags: quote, Status: 500},
		{Metric: metrics.HTTPReqFailed, Time: now, Value: 0, Tags: quote, Status: 200},
		{Metric: metrics.HTTPReqFailed, Time: now, Value: 0, Tags: quote, Status: 200},
		{Metric: metrics.HTTPReqFailed, Time: now, Value: 1, Tags: quote, Status: 500},
		{Metric: metrics.Checks, Time: now, Value: 1, Tags: quote, Label: "status == 200"},
		{Metric: metrics.Checks, Time: now, Value: 0, Tags: quote, Label: "status == 200"},
		{Metric: metrics.DataSent, Time: now, Value: 120, Tags: quote},
		{Metric: metrics.DataSent, Time: now, Value: 80, Tags: quote},
		{Metric: metrics.WSErrors, Time: now, Value: 1, Tags: ack, Label: "timeout"},
	}
}

func TestValuesFed(t *testing.T) {
	p := newOutput(t, Config{TestID: "run-1"})
	p.Emit(fed())
	p.Emit([]metrics.Sample{{Metric: metrics.VUs, Time: time.Now().UnixNano(), Value: 9}})

	const want = `
# HELP loadplan_http_reqs_total HTTP requests made
# TYPE loadplan_http_reqs_total counter
loadplan_http_reqs_total{method="GET",name="/api/stocks/${symbol}",scenario="rest",segment="1/2",status="200",step="quote",target="api",testid="run-1"} 2
loadplan_http_reqs_total{method="GET",name="/api/stocks/${symbol}",scenario="rest",segment="1/2",status="500",step="quote",target="api",testid="run-1"} 1
# HELP loadplan_http_req_failed_total HTTP requests that failed: an error, or a status outside expected_status (200-399 by default, as in k6); failed checks count in checks
# TYPE loadplan_http_req_failed_total counter
loadplan_http_req_failed_total{method="GET",name="/api/stocks/${symbol}",scenario="rest",segment="1/2",status="200",step="quote",target="api",testid="run-1"} 0
loadplan_http_req_failed_total{method="GET",name="/api/stocks/${symbol}",scenario="rest",segment="1/2",status="500",step="quote",target="api",testid="run-1"} 1
# HELP loadplan_checks_passed_total checks that passed
# TYPE loadplan_checks_passed_total counter
loadplan_checks_passed_total{check="status == 200",method="GET",name="/api/stocks/${symbol}",scenario="rest",segment="1/2",step="quote",target="api",testid="run-1"} 1
# HELP loadplan_checks_total checks evaluated, passed or failed
# TYPE loadplan_checks_total counter
loadplan_checks_total{check="status == 200",method="GET",name="/api/stocks/${symbol}",scenario="rest",segment="1/2",step="quote",target="api",testid="run-1"} 2
# HELP loadplan_data_sent_bytes_total bytes sent
# TYPE loadplan_data_sent_bytes_total counter
loadplan_data_sent_bytes_total{method="GET",name="/api/stocks/${symbol}",scenario="rest",segment="1/2",step="quote",target="api",testid="run-1"} 200
# HELP loadplan_vus active virtual users
# TYPE loadplan_vus gauge
loadplan_vus{segment="1/2",testid="run-1"} 9
# HELP loadplan_ws_errors_total WebSocket errors by kind
# TYPE loadplan_ws_errors_total counter
loadplan_ws_errors_total{error="timeout",method="WS",name="/ws",scenario="stream",segment="1/2",step="osc.ack",target="api",testid="run-1"} 1
`
	if err := testutil.GatherAndCompare(p.Gatherer(), strings.NewReader(want),
		"loadplan_http_reqs_total", "loadplan_http_req_failed_total", "loadplan_http_req_failed_samples_total",
		"loadplan_checks_passed_total", "loadplan_checks_total", "loadplan_data_sent_bytes_total", "loadplan_vus",
		"loadplan_ws_errors_total"); err != nil {
		t.Fatal(err)
	}
}

// TestHistogramSeconds checks the duration histogram: seconds, classic buckets and native buckets.
func TestHistogramSeconds(t *testing.T) {
	p := newOutput(t, Config{})
	p.Emit(fed())
	mfs, err := p.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var h *dto.Histogram
	var testid string
	for _, mf := range mfs {
		if mf.GetName() != "loadplan_http_req_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["status"] == "200" {
				h = m.GetHistogram()
				testid = labels["testid"]
			}
		}
	}
	if h == nil {
		t.Fatal("no loadplan_http_req_duration_seconds{status=200}")
	}
	if testid != "smoke" {
		t.Errorf("testid defaults to the plan name, got %q", testid)
	}
	if h.GetSampleCount() != 2 || math.Abs(h.GetSampleSum()-0.024) > 1e-9 {
		t.Errorf("count %d sum %v, want 2 and 0.024 s", h.GetSampleCount(), h.GetSampleSum())
	}
	cum := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		cum[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	if cum[0.0025] != 0 || cum[0.005] != 1 || cum[0.025] != 2 || cum[60] != 2 {
		t.Errorf("classic buckets %v", cum)
	}
	if h.Schema == nil || len(h.GetPositiveSpan()) == 0 {
		t.Errorf("no native buckets: schema %v spans %v", h.Schema, h.GetPositiveSpan())
	}
}

func TestListenerServesAndLingers(t *testing.T) {
	p := newOutput(t, Config{Linger: time.Hour})
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Emit(fed())

	// Another output on the same port fails to start, with the address in the message.
	q := newOutput(t, Config{Listen: p.Addr()})
	err := q.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), p.Addr()) {
		t.Fatalf("second Start on %s: %v", p.Addr(), err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- p.Stop(ctx) }()
	// Stop lingers (an hour, or until ctx ends): the final values are still served.
	body := scrape(t, "http://"+p.Addr()+"/metrics")
	if !strings.Contains(body, `loadplan_http_reqs_total{method="GET",name="/api/stocks/${symbol}",scenario="rest",segment="1/2",status="500",step="quote",target="api",testid="smoke"} 1`) {
		t.Errorf("scrape during linger lacks the final value:\n%s", body)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned before the linger ended: %v", err)
	default:
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", p.Addr()); err == nil {
		t.Error("listener still open after Stop")
	}
}

// TestStopWaitsForFinalScrape: once something scrapes, Stop returns only after a scrape that
// began after the final values were in.
func TestStopWaitsForFinalScrape(t *testing.T) {
	p := newOutput(t, Config{})
	p.finalWait = [2]time.Duration{time.Hour, time.Hour} // only the scrape may end the wait
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	url := "http://" + p.Addr() + "/metrics"
	if body := scrape(t, url); strings.Contains(body, "loadplan_http_reqs_total{") {
		t.Fatalf("values before any Emit:\n%s", body)
	}
	p.Emit(fed()) // the final values
	stopped := make(chan error, 1)
	go func() { stopped <- p.Stop(context.Background()) }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned before the final scrape: %v", err)
	default:
	}
	var body string
	for {
		// A scraper polling; once the final scrape is done the listener closes and Get fails.
		if resp, err := http.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
		}
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(body, `status="500",step="quote",target="api",testid="smoke"} 1`) {
				t.Fatalf("last scrape lacks the final values:\n%s", body)
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPushGatewayOnStop(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	var bodies int
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.Path)
		if len(b) > 0 {
			bodies++
		}
		mu.Unlock()
	}))
	defer gw.Close()
	p := newOutput(t, Config{PushGateway: gw.URL, TestID: "ci-42"})
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.Emit(fed())
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) != 1 || paths[0] != "PUT /metrics/job/loadplan/instance/ci-42-1of2" || bodies != 1 {
		t.Fatalf("pushes: %v (bodies %d)", paths, bodies)
	}
}

func TestBadConfig(t *testing.T) {
	for _, o := range []Config{{Listen: "no-port"}, {Linger: -time.Second}} {
		if _, err := New(o, outputs.Options{}); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	if got := MetricName(metrics.HTTPReqDuration); got != "loadplan_http_req_duration_seconds" {
		t.Error(got)
	}
	if got := MetricName(metrics.DataReceived); got != "loadplan_data_received_bytes_total" {
		t.Error(got)
	}
}
