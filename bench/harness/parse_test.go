package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Outputs captured from wrk 4.1.0 and hey (Debian packages) on this project's bench server.
const wrkOut = `Running 5s test @ http://127.0.0.1:45031/
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.46ms    4.30ms  63.26ms   94.15%
    Req/Sec    13.76k     3.97k   25.67k    65.00%
  Latency Distribution
     50%    1.38ms
     75%    2.63ms
     90%    4.95ms
     99%   21.62ms
  137968 requests in 5.07s, 13.68MB read
  Socket errors: connect 0, read 2, write 1, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:  27233.31
Transfer/sec:      2.70MB
`

const heyOut = `
Summary:
  Total:	5.0130 secs
  Slowest:	0.1285 secs
  Fastest:	0.0000 secs
  Average:	0.0033 secs
  Requests/sec:	15262.6221

Latency distribution:
  10% in 0.0007 secs
  50% in 0.0024 secs
  99% in 0.0165 secs

Status code distribution:
  [200]	76509 responses
  [503]	2 responses

Error distribution:
  [3]	Get "http://127.0.0.1:45031/": dial tcp 127.0.0.1:45031: connect: connection refused
`

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOut)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 137968 || !near(r.RPS, 27233.31) || !near(r.P50, 1.38) || !near(r.P99, 21.62) || r.Errors != 10 {
		t.Fatalf("got %+v", r)
	}
	if _, err := parseWrk("unable to connect"); err == nil {
		t.Fatal("no error for output without figures")
	}
	// Latency units other than ms.
	r, err = parseWrk(strings.NewReplacer("1.38ms", "950.00us", "21.62ms", "1.20s").Replace(wrkOut))
	if err != nil || !near(r.P50, 0.95) || !near(r.P99, 1200) {
		t.Fatalf("units: %+v %v", r, err)
	}
}

func TestParseHey(t *testing.T) {
	r, err := parseHey(heyOut)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 76514 || !near(r.RPS, 15262.6221) || !near(r.P50, 2.4) || !near(r.P99, 16.5) || r.Errors != 5 {
		t.Fatalf("got %+v", r)
	}
}

func TestStatMedianAndRange(t *testing.T) {
	r := newResults()
	for _, v := range []float64{30, 10, 20, math.NaN()} {
		r.add("k", map[string]float64{"x": v})
	}
	s := r.get("k", "x")
	if s.n != 3 || s.med != 20 || s.min != 10 || s.max != 30 {
		t.Fatalf("got %+v", s)
	}
	if got := s.cell(0); got != "20 (10–30)" {
		t.Fatalf("cell %q", got)
	}
	r.add("even", map[string]float64{"x": 1})
	r.add("even", map[string]float64{"x": 4})
	if s := r.get("even", "x"); s.med != 2.5 {
		t.Fatalf("even median %v", s.med)
	}
	if got := r.get("none", "x").cell(1); got != "—" {
		t.Fatalf("missing cell %q", got)
	}
	if got := num(1234567.891, 1); got != "1,234,567.9" {
		t.Fatalf("num %q", got)
	}
}

func TestGoBenchLine(t *testing.T) {
	line := "BenchmarkStoreAdd-2   \t   81840\t     12781 ns/op\t       199.7 ns/sample\t       0 B/op\t       0 allocs/op"
	m := goBenchLine.FindStringSubmatch(line)
	if m == nil || m[1] != "BenchmarkStoreAdd" {
		t.Fatalf("no match: %q", m)
	}
	units := map[string]string{}
	for _, u := range goBenchUnit.FindAllStringSubmatch(m[3], -1) {
		units[u[2]] = u[1]
	}
	if units["ns/op"] != "12781" || units["ns/sample"] != "199.7" || units["B/op"] != "0" || units["allocs/op"] != "0" {
		t.Fatalf("units %v", units)
	}
}

