package csv

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	stdcsv "encoding/csv"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	login = &metrics.Tags{Scenario: "rest", Step: "login", Target: "api", Method: "POST", URL: "/api/login", Group: "http"}
	quote = &metrics.Tags{Scenario: "rest", Step: "quote", Target: "api", Method: "GET", URL: "/api/stocks/${symbol}", Group: "http"}
	odd   = &metrics.Tags{Scenario: "odd", Step: `say "hi", twice`, Target: "api", Method: "GET", URL: "/a,b", Group: "http"}
	ack   = &metrics.Tags{Scenario: "stream", Step: "osc.ack", Target: "api", Method: "WS", URL: "/ws", Group: "ws"}
	osc   = &metrics.Tags{Scenario: "stream", Step: "osc", Target: "api", Method: "WS", URL: "/ws", Group: "ws"}
)

// t0 is a fixed start: 2026-11-22 10:15:00 UTC.
var t0 = time.Date(2026, 11, 22, 10, 15, 0, 0, time.UTC).UnixNano()

// fixture returns a deterministic run of 3 seconds: 2 users, logins, quotes with one 500 and one
// failed check, one WebSocket session with a passed and a failed expect.
func fixture() []metrics.Sample {
	ms := int64(time.Millisecond)
	var out []metrics.Sample
	req := func(tags *metrics.Tags, at int64, dur float64, status int, failed bool) {
		fv := 0.0
		if failed {
			fv = 1
		}
		out = append(out,
			metrics.Sample{Metric: metrics.HTTPReqs, Time: at, Value: 1, Tags: tags, Status: status},
			metrics.Sample{Metric: metrics.HTTPReqDuration, Time: at, Value: dur, Tags: tags, Status: status},
			metrics.Sample{Metric: metrics.HTTPReqFailed, Time: at, Value: fv, Tags: tags, Status: status},
			metrics.Sample{Metric: metrics.DataReceived, Time: at, Value: 100, Tags: tags, BodyBytes: 15},
		)
	}
	out = append(out, metrics.Sample{Metric: metrics.VUs, Time: t0, Value: 2})
	req(login, t0+10*ms, 12.5, 200, false)
	req(login, t0+20*ms, 7.5, 200, false)
	// an iteration that ended after a good response (its capture missing): Locust's exception
	out = append(out, metrics.Sample{Metric: metrics.Errors, Time: t0 + 20*ms, Value: 1, Tags: login, Label: "capture token: missing"})
	req(quote, t0+500*ms, 3, 200, false)
	req(quote, t0+1100*ms, 4, 500, true)
	req(quote, t0+1200*ms, 5, 200, true)
	// the failed check comes before its request's http_req_failed, as httpstep emits them
	n := len(out)
	out = append(out[:n-2], metrics.Sample{Metric: metrics.Checks, Time: t0 + 1200*ms, Value: 0, Tags: quote, Label: "body_contains price"},
		out[n-2], out[n-1])
	req(odd, t0+1300*ms, 1, 200, false)
	out = append(out,
		metrics.Sample{Metric: metrics.VUs, Time: t0 + 1000*ms, Value: 3},
		metrics.Sample{Metric: metrics.WSConnecting, Time: t0 + 2000*ms, Value: 2, Tags: osc, Status: 101},
		metrics.Sample{Metric: metrics.WSSessions, Time: t0 + 2000*ms, Value: 1, Tags: osc},
		metrics.Sample{Metric: metrics.WSExpectDuration, Time: t0 + 2100*ms, Value: 50, Tags: ack},
		metrics.Sample{Metric: metrics.WSExpectFailed, Time: t0 + 2100*ms, Value: 0, Tags: ack},
		metrics.Sample{Metric: metrics.WSExpectFailed, Time: t0 + 2900*ms, Value: 1, Tags: ack},
		metrics.Sample{Metric: metrics.WSErrors, Time: t0 + 2950*ms, Value: 1, Tags: osc, Label: "closed 1011"},
	)
	return out
}

