package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.RunWithBinary(m)) }

// counter is a loopback target that counts every request it serves: /ok answers 200, /fail 500.
type counter struct {
	srv  *httptest.Server
	hits *atomic.Int64 // testkit.Counter's
}

func newCounter(t *testing.T, delay time.Duration) *counter {
	t.Helper()
	c := testkit.NewCounter(t, func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			time.Sleep(delay)
		}
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
		}
		w.Write([]byte(`{"ok":true}`))
	})
	return &counter{srv: c.Server, hits: &c.Hits}
}

// writePlan writes a plan hitting path with the given load and threshold blocks.
func writePlan(t *testing.T, path, load, thresholds string) string {
	t.Helper()
	src := testkit.PlanSource(path, load, thresholds)
	file := filepath.Join(t.TempDir(), "plan.hcl")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the binary to completion (bounded by a minute).
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	return runCLIEnv(t, nil, args...)
}

// runCLIEnv is runCLI with extra NAME=value environment variables.
func runCLIEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testkit.Binary(t), args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return result{code: exitCode(t, err), stdout: out.String(), stderr: errb.String()}
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// exportedCount reads metrics[name].count from a summary export.
func exportedCount(t *testing.T, file, name string) float64 {
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
	v, ok := ex.Metrics[name]["count"].(float64)
	if !ok {
		t.Fatalf("%s has no %s.count: %s", file, name, data)
	}
	return v
}

const iterations200 = `load {
  model      = "shared_iterations"
  vus        = 4
  iterations = 200
}`

