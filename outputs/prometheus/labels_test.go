package prometheus

import (
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/loadplan/loadplan/metrics"
)

// gathered returns, for each family, the label sets of its series rendered as "a=1,b=2" and
// their values (counters and gauges; a histogram's count).
func gathered(t *testing.T, p *Output) map[string]map[string]float64 {
	t.Helper()
	mfs, err := p.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, mf := range mfs {
		byLabels := map[string]float64{}
		for _, m := range mf.GetMetric() {
			byLabels[labelText(m)] = value(m)
		}
		out[mf.GetName()] = byLabels
	}
	return out
}

func labelText(m *dto.Metric) string {
	var pairs []string
	for _, l := range m.GetLabel() {
		pairs = append(pairs, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(pairs, ",")
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return -1
}

// TestNoEmptyLabels: no series of any family has a label with an empty value; a run-level gauge
// has only the constant labels and a scenario-level counter no step, method, name or status.
func TestNoEmptyLabels(t *testing.T) {
	p := newOutput(t, Config{TestID: "t"})
	now := time.Now().UnixNano()
	scen := &metrics.Tags{Scenario: "rest"}
	p.Emit(append(everyMetric(),
		metrics.Sample{Metric: metrics.VUs, Time: now, Value: 3},
		metrics.Sample{Metric: metrics.Iterations, Time: now, Value: 1, Tags: scen},
		metrics.Sample{Metric: metrics.IterationDuration, Time: now, Value: 12, Tags: scen},
		metrics.Sample{Metric: metrics.HTTPReqs, Time: now, Value: 1, Tags: quote}, // status 0: an error
	))
	mfs, err := p.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == "" {
					t.Errorf("%s{%s} has an empty %s label", mf.GetName(), labelText(m), l.GetName())
				}
			}
		}
	}
	g := gathered(t, p)
	want := map[string]string{
		"loadplan_vus":                        "segment=1/2,testid=t",
		"loadplan_iterations_total":           "scenario=rest,segment=1/2,testid=t",
		"loadplan_iteration_duration_seconds": "scenario=rest,segment=1/2,testid=t",
	}
	for name, labels := range want {
		if _, ok := g[name][labels]; !ok {
			t.Errorf("%s: no series {%s}; have %v", name, labels, g[name])
		}
	}
	if v := g["loadplan_http_reqs_total"]["method=GET,name=/api/stocks/${symbol},scenario=rest,segment=1/2,step=quote,target=api,testid=t"]; v != 1 {
		t.Errorf("http_reqs without a status: %v, want 1 (%v)", v, g["loadplan_http_reqs_total"])
	}
}

// TestRequestsAndFailuresPair: for every request, http_reqs and http_req_failed have a series with
// the same labels — as the executor emits them, with the request's status, 0 for an error — so
// failed/reqs divides series one to one; and no counter of all http_req_failed samples repeats
// http_reqs.
func TestRequestsAndFailuresPair(t *testing.T) {
	p := newOutput(t, Config{TestID: "t"})
	now := time.Now().UnixNano()
	other := &metrics.Tags{Scenario: "rest", Step: "buy", Target: "api", Method: "POST", URL: "/api/orders", Group: "http"}
	var batch []metrics.Sample
	request := func(tags *metrics.Tags, status int, failed bool) {
		f := 0.0
		if failed {
			f = 1
		}
		batch = append(batch,
			metrics.Sample{Metric: metrics.HTTPReqs, Time: now, Value: 1, Tags: tags, Status: status},
			metrics.Sample{Metric: metrics.HTTPReqFailed, Time: now, Value: f, Tags: tags, Status: status})
	}
	for range 7 {
		request(quote, 200, false)
	}
	request(quote, 500, true)
	request(quote, 500, true)
	request(quote, 0, true) // reset after sending: no status
	request(other, 201, false)
	request(other, 404, true)
	p.Emit(batch)
	g := gathered(t, p)
	reqs, failed := g["loadplan_http_reqs_total"], g["loadplan_http_req_failed_total"]
	rk, fk := keys(reqs), keys(failed)
	if !slices.Equal(rk, fk) {
		t.Fatalf("label sets differ:\nhttp_reqs       %q\nhttp_req_failed %q", rk, fk)
	}
	// Each series' ratio is the share of its requests that failed, and the sums give the run's.
	var sumReqs, sumFailed float64
	for k, n := range reqs {
		sumReqs += n
		sumFailed += failed[k]
		wantFailed := 0.0
		if !strings.Contains(k, "status=2") {
			wantFailed = n
		}
		if failed[k] != wantFailed {
			t.Errorf("{%s}: %v failed of %v, want %v", k, failed[k], n, wantFailed)
		}
	}
	if sumReqs != 12 || sumFailed != 4 {
		t.Errorf("requests %v failed %v, want 12 and 4", sumReqs, sumFailed)
	}
	if _, ok := g["loadplan_http_req_failed_samples_total"]; ok {
		t.Error("loadplan_http_req_failed_samples_total is exposed; it repeats loadplan_http_reqs_total")
	}
}

func keys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestEqualLabelsAreOneSeries: two keys that Prometheus cannot tell apart (equal tags behind two
// pointers; tags differing only in the group, which no label shows) add up in one series instead
// of a label set gathered twice, which fails the whole scrape; a task's series carry its name.
func TestEqualLabelsAreOneSeries(t *testing.T) {
	p := newOutput(t, Config{TestID: "t"})
	now := time.Now().UnixNano()
	twin := *quote
	regrouped := *quote
	regrouped.Group = "other"
	browse := &metrics.Tags{Scenario: "shop", Task: "browse"}
	buy := &metrics.Tags{Scenario: "shop", Task: "buy"}
	p.Emit([]metrics.Sample{
		{Metric: metrics.HTTPReqs, Time: now, Value: 1, Tags: quote, Status: 200},
		{Metric: metrics.HTTPReqs, Time: now, Value: 1, Tags: &twin, Status: 200},
		{Metric: metrics.HTTPReqs, Time: now, Value: 1, Tags: &regrouped, Status: 200},
		{Metric: metrics.HTTPReqDuration, Time: now, Value: 10, Tags: quote, Status: 200},
		{Metric: metrics.HTTPReqDuration, Time: now, Value: 20, Tags: &twin, Status: 200},
		{Metric: metrics.IterationDuration, Time: now, Value: 10, Tags: browse},
		{Metric: metrics.IterationDuration, Time: now, Value: 10, Tags: buy},
		{Metric: metrics.IterationDuration, Time: now, Value: 10, Tags: buy},
	})
	g := gathered(t, p) // fails on a duplicate series
	const labels = "method=GET,name=/api/stocks/${symbol},scenario=rest,segment=1/2,status=200,step=quote,target=api,testid=t"
	if v := g["loadplan_http_reqs_total"][labels]; v != 3 || len(g["loadplan_http_reqs_total"]) != 1 {
		t.Errorf("http_reqs %v", g["loadplan_http_reqs_total"])
	}
	if v := g["loadplan_http_req_duration_seconds"][labels]; v != 2 || len(g["loadplan_http_req_duration_seconds"]) != 1 {
		t.Errorf("http_req_duration %v", g["loadplan_http_req_duration_seconds"])
	}
	it := g["loadplan_iteration_duration_seconds"]
	if it["scenario=shop,segment=1/2,task=browse,testid=t"] != 1 || it["scenario=shop,segment=1/2,task=buy,testid=t"] != 2 {
		t.Errorf("iteration_duration by task: %v", it)
	}
}
