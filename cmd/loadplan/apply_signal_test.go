package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
)

// interruptAfter runs the binary with args until the server has seen n requests, then sends it
// one SIGINT and waits for it to end (bounded by a minute).
func interruptAfter(t *testing.T, hits *atomic.Int64, n int64, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testkit.Binary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for hits.Load() < n && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := exitCode(t, cmd.Wait())
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func TestApplyInterrupted(t *testing.T) {
	srv := newCounter(t, 2*time.Millisecond)
	file := writePlan(t, "/ok", `load {
  model    = "users"
  vus      = 4
  duration = "1m"
}`, `threshold "http_reqs" {
  condition = "count > 0"
}`)
	export := filepath.Join(t.TempDir(), "summary.json")
	r := interruptAfter(t, srv.hits, 50, "apply", "-var", "host="+srv.srv.URL, "--summary-export", export, file)
	if r.code != exitInterrupted {
		t.Fatalf("exit %d, want 105\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "scenario rest") || !strings.Contains(r.stdout, "interrupted") {
		t.Errorf("no summary after the interrupt:\n%s", r.stdout)
	}
	if got, want := exportedCount(t, export, "http_reqs"), float64(srv.hits.Load()); got != want {
		t.Errorf("summary export http_reqs = %v, server saw %v", got, want)
	}
}

func TestApplySecondSignalAborts(t *testing.T) {
	// Every request hangs until the client gives up; graceful_stop is an hour, so only the second
	// signal (abort in-flight requests) can end the run within the test's minute.
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}))
	defer srv.Close()
	file := writePlan(t, "/hang", `load {
  model         = "users"
  vus           = 3
  duration      = "10m"
  graceful_stop = "1h"
}`, "")
	export := filepath.Join(t.TempDir(), "summary.json")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testkit.Binary(t), "apply", "--no-progress", "-var", "host="+srv.URL, "--summary-export", export, file)
	var out, errb lockedBuffer // read while the process writes
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for hits.Load() < 3 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	for !strings.Contains(errb.String(), "stopping") && ctx.Err() == nil { // the first was handled
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	code := exitCode(t, cmd.Wait())
	if ctx.Err() != nil {
		t.Fatalf("the second signal did not abort the in-flight requests\nstderr:\n%s", errb.String())
	}
	if code != exitInterrupted {
		t.Fatalf("exit %d, want 105\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "in-flight requests were aborted") {
		t.Errorf("summary does not say in-flight requests were aborted:\n%s", out.String())
	}
	if _, err := os.Stat(export); err != nil {
		t.Fatalf("no summary export after an abort: %v", err)
	}
	// The requests on the wire when the second signal came are requests, failed as
	// interrupted, and their iterations interrupted ones.
	n := float64(hits.Load())
	if got := exportedCount(t, export, "http_reqs"); got != n {
		t.Errorf("summary export http_reqs = %v, server saw %v", got, n)
	}
	if got := exportedCount(t, export, "iterations_interrupted"); got != n {
		t.Errorf("summary export iterations_interrupted = %v, want %v (one request per iteration)", got, n)
	}
	if !strings.Contains(out.String(), "interrupted  3") {
		t.Errorf("errors table does not list the 3 interrupted requests:\n%s", out.String())
	}
}

func TestApplyAbortOnFail(t *testing.T) {
	srv := newCounter(t, 0)
	file := writePlan(t, "/fail", `load {
  model    = "arrival_rate"
  rate     = 50
  duration = "1m"
  pre_allocated_vus = 5
}`, `threshold "http_req_failed" {
  condition     = "rate < 0.01"
  abort_on_fail = true
  delay         = "1s"
}`)
	r := runCLI(t, "apply", "--no-progress", "-var", "host="+srv.srv.URL, file)
	if r.code != exitThreshold {
		t.Fatalf("exit %d, want 99\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	// Planned: 50/s for 60 s = 3000 requests; the abort after about a second leaves a few hundred
	// at most.
	if got := srv.hits.Load(); got == 0 || got > 1000 {
		t.Errorf("server saw %d requests; abort_on_fail should stop far below the planned 3000", got)
	}
	if !strings.Contains(r.stdout, "aborted the run") {
		t.Errorf("summary does not say which threshold aborted the run:\n%s", r.stdout)
	}
}
