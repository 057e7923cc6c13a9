package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// writeSource writes a whole plan file and returns its path.
func writeSource(t *testing.T, src string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "plan.hcl")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// exportedMetric returns the fields of metric name in a summary export, nil when absent.
func exportedMetric(t *testing.T, file, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Metrics map[string]map[string]any `json:"metrics"`
	}
	if err := json.Unmarshal(data, &ex); err != nil {
		t.Fatal(err)
	}
	return ex.Metrics[name]
}

// TestApplyDeadTargetFailsP95Gate: the target accepts the preflight's connection and then
// dies (its port closed) before the first request, as a target killed at the start of a run.
// Every attempt is refused: no http_reqs, no latency sample, so `p(95) < 300ms` has no samples
// and FAILS (exit 99); each attempt is one errors sample, the capture it could not give none.
func TestApplyDeadTargetFailsP95Gate(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int64
	go func() {
		if c, err := ln.Accept(); err == nil { // the preflight's dial
			accepted.Add(1)
			c.Close()
		}
		ln.Close() // dead from now on: connections are refused
	}()
	t.Cleanup(func() { ln.Close() })
	// The sleep gives the listener a second to close after the preflight (a margin, not a
	// timing assertion: the counts below would show a request that slipped through).
	file := writeSource(t, `variable "host" {
  type = string
}
target "api" {
  base_url = var.host
}
scenario "rest" {
  target = target.api
  sleep {
    duration = "1s"
  }
  http "login" {
    method = "POST"
    path   = "/login"
    capture "token" {
      json = "token"
    }
  }
  http "quote" {
    path = "/quote"
  }
}
load {
  model      = "per_vu_iterations"
  vus        = 2
  iterations = 2
}
threshold "http_req_duration" {
  condition = "p(95) < 300ms"
}
`)
	export := filepath.Join(t.TempDir(), "summary.json")
	r := runCLI(t, "apply", "--no-progress", "-var", "host=http://"+ln.Addr().String(), "--summary-export", export, file)
	if testing.Verbose() {
		t.Log(r.stdout)
	}
	if r.code != exitThreshold {
		t.Fatalf("exit %d, want 99 (the p95 gate must fail against a dead target)\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if accepted.Load() != 1 {
		t.Fatalf("the dead target accepted %d connections, want only the preflight's", accepted.Load())
	}
	const attempts = 4 // 2 VUs × 2 iterations, each ended by its refused login
	if m := exportedMetric(t, export, "http_reqs"); m != nil && m["count"] != 0.0 {
		t.Errorf("http_reqs %v, want 0: nothing left the machine", m)
	}
	if m := exportedMetric(t, export, "errors"); m == nil || m["count"] != float64(attempts) {
		t.Errorf("errors %v, want count %d (one per refused attempt)", m, attempts)
	}
	if m := exportedMetric(t, export, "http_req_failed"); m == nil || m["passes"] != float64(attempts) || m["fails"] != 0.0 {
		t.Errorf("http_req_failed %v, want %d failed attempts of %d", m, attempts, attempts)
	}
	if !strings.Contains(r.stdout, "✗ http_req_duration") || !strings.Contains(r.stdout, "p(95)=∞ (4 requests got no response)") {
		t.Errorf("summary does not show the p95 gate failed for the requests that got no response:\n%s", r.stdout)
	}
	if m := exportedMetric(t, export, "http_req_unanswered"); m == nil || m["count"] != float64(attempts) {
		t.Errorf("http_req_unanswered %v, want count %d", m, attempts)
	}
	if !strings.Contains(r.stdout, "rest/login  connection refused  4") || strings.Contains(r.stdout, "capture token missing") {
		t.Errorf("errors table: want one row, 4 × connection refused, and no capture row:\n%s", r.stdout)
	}
}

// TestApplyGracefulStopCountsCutRequests: graceful_stop = 200ms ends the run with every VU's
// request on the wire (the server never answers). The server received 3 requests: the summary
// export has 3 http_reqs, 3 interrupted iterations, and the summary says so.
func TestApplyGracefulStopCountsCutRequests(t *testing.T) {
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		<-r.Context().Done()
	}))
	defer srv.Close()
	file := writePlan(t, "/hang", `load {
  model         = "users"
  vus           = 3
  duration      = "1s"
  graceful_stop = "200ms"
}`, "")
	export := filepath.Join(t.TempDir(), "summary.json")
	r := runCLI(t, "apply", "--no-progress", "-var", "host="+srv.URL, "--summary-export", export, file)
	srv.Close() // every handler has returned: received is final
	if testing.Verbose() {
		t.Log(r.stdout)
	}
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0 (no threshold)\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	n := float64(received.Load())
	if n != 3 {
		t.Fatalf("server received %v requests, want one per VU (3)", n)
	}
	if got := exportedCount(t, export, "http_reqs"); got != n {
		t.Errorf("http_reqs %v, server received %v", got, n)
	}
	if got := exportedCount(t, export, "iterations_interrupted"); got != n {
		t.Errorf("iterations_interrupted %v, want %v", got, n)
	}
	if m := exportedMetric(t, export, "http_req_duration"); m != nil && m["max"] != 0.0 {
		t.Errorf("http_req_duration %v: a cut request has no latency", m)
	}
	if !strings.Contains(r.stdout, "3 iterations interrupted") || !strings.Contains(r.stdout, "rest/hit  interrupted  3") {
		t.Errorf("summary does not say 3 iterations and requests were interrupted:\n%s", r.stdout)
	}
}
