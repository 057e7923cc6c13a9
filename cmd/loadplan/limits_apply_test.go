//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/loadplan/loadplan/internal/testkit"
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
)

// runUnderLimit runs the binary with the open-file limit set to soft:hard by the shell that
// execs it (lowering needs no privilege; raising the hard limit does).
func runUnderLimit(t *testing.T, soft, hard int, args ...string) result {
	t.Helper()
	return runLimited(t, fmt.Sprintf("ulimit -S -n %d && ulimit -H -n %d", soft, hard), args...)
}

// runLimited runs the binary after the shell commands in limits (ulimit ...).
func runLimited(t *testing.T, limits string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	script := limits + ` && exec "$0" "$@"`
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", script, testkit.Binary(t)}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return result{code: exitCode(t, err), stdout: out.String(), stderr: errb.String()}
}

// TestApplyOverFileLimitFailsBeforeAnyRequest is the `ulimit -n 256`, 1,000 VUs row of issue 9:
// loadplan used to count 942,840 "request error" http_reqs that never left the machine. Now it
// fails at start, names the limit and the fix, and the target sees nothing.
func TestApplyOverFileLimitFailsBeforeAnyRequest(t *testing.T) {
	srv := newCounter(t, 0)
	file := writePlan(t, "/ok", `load {
  model    = "users"
  vus      = 1000
  duration = "5s"
}`, "")
	r := runUnderLimit(t, 256, 256, "apply", "-var", "host="+srv.srv.URL, file)
	if r.code != exitRuntime {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, exitRuntime, r.stderr)
	}
	if got := srv.hits.Load(); got != 0 {
		t.Errorf("the server received %d requests, want 0: the check must come before any request", got)
	}
	want := "loadplan: the plan needs about 1,032 open files at peak (1,000 VUs on 1 target + 32 for the runtime) " +
		"but the open-file limit is 256 (hard 256); raise it with `ulimit -n 2048` in the shell that starts loadplan"
	for _, s := range []string{want, "or lower the plan's peak VUs (--vus 224 fits)"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
	if r.stdout != "" {
		t.Errorf("a run that never started printed a summary:\n%s", r.stdout)
	}
}

// TestApplyRaisesSoftFileLimit: soft 256, hard 4096, and a plan whose 600 VUs each hold a
// connection at once. The server holds every request until 300 are in flight together, which
// 256 open files could not do; loadplan's http_reqs equals what the server received.
func TestApplyRaisesSoftFileLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max < 4096 && os.Geteuid() != 0 {
		t.Skipf("the test raises the hard open-file limit to 4096, which needs root here (hard limit %d)", lim.Max)
	}
	const vus, together = 600, 300
	var hits, inFlight, most atomic.Int64
	release := make(chan struct{})
	var once atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if n >= together && once.CompareAndSwap(false, true) {
			close(release)
		}
		select {
		case <-release:
		case <-time.After(20 * time.Second): // never hang the test; the assertion below fails
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	file := writePlan(t, "/ok", fmt.Sprintf(`load {
  model      = "per_vu_iterations"
  vus        = %d
  iterations = 1
}`, vus), "")
	export := filepath.Join(t.TempDir(), "summary.json")
	r := runUnderLimit(t, 256, 4096, "apply", "--quiet", "--summary-export", export, "-var", "host="+srv.URL, file)
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", r.code, r.stderr)
	}
	if got := hits.Load(); got != vus {
		t.Errorf("the server received %d requests, want %d", got, vus)
	}
	if got := exportedCount(t, export, "http_reqs"); got != float64(hits.Load()) {
		t.Errorf("http_reqs = %v, the server received %d", got, hits.Load())
	}
	if got := most.Load(); got < together {
		t.Errorf("at most %d requests were in flight together, want %d: the soft limit of 256 was not raised", got, together)
	}
}

// TestApplyOverMemoryFailsBeforeAnyRequest: a plan whose VUs and WebSocket sessions cannot fit in
// the available memory fails at start with a message that says so, instead of being killed for it.
// Its VUs each hold a persistent session (75 KB a VU in the estimate), half again as many as fit,
// which stays under the plan's own bounds (1,000,000 VUs, 500,000 sessions) on machines with up
// to about 24 GB available.
func TestApplyOverMemoryFailsBeforeAnyRequest(t *testing.T) {
	mem := availableMemory()
	if !mem.known {
		t.Skip("no MemAvailable in /proc/meminfo")
	}
	vus := mem.bytes / (vuMemory + sessionMemory) * 3 / 2
	if vus > 500_000 {
		t.Skipf("%s of memory is available: a plan that does not fit breaks the plan's bounds (500,000 WebSocket sessions) first; TestFitProblems covers the message",
			byteSize(mem.bytes))
	}
	srv := newCounter(t, 0)
	src := fmt.Sprintf(`variable "host" { type = string }
target "api" { base_url = var.host }
scenario "live" {
  target = target.api
  http "hit" { path = "/ok" }
  websocket "feed" {
    path    = "/ws"
    session = "persistent"
    send "hi" { text = "hi" }
  }
}
load {
  model    = "users"
  vus      = %d
  duration = "5s"
}
`, vus)
	file := filepath.Join(t.TempDir(), "plan.hcl")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// 256 open files stop the run too, and 4 GB of address space bound it, should the checks
	// ever fail to: the test must not take the machine's memory with it.
	r := runLimited(t, "ulimit -v 4000000 && ulimit -n 256", "apply", "-var", "host="+srv.srv.URL, file)
	if r.code != exitRuntime {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", r.code, exitRuntime, r.stderr)
	}
	if got := srv.hits.Load(); got != 0 {
		t.Errorf("the server received %d requests, want 0", got)
	}
	want := fmt.Sprintf("of memory at peak (%s VUs × 25 KB + %s WebSocket sessions × 50 KB + 32 MB for the process) but ",
		thousands(int(vus)), thousands(int(vus)))
	for _, s := range []string{want, "is available (", "or split the load across machines with --segment"} {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
}
