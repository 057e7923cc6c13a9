package integration

import (
	"bufio"
	"compress/gzip"
	stdcsv "encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs/csv"
)

// TestSameCountEverywhere: after one run, the summary, the demo server, Prometheus (scraped),
// the Pushgateway, InfluxDB, the CSV file and the JSON lines file agree on the number of HTTP
// requests, exactly.
func TestSameCountEverywhere(t *testing.T) {
	r := sharedRun(t)
	want := r.count(metrics.HTTPReqs)
	if want < 20 {
		t.Fatalf("only %v http_reqs: the run did not work", want)
	}
	// The server's own count of REST requests (the WebSocket upgrades are not http_reqs).
	rest := r.server.Requests["GET /api/stocks"] + r.server.Requests["GET /api/stocks/{symbol}"] + r.server.Requests["GET /api/flaky"]
	if float64(rest) != want {
		t.Errorf("summary http_reqs %v, server saw %d", want, rest)
	}

	// Prometheus scraped the listener every second and the output lingered past the last
	// scrape; max_over_time reads each counter's final value even after the series went stale.
	q := fmt.Sprintf(`sum(max_over_time(loadplan_http_reqs_total{testid=%q}[10m]))`, r.testID)
	got, err := pollProm(q, want)
	if err != nil {
		t.Errorf("prometheus: %v", err)
	} else if got != want {
		t.Errorf("prometheus %s = %v, want %v", q, got, want)
	}

	if got, err := pushgatewaySum(r.testID); err != nil {
		t.Errorf("pushgateway: %v", err)
	} else if got != want {
		t.Errorf("pushgateway loadplan_http_reqs_total sum = %v, want %v", got, want)
	}

	res, err := influxQuery(env.influx, fmt.Sprintf(`SELECT sum("value"), sum("count") FROM "http_reqs" WHERE "testid" = '%s'`, r.testID))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) == 0 || len(res.Results[0].Series) == 0 {
		t.Fatalf("influxdb: no http_reqs points for %s", r.testID)
	}
	row := res.Results[0].Series[0].Values[0]
	if row[1] != want || row[2] != want {
		t.Errorf("influxdb sum(value), sum(count) = %v, %v; want %v", row[1], row[2], want)
	}
	if r.influx.Dropped() != 0 {
		t.Errorf("influxdb dropped %d points with the server up", r.influx.Dropped())
	}

	if n, err := countCSV(r.csvPath, "http_reqs"); err != nil {
		t.Error(err)
	} else if float64(n) != want {
		t.Errorf("csv has %d http_reqs rows, want %v", n, want)
	}
	checkCompactRows(t, r)
	if n, err := countJSON(r.jsonPath, "http_reqs"); err != nil {
		t.Error(err)
	} else if float64(n) != want {
		t.Errorf("json has %d http_reqs points, want %v", n, want)
	}

	// Locust-style stats: the Aggregated row's request count covers HTTP requests, WebSocket
	// connections and expects; its HTTP part must equal http_reqs.
	stats, err := os.ReadFile(r.csvPrefix + "_stats.csv")
	if err != nil {
		t.Fatal(err)
	}
	var httpRows float64
	for _, line := range strings.Split(string(stats), "\n")[1:] {
		f := strings.Split(line, ",")
		if len(f) > 3 && (f[0] == "GET" || f[0] == "POST") {
			n, _ := strconv.ParseFloat(f[2], 64)
			httpRows += n
		}
	}
	if httpRows != want {
		t.Errorf("stats.csv HTTP request counts sum to %v, want %v", httpRows, want)
	}

	// failures.csv: the flaky step's HTTP 500 occurrences are the summary's failed requests
	// with status 500.
	failed500 := metrics.Combine(r.series, metrics.HTTPReqFailed, func(k metrics.Key) bool { return k.Status == 500 }).Trues
	failures, err := os.ReadFile(r.csvPrefix + "_failures.csv")
	if err != nil {
		t.Fatal(err)
	}
	var got500 uint64
	for _, line := range strings.Split(string(failures), "\n") {
		// Locust's form: Name the request's path, Error as requests' HTTPError words a 500
		if f := strings.Split(strings.TrimSuffix(line, "\r"), ","); len(f) == 4 && f[1] == "/api/flaky" && strings.HasPrefix(f[2], "HTTPError('500 Server Error") {
			got500, _ = strconv.ParseUint(f[3], 10, 64)
		}
	}
	if failed500 == 0 || got500 != failed500 {
		t.Errorf("failures.csv /api/flaky HTTPError 500 = %d, summary has %d", got500, failed500)
	}

	// stats_history.csv: a row per second of the run, with the plan's 4 users at the peak.
	hist, err := os.ReadFile(r.csvPrefix + "_stats_history.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(hist)), "\n")[1:]
	var peak int
	var total float64
	for _, line := range rows {
		f := strings.Split(line, ",")
		users, _ := strconv.Atoi(f[1])
		peak = max(peak, users)
		if n, err := strconv.ParseFloat(f[len(csv.HistoryColumns)-7], 64); err == nil {
			total = n
		}
	}
	secs := r.end.Sub(r.start).Seconds()
	if float64(len(rows)) < secs-1 || float64(len(rows)) > secs+2 || peak != 4 {
		t.Errorf("stats_history.csv: %d rows for a %.1fs run, peak users %d (want 4)", len(rows), secs, peak)
	}
	if last := total; last < want {
		t.Errorf("stats_history.csv final Total Request Count %v, want at least the %v HTTP requests", last, want)
	}
}