func TestApplyThresholdsHold(t *testing.T) {
	srv := newCounter(t, 0)
	file := writePlan(t, "/ok", iterations200, `threshold "http_req_failed" {
  condition = "rate < 0.01"
}
threshold "http_reqs" {
  condition = "count == 200"
}`)
	export := filepath.Join(t.TempDir(), "summary.json")
	junit := filepath.Join(t.TempDir(), "junit.xml")
	r := runCLI(t, "apply", "-var", "host="+srv.srv.URL, "--summary-export", export, "--junit", junit, file)
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := srv.hits.Load(); got != 200 {
		t.Errorf("server saw %d requests, want 200", got)
	}
	if got := exportedCount(t, export, "http_reqs"); got != float64(srv.hits.Load()) {
		t.Errorf("summary export http_reqs = %v, server saw %d", got, srv.hits.Load())
	}
	for _, want := range []string{"scenario rest", "hit", "✓ http_req_failed", "✓ http_reqs"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	data, _ := os.ReadFile(junit)
	if err := xml.Unmarshal(data, &doc); err != nil || doc.Tests != 2 || doc.Failures != 0 {
		t.Errorf("junit %+v (%v):\n%s", doc, err, data)
	}
}

func TestApplyThresholdFails(t *testing.T) {
	srv := newCounter(t, 0)
	file := writePlan(t, "/fail", iterations200, `threshold "http_req_failed" {
  condition = "rate < 0.01"
}`)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	r := runCLI(t, "apply", "--no-progress", "-var", "host="+srv.srv.URL, "--junit", junit, file)
	if r.code != exitThreshold {
		t.Fatalf("exit %d, want 99\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "✗ http_req_failed") || !strings.Contains(r.stdout, "rate=100.00%") {
		t.Errorf("summary does not show the failed threshold with its value:\n%s", r.stdout)
	}
	data, _ := os.ReadFile(junit)
	if !strings.Contains(string(data), `message="rate &lt; 0.01: observed rate=100.00%"`) {
		t.Errorf("junit lacks the failure message:\n%s", data)
	}
}

func TestApplyInvalidPlan(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.hcl")
	os.WriteFile(file, []byte("scenario \"x\" {\n  http \"a\" {\n    path = \n  }\n}\n"), 0o644)
	r := runCLI(t, "apply", file)
	if r.code != exitInvalidPlan {
		t.Fatalf("exit %d, want 104\nstderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "bad.hcl line 3") {
		t.Errorf("diagnostics do not point at bad.hcl line 3:\n%s", r.stderr)
	}
}

func TestApplyUsage(t *testing.T) {
	for _, args := range [][]string{{"apply"}, {"apply", "--segment", "3/2", "x.hcl"}, {"apply", "--out", "carrier-pigeon", "x.hcl"}} {
		if r := runCLI(t, args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
}

func TestApplyUnreachableTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	file := writePlan(t, "/ok", iterations200, "")
	r := runCLI(t, "apply", "-var", "host=http://"+addr, file)
	if r.code != exitRuntime {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, addr) {
		t.Errorf("error does not name %s:\n%s", addr, r.stderr)
	}
}

func TestApplySaturated(t *testing.T) {
	srv := newCounter(t, 50*time.Millisecond)
	// One VU at 50 ms a request manages about 20 iterations/s of the 100/s planned: the rest are
	// dropped, so the generator is saturated and the figures are not to be trusted.
	file := writePlan(t, "/ok", `load {
  model             = "arrival_rate"
  rate              = 100
  duration          = "2s"
  pre_allocated_vus = 1
  max_vus           = 1
}`, "")
	export := filepath.Join(t.TempDir(), "summary.json")
	r := runCLI(t, "apply", "--no-progress", "-var", "host="+srv.srv.URL, "--summary-export", export, file)
	if r.code != exitSaturated {
		t.Fatalf("exit %d, want 98\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	dropped := exportedCount(t, export, "dropped_iterations")
	reqs := exportedCount(t, export, "http_reqs")
	if reqs != float64(srv.hits.Load()) || dropped == 0 || reqs+dropped > 200 {
		t.Errorf("http_reqs %v (server %d), dropped %v; want reqs == server and reqs+dropped <= 200 planned", reqs, srv.hits.Load(), dropped)
	}
	if !strings.Contains(r.stdout, "saturated") || !strings.Contains(r.stdout, "dropped") {
		t.Errorf("summary does not warn about saturation:\n%s", r.stdout)
	}
}

func TestApplyDemo(t *testing.T) {
	// The plan has no host of its own: --demo starts the demo backend in-process and sets var.host.
	file := writePlan(t, "/api/stocks/AAPL", `load {
  model      = "shared_iterations"
  vus        = 2
  iterations = 20
}`, `threshold "http_reqs" {
  condition = "count == 20"
}
threshold "http_req_failed" {
  condition = "rate == 0"
}`)
	r := runCLI(t, "apply", "--demo", "--no-progress", file)
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "demo backend serving on http://127.0.0.1:") {
		t.Errorf("no demo address on stderr:\n%s", r.stderr)
	}
}

func TestApplyOverrides(t *testing.T) {
	var hitsA, hitsB atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/b" {
			hitsB.Add(1)
		} else {
			hitsA.Add(1)
		}
		time.Sleep(5 * time.Millisecond)
	}))
	defer srv.Close()
	src := `variable "host" {
  type = string
}
target "api" {
  base_url = var.host
}
scenario "a" {
  target = target.api
  http "get" {
    path = "/a"
  }
}
scenario "b" {
  target = target.api
  http "get" {
    path = "/b"
  }
}
load {
  model    = "users"
  vus      = 4
  duration = "10m"
}
`
	file := filepath.Join(t.TempDir(), "two.hcl")
	os.WriteFile(file, []byte(src), 0o644)
	export := filepath.Join(t.TempDir(), "summary.json")
	// A ten-minute plan capped at a second, one VU, scenario a only.
	r := runCLI(t, "apply", "--quiet", "--scenario", "a", "--duration", "1s", "--vus", "1", "-var", "host="+srv.URL, "--summary-export", export, file)
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if hitsA.Load() == 0 || hitsB.Load() != 0 {
		t.Errorf("server saw %d requests for a and %d for b; want some for a and none for b", hitsA.Load(), hitsB.Load())
	}
	data, _ := os.ReadFile(export)
	var ex struct {
		Metrics map[string]map[string]float64 `json:"metrics"`
	}
	json.Unmarshal(data, &ex)
	if ex.Metrics["vus"]["max"] != 1 || ex.Metrics["http_reqs"]["count"] != float64(hitsA.Load()) {
		t.Errorf("vus max %v (want 1), http_reqs %v (server %d)", ex.Metrics["vus"]["max"], ex.Metrics["http_reqs"]["count"], hitsA.Load())
	}
	if r := runCLI(t, "apply", "--scenario", "c", "-var", "host="+srv.URL, file); r.code != exitUsage || !strings.Contains(r.stderr, "it has a, b") {
		t.Errorf("unknown scenario: exit %d, want 2\n%s", r.code, r.stderr)
	}
}