func start(t *testing.T, o Config, name string) *Output {
	t.Helper()
	c, err := New(o, outputs.Options{PlanName: name, Now: func() time.Time { return time.Unix(0, t0).UTC() }})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

func stop(t *testing.T, c *Output) {
	t.Helper()
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGoldenFiles(t *testing.T) {
	dir := t.TempDir()
	c := start(t, Config{Path: filepath.Join(dir, "run.csv"), Aggregated: true, Layout: LayoutLong}, "smoke")
	samples := fixture()
	c.Emit(samples[:7])
	c.Emit(samples[7:])
	stop(t, c)
	if c.StatsPrefix() != filepath.Join(dir, "run") {
		t.Fatalf("prefix %q", c.StatsPrefix())
	}
	for _, f := range []string{"run.csv", "run_stats.csv", "run_stats_history.csv", "run_failures.csv", "run_exceptions.csv"} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, f, got)
		// Every file is valid CSV with rows as wide as its header.
		recs, err := stdcsv.NewReader(bytes.NewReader(got)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(recs) < 2 {
			t.Fatalf("%s has no rows", f)
		}
	}
}

// TestRawRows checks the long layout by value: one row per sample, the fields as emitted, and
// quoting.
func TestRawRows(t *testing.T) {
	dir := t.TempDir()
	c := start(t, Config{Path: filepath.Join(dir, "raw.csv"), Layout: LayoutLong}, "x")
	samples := fixture()
	c.Emit(samples)
	stop(t, c)
	f, err := os.Open(filepath.Join(dir, "raw.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := stdcsv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(LongColumns, ",") {
		t.Fatalf("header %v", recs[0])
	}
	if len(recs)-1 != len(samples) {
		t.Fatalf("%d rows for %d samples", len(recs)-1, len(samples))
	}
	col := map[string]int{}
	for i, n := range recs[0] {
		col[n] = i
	}
	for i, s := range samples {
		r := recs[i+1]
		if r[col["metric_name"]] != s.Metric.String() {
			t.Errorf("row %d: metric %q, want %q", i, r[col["metric_name"]], s.Metric)
		}
		if s.Tags == odd && (r[col["step"]] != odd.Step || r[col["url"]] != odd.URL) {
			t.Errorf("row %d: quoted fields read back as %q, %q", i, r[col["step"]], r[col["url"]])
		}
		if s.Metric == metrics.Checks && r[col["check"]] != s.Label {
			t.Errorf("row %d: check %q", i, r[col["check"]])
		}
		if s.Metric == metrics.WSErrors && r[col["error"]] != s.Label {
			t.Errorf("row %d: error %q", i, r[col["error"]])
		}
	}
	if got := recs[2][col["timestamp"]]; got != "1795342500.010000" {
		t.Errorf("timestamp %q", got)
	}
}

func TestGzipAndFolder(t *testing.T) {
	dir := t.TempDir()
	gz := start(t, Config{Path: filepath.Join(dir, "run.csv.gz")}, "x")
	gz.Emit(fixture())
	stop(t, gz)
	f, err := os.Open(filepath.Join(dir, "run.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(body, []byte("\nhttp_reqs,")); n != 6 {
		t.Errorf("gzip file has %d http_reqs rows, want 6", n)
	}

	// A folder that does not exist yet: created, timestamped names, aggregated files always.
	folder := filepath.Join(dir, "results", "nested") + string(filepath.Separator)
	c := start(t, Config{Path: folder}, "stress")
	c.Emit(fixture())
	stop(t, c)
	want := filepath.Join(dir, "results", "nested", "stress-20261122-101500")
	if c.Path() != want+".csv" {
		t.Fatalf("path %q, want %q", c.Path(), want+".csv")
	}
	for _, suffix := range []string{".csv", "_stats.csv", "_stats_history.csv", "_failures.csv"} {
		if _, err := os.Stat(want + suffix); err != nil {
			t.Error(err)
		}
	}

	// A second worker of the same plan starting in the same second (docker compose --scale
	// sharing the folder) gets its own files; a segment is part of the name.
	again := start(t, Config{Path: folder}, "stress")
	stop(t, again)
	if again.Path() != want+"-2.csv" || again.StatsPrefix() != want+"-2" {
		t.Errorf("second run wrote %q (prefix %q)", again.Path(), again.StatsPrefix())
	}
	seg, err := New(Config{Path: folder}, outputs.Options{PlanName: "stress", SegmentName: "2/4",
		Now: func() time.Time { return time.Unix(0, t0).UTC() }})
	if err != nil {
		t.Fatal(err)
	}
	if err := seg.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stop(t, seg)
	if want := filepath.Join(dir, "results", "nested", "stress-2of4-20261122-101500.csv"); seg.Path() != want {
		t.Errorf("segment file %q, want %q", seg.Path(), want)
	}
}

func TestUnwritablePathFailsAtStart(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(blocker, "run.csv"), filepath.Join(blocker, "sub") + "/"} {
		c, err := New(Config{Path: p}, outputs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Start(context.Background())
		if err == nil {
			t.Fatalf("Start(%q) succeeded", p)
		}
		if !strings.Contains(err.Error(), "csv:") {
			t.Errorf("error %q does not name the output", err)
		}
	}
}

// TestEverySampleWrittenOnStop emits many batches, stops at once, and counts the rows: the
// writer must drain the queue however far behind it is.
func TestEverySampleWrittenOnStop(t *testing.T) {
	dir := t.TempDir()
	c := start(t, Config{Path: filepath.Join(dir, "many.csv"), Aggregated: true}, "x")
	batch := make([]metrics.Sample, 64)
	const batches = 2000
	for i := 0; i < batches; i++ {
		for j := range batch {
			batch[j] = metrics.Sample{Metric: metrics.HTTPReqs, Time: t0 + int64(i*64+j)*int64(time.Millisecond), Value: 1, Tags: quote, Status: 200}
		}
		c.Emit(batch)
		clear(batch) // the caller reuses its batch: Emit must have copied it
	}
	stop(t, c)
	f, err := os.Open(c.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "http_reqs,") {
			n++
		}
	}
	if n != batches*64 {
		t.Fatalf("%d http_reqs rows, want %d", n, batches*64)
	}
}

// TestAppendValueMatchesStrconv compares the fast path with strconv on the values samples hold.
func TestAppendValueMatchesStrconv(t *testing.T) {
	vals := []float64{0, 1, 2, 100, 310, 123456789, 0.5, 1.25, 12.5, 0.001, 0.000001, 1.234567, 999999.999999,
		float64(1234567*time.Nanosecond) / 1e6, float64(987654321*time.Nanosecond) / float64(time.Millisecond),
		0.1, 0.2, 0.3, 1e-7, 1.0000001, 1e9, 5e10, -1, -0.5, 1.0 / 3}
	for ns := int64(1); ns < 5_000_000_000; ns = ns*7 + 13 {
		vals = append(vals, float64(ns)/1e6)
	}
	for _, v := range vals {
		want := strconv.FormatFloat(v, 'f', -1, 64)
		if got := string(appendValue(nil, v)); got != want {
			t.Errorf("appendValue(%v) = %s, want %s", v, got, want)
		}
	}
}

// TestFailedRequestsInStats: a request reset after it was sent (http_reqs, failed, no
// duration) and a refused attempt (failed only) are each a request and a failure, as Locust's
// client logs them; each failure is one row of failures.csv, under the cause its errors sample
// names.
func TestFailedRequestsInStats(t *testing.T) {
	dir := t.TempDir()
	c := start(t, Config{Path: filepath.Join(dir, "run.csv"), Aggregated: true}, "faults")
	at := t0 + int64(time.Millisecond)
	c.Emit([]metrics.Sample{
		{Metric: metrics.HTTPReqs, Time: at, Value: 1, Tags: quote},
		{Metric: metrics.HTTPReqFailed, Time: at, Value: 1, Tags: quote},
		{Metric: metrics.Errors, Time: at, Value: 1, Tags: quote, Label: "connection reset"},
		{Metric: metrics.HTTPReqFailed, Time: at, Value: 1, Tags: quote},
		{Metric: metrics.Errors, Time: at, Value: 1, Tags: quote, Label: "connection refused"},
	})
	stop(t, c)
	read := func(name string) [][]string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := stdcsv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	stats := read("run_stats.csv")
	if row := stats[1]; row[1] != quote.URL || row[2] != "2" || row[3] != "2" {
		t.Errorf("stats row %q: want %s, 2 requests (Locust counts the refused attempt), 2 failures", row, quote.URL)
	}
	got := map[string]string{}
	for _, r := range read("run_failures.csv")[1:] {
		got[r[2]] = r[3]
	}
	if len(got) != 2 || got["connection reset"] != "1" || got["connection refused"] != "1" {
		t.Errorf("failures %v, want one row per cause: connection reset 1, connection refused 1", got)
	}
}