func readTestdata(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vegeta-report.json is `vegeta report -type=json` of a 2 s `attack -rate=0 -max-workers=10` on the
// bench server (v12.13.0, captured here; the server counted the same 27,417 requests);
// vegeta-report-refused.json of an attack on a closed port.
func TestParseVegeta(t *testing.T) {
	r, err := parseVegeta(readTestdata(t, "vegeta-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 27417 || !near(r.RPS, 13711.82198367972) || !near(r.P50, 0.453885) || !near(r.P99, 2.990215) || r.Errors != 0 {
		t.Fatalf("got %+v", r)
	}
	r, err = parseVegeta(readTestdata(t, "vegeta-report-refused.json"))
	if err != nil || r.Requests != 5 || r.Errors != 5 {
		t.Fatalf("refused: %+v %v (want 5 requests, all errors: status 0)", r, err)
	}
	r, err = parseVegeta([]byte(`{"requests":10,"rate":5,"status_codes":{"200":6,"302":1,"404":2,"503":1}}`))
	if err != nil || r.Errors != 3 {
		t.Fatalf("status codes: %+v %v, want 3 errors (404, 503)", r, err)
	}
	if _, err := parseVegeta([]byte("attack: bad target")); err == nil {
		t.Fatal("no error for output that is not a JSON report")
	}
}

// h2load.txt is `h2load -c 10 -m 1 -t 1 -D 2` against the bench server's h2 listener (nghttp2
// 1.52.0, Debian, captured here; the server answered 20,306 over HTTP/2: the 10 still in flight at
// the end are "started", not "done"); h2load-refused.txt the same against a closed port.
func TestParseH2load(t *testing.T) {
	r, err := parseH2load(string(readTestdata(t, "h2load.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 20296 || !near(r.RPS, 10148) || !near(r.Mean, 0.755) || r.Errors != 0 || !math.IsNaN(r.P50) || !math.IsNaN(r.P99) {
		t.Fatalf("got %+v", r)
	}
	r, err = parseH2load(string(readTestdata(t, "h2load-refused.txt")))
	if err != nil || r.Requests != 0 {
		t.Fatalf("refused: %+v %v", r, err)
	}
	bad := strings.NewReplacer("0 failed, 0 errored, 0 timeout", "4 failed, 2 errored, 1 timeout", "0 4xx, 0 5xx", "3 4xx, 5 5xx",
		"755us", "1.50ms").Replace(string(readTestdata(t, "h2load.txt")))
	if r, err = parseH2load(bad); err != nil || r.Errors != 15 || !near(r.Mean, 1.5) {
		t.Fatalf("errors: %+v %v, want 15 errors and a 1.5 ms mean", r, err)
	}
	if _, err := parseH2load("h2load: invalid URI"); err == nil {
		t.Fatal("no error for output without figures")
	}
}

// k6-summary-export.json is what the scripts' handleSummary writes ({"metrics": {NAME: values},
// "state"}: --summary-export's layout, which loadplan's export follows). It is written by hand, NOT
// captured from k6: k6 is not installed on this project's machines (see
// scripts/install-bench-deps.sh). Capture a real one where k6 runs and replace it.
func TestParseK6Export(t *testing.T) {
	path := filepath.Join("testdata", "k6-summary-export.json")
	e, err := readExport(path)
	if err != nil {
		t.Fatal(err)
	}
	r := exportRun(lpRun{Export: e})
	if r.Requests != 95213 || !near(r.RPS, 9516.93) || !near(r.P50, 4.12) || !near(r.P99, 19.87) || r.Errors != 3 {
		t.Fatalf("got %+v", r)
	}
	if e.num("ws_msgs_received", "count") != 301392 || e.num("ws_sessions", "count") != 50 || !near(e.seconds(), 10.004581) {
		t.Fatalf("ws figures %v %v %v", e.num("ws_msgs_received", "count"), e.num("ws_sessions", "count"), e.seconds())
	}
}

// TestK6Scripts: every script renders without a missing field and carries the case's parameters.
func TestK6Scripts(t *testing.T) {
	h := &harness{work: t.TempDir()}
	p := k6Params{URL: "ws://127.0.0.1:1/echo", VUs: 50, Duration: "5s", Ramp: "8s", Hold: "12s", SessionMs: 5000}
	for name := range k6Scripts {
		path, exp, err := h.k6Script(name, p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(readFile(t, path))
		if strings.Contains(s, "<no value>") || !strings.Contains(s, "'ws://127.0.0.1:1/echo'") || !strings.Contains(s, "50") ||
			!strings.Contains(s, "'"+exp+"': JSON.stringify") || exp != strings.TrimSuffix(path, ".js")+".json" {
			t.Errorf("%s (export %s):\n%s", name, exp, s)
		}
		// The JavaScript parses (node checks the syntax of an ES module; k6 is not here to run it).
		if node, err := exec.LookPath("node"); err == nil {
			mjs := path + ".mjs"
			if err := os.WriteFile(mjs, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(node, "--check", mjs).CombinedOutput(); err != nil {
				t.Errorf("%s: node --check: %v\n%s\n%s", name, err, out, s)
			}
		}
	}
}

func readFile(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPairRatiosAndTruth: ratios are loadplan ÷ the peer of the same round; tool − server is kept.
func TestPairRatiosAndTruth(t *testing.T) {
	got := map[string]map[string]float64{
		"tls/loadplan": {"rps": 30, "req_per_cpu_s": 40},
		"tls/wrk":      {"rps": 40, "req_per_cpu_s": 50},
	}
	r := pairRatios(got, "tls/", []string{"wrk", "k6"})
	if !near(r["rps_vs_wrk"], 0.75) || !near(r["cpu_eff_vs_wrk"], 0.8) || len(r) != 2 {
		t.Fatalf("ratios %v", r)
	}
	sp := span{before: serverCounts{Requests: 100, RequestsTLS: 10}, after: serverCounts{Requests: 1100, RequestsTLS: 1010}}
	v := tputVals(toolRun{Requests: 950, RPS: 95, Proc: &proc{User: 2e9, Sys: 5e8}}, sp)
	if v["server_requests"] != 1000 || v["tool_minus_server"] != -50 || v["server_tls"] != 1000 || !near(v["req_per_cpu_s"], 380) {
		t.Fatalf("vals %v", v)
	}
}

// TestK6Reference: without k6, a k6 budget is loadplan's figure ÷ k6's recorded one, and says so;
// with a measured ratio, the row is left alone.
func TestK6Reference(t *testing.T) {
	h := &harness{res: newResults()}
	for _, v := range []float64{38000, 47500, 28500} {
		h.res.add("tput/loadplan", map[string]float64{"req_per_cpu_s": v})
	}
	b := h.k6Reference(budget{figure: "requests per CPU-second vs k6", k6: "tput"})
	if !near(b.s.med, 4) || !near(b.s.min, 3) || !near(b.s.max, 5) || b.s.n != 3 ||
		!strings.Contains(b.figure, "k6 not run here") || !strings.Contains(b.figure, "9.5k") {
		t.Fatalf("row %+v", b)
	}
	measured := budget{figure: "x", k6: "tput", s: stat{med: 2, n: 1}}
	if got := h.k6Reference(measured); got.s.med != 2 || got.figure != "x" {
		t.Fatalf("a measured row changed: %+v", got)
	}
	if got := h.k6Reference(budget{figure: "y", k6: "echo_cpu"}); got.s.n != 0 {
		t.Fatalf("no loadplan figure, yet a ratio: %+v", got)
	}
}
