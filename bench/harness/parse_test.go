package main

import (
	"math"
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