// pollProm evaluates an instant query until it returns want or 20 s pass, and returns the last
// value. Prometheus ingests a scrape asynchronously, hence the polling.
func pollProm(q string, want float64) (float64, error) { return pollPromAt(env.prom, q, want) }

// pollPromAt is pollProm against the Prometheus server s.
func pollPromAt(s *server, q string, want float64) (float64, error) {
	deadline := time.Now().Add(20 * time.Second)
	var last float64
	for {
		r, err := promQueryAt(s, q, time.Time{}, time.Time{}, 0)
		if err != nil {
			return 0, err
		}
		if len(r.Data.Result) > 0 {
			last, err = strconv.ParseFloat(r.Data.Result[0].Value[1].(string), 64)
			if err != nil {
				return 0, err
			}
			if last == want {
				return last, nil
			}
		}
		if time.Now().After(deadline) {
			return last, nil
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// pushgatewaySum adds up loadplan_http_reqs_total of testID in the Pushgateway's exposition.
func pushgatewaySum(testID string) (float64, error) {
	resp, err := http.Get(env.pushgw.url() + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var sum float64
	var found bool
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "loadplan_http_reqs_total{") || !strings.Contains(line, `testid="`+testID+`"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, fmt.Errorf("line %q: %w", line, err)
		}
		sum += v
		found = true
	}
	if !found {
		return 0, fmt.Errorf("no loadplan_http_reqs_total with testid %s", testID)
	}
	return sum, sc.Err()
}

func open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return f, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{zr, f}, nil
}

func countCSV(path, metric string) (int, error) {
	f, err := open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), metric+",") {
			n++
		}
	}
	return n, sc.Err()
}

func countJSON(path, metric string) (int, error) {
	f, err := open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct{ Type, Metric string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return 0, err
		}
		if l.Type == "Point" && l.Metric == metric {
			n++
		}
	}
	return n, sc.Err()
}

// checkCompactRows holds the compact CSV's request rows to the summary: each request whole on
// its row (every http_reqs row has its failed column), the failed column summing to
// http_req_failed's failures, and the duration column holding every http_req_duration sample
// with the same sum. Rows cut in two by the executor's batches, or a change in the order
// httpstep emits a request's samples, would show here.
func checkCompactRows(t *testing.T, r *run) {
	t.Helper()
	f, err := open(r.csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := stdcsv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, n := range recs[0] {
		col[n] = i
	}
	var failed, durations, durSum float64
	whole := true
	for _, rec := range recs[1:] {
		name := rec[col["metric_name"]]
		if name != "http_reqs" && name != "http_req_failed" {
			continue
		}
		if rec[col["failed"]] == "" {
			whole = false
		}
		v, _ := strconv.ParseFloat(rec[col["failed"]], 64)
		failed += v
		if d := rec[col["duration_ms"]]; d != "" {
			v, _ := strconv.ParseFloat(d, 64)
			durations++
			durSum += v
		}
	}
	dur := metrics.Combine(r.series, metrics.HTTPReqDuration, nil)
	if !whole || failed != r.count(metrics.HTTPReqFailed) || durations != float64(dur.Count) ||
		math.Abs(durSum-dur.Sum) > 1e-6*float64(dur.Count) {
		t.Errorf("csv request rows: whole %v, failed %v, %v durations summing to %v; summary: failed %v, %v durations summing to %v",
			whole, failed, durations, durSum, r.count(metrics.HTTPReqFailed), dur.Count, dur.Sum)
	}
}
