package integration

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// seriesOf returns the final value of every series of q's metric, by its labels without
// __name__ and instance/job, as the real Prometheus scraped them.
func seriesOf(t *testing.T, q string) map[string]float64 {
	t.Helper()
	r, err := promQuery(q, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, s := range r.Data.Result {
		var pairs []string
		for k, v := range s.Metric {
			if k != "__name__" && k != "instance" && k != "job" {
				pairs = append(pairs, k+"="+v)
			}
		}
		slices.Sort(pairs)
		v, err := strconv.ParseFloat(s.Value[1].(string), 64)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.Join(pairs, ",")] = v
	}
	return out
}

// TestFailedPairsWithRequests: in the shared run (the real executor against the demo backend,
// whose /api/flaky fails a fifth of its requests), the real Prometheus holds a
// loadplan_http_req_failed_total series for exactly each loadplan_http_reqs_total series, with
// the same labels, so failed / reqs divides one to one without ignoring(...); their sums equal
// the summary's http_req_failed (failed samples, and all of them: every request here reached
// the server), and checks are two counters that add up to the summary's.
func TestFailedPairsWithRequests(t *testing.T) {
	r := sharedRun(t)
	final := func(name string) map[string]float64 {
		q := fmt.Sprintf(`max_over_time(%s{testid=%q}[10m])`, name, r.testID)
		var got map[string]float64
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(250 * time.Millisecond) {
			if got = seriesOf(t, q); len(got) > 0 || time.Now().After(deadline) {
				return got
			}
		}
	}
	reqs, failed := final("loadplan_http_reqs_total"), final("loadplan_http_req_failed_total")
	var rk, fk []string
	var sumReqs, sumFailed float64
	for k, v := range reqs {
		rk, sumReqs = append(rk, k), sumReqs+v
	}
	for k, v := range failed {
		fk, sumFailed = append(fk, k), sumFailed+v
	}
	slices.Sort(rk)
	slices.Sort(fk)
	if len(rk) < 3 || !slices.Equal(rk, fk) {
		t.Fatalf("label sets differ:\nhttp_reqs       %q\nhttp_req_failed %q", rk, fk)
	}
	summary := metrics.Combine(r.series, metrics.HTTPReqFailed, nil)
	if sumReqs != float64(summary.Count) || sumFailed != float64(summary.Trues) || sumFailed == 0 {
		t.Errorf("prometheus: %v requests, %v failed; summary's http_req_failed: %d samples, %d failed",
			sumReqs, sumFailed, summary.Count, summary.Trues)
	}
	if flaky := r.server.Requests["GET /api/flaky"]; flaky == 0 || sumReqs != r.count(metrics.HTTPReqs) {
		t.Errorf("server saw %d flaky requests; prometheus %v requests, summary %v", flaky, sumReqs, r.count(metrics.HTTPReqs))
	}
	var passed, all float64
	for _, v := range final("loadplan_checks_passed_total") {
		passed += v
	}
	for _, v := range final("loadplan_checks_total") {
		all += v
	}
	checks := metrics.Combine(r.series, metrics.Checks, nil)
	if passed != float64(checks.Trues) || all != float64(checks.Count) || all == 0 {
		t.Errorf("prometheus checks %v passed of %v; summary %d of %d", passed, all, checks.Trues, checks.Count)
	}
}
