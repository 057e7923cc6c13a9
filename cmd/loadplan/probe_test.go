package main

import (
	"context"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/demo"
	"github.com/loadplan/loadplan/internal/testkit"
)

// probeCmd runs the built binary's probe verb, bounded to 30 s, and returns its exit code,
// stdout and stderr.
func probeCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testkit.Binary(t), append([]string{"probe"}, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// attemptsRE reads the attempt count the probe reports on failure.
var attemptsRE = regexp.MustCompile(`\((\d+) attempts? in `)

// TestProbeWaitRetriesUntilHealthy: a backend that answers 503 twice, then 200 — a service
// still starting — is probed with --wait: the probe succeeds on the third request, and the
// server received exactly 3.
func TestProbeWaitRetriesUntilHealthy(t *testing.T) {
	var n atomic.Int64
	srv := testkit.NewCounter(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"status":"ok"}`))
	})
	code, out, errb := probeCmd(t, "--wait", "20s", srv.URL+"/api/health")
	if code != exitOK || !strings.Contains(out, "HTTP 200 OK") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errb)
	}
	if got := srv.Hits.Load(); got != 3 {
		t.Errorf("server received %d requests, want 3 (503, 503, 200)", got)
	}
}

// TestProbeFailures: each way a probe fails exits 1 with the reason, after exactly the
// attempts the server counted; without --wait that is one.
func TestProbeFailures(t *testing.T) {
	down := testkit.NewCounter(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	release := make(chan struct{})
	slow := testkit.NewCounter(t, func(w http.ResponseWriter, r *http.Request) {
		select { // answers only after the probe gave up (or the test ended)
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/health"
	ln.Close()

	cases := []struct {
		name   string
		args   []string
		srv    *testkit.Counter
		reason string
		hits   int64 // -1: at least 2, equal to the attempts reported
	}{
		{"503 once", []string{down.URL}, down, "HTTP 503 Service Unavailable", 1},
		{"503 until the wait ends", []string{"--wait", "700ms", down.URL}, down, "HTTP 503 Service Unavailable", -1},
		{"timeout", []string{"--timeout", "300ms", slow.URL}, slow, "no answer within --timeout 300ms", 1},
		{"refused", []string{refused}, nil, "connection refused", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before int64
			if c.srv != nil {
				before = c.srv.Hits.Load()
			}
			code, out, errb := probeCmd(t, c.args...)
			if code != exitRuntime || out != "" || !strings.Contains(errb, c.reason) {
				t.Fatalf("exit %d (want 1), stdout %q, stderr %q (want %q)", code, out, errb, c.reason)
			}
			m := attemptsRE.FindStringSubmatch(errb)
			if m == nil {
				t.Fatalf("stderr %q does not say how many attempts", errb)
			}
			attempts, _ := strconv.ParseInt(m[1], 10, 64)
			if c.srv == nil {
				if attempts != 1 {
					t.Errorf("%d attempts without --wait", attempts)
				}
				return
			}
			hits := c.srv.Hits.Load() - before
			if hits != attempts || (c.hits >= 0 && hits != c.hits) || (c.hits < 0 && hits < 2) {
				t.Errorf("server received %d requests, probe reports %d attempts, want %d", hits, attempts, c.hits)
			}
		})
	}
}

// TestProbeRedirectIsAnAnswer: a 3xx is success and is not followed — the redirect's target
// receives nothing.
func TestProbeRedirectIsAnAnswer(t *testing.T) {
	target := testkit.NewCounter(t, nil)
	redir := testkit.NewCounter(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
	})
	code, out, errb := probeCmd(t, redir.URL)
	if code != exitOK || !strings.Contains(out, "HTTP 302 Found") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errb)
	}
	if redir.Hits.Load() != 1 || target.Hits.Load() != 0 {
		t.Errorf("redirecting server received %d, its target %d; want 1 and 0", redir.Hits.Load(), target.Hits.Load())
	}
}

// TestProbeUsage: a missing or bad URL or flag is a usage error (exit 2) that sends nothing, and
// a URL's password never reaches the output.
func TestProbeUsage(t *testing.T) {
	srv := testkit.NewCounter(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	})
	for _, args := range [][]string{
		{},
		{"ftp://127.0.0.1/x"},
		{"127.0.0.1:8000/health"},
		{srv.URL, srv.URL},
		{"--wait", "soon", srv.URL},
		{"--timeout", "0s", srv.URL},
	} {
		if code, _, errb := probeCmd(t, args...); code != exitUsage || errb == "" {
			t.Errorf("probe %q: exit %d (want 2), stderr %q", args, code, errb)
		}
	}
	if n := srv.Hits.Load(); n != 0 {
		t.Errorf("usage errors sent %d requests", n)
	}
	withSecret := strings.Replace(srv.URL, "http://", "http://ops:s3cr3t-pw@", 1)
	code, out, errb := probeCmd(t, withSecret)
	if code != exitRuntime || !strings.Contains(errb, "HTTP 403") || strings.Contains(out+errb, "s3cr3t-pw") {
		t.Errorf("exit %d, output %q %q: want 1, the 403, and no password", code, out, errb)
	}
	if n := srv.Hits.Load(); n != 1 {
		t.Errorf("server received %d requests, want 1", n)
	}
}

// TestProbeDemoHealth is the compose stack's healthcheck: the probe of the demo backend's
// /api/health succeeds, and the demo counted exactly that one request.
func TestProbeDemoHealth(t *testing.T) {
	srv, err := demo.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	code, out, errb := probeCmd(t, "--timeout", "2s", srv.URL()+"/api/health")
	if code != exitOK || !strings.Contains(out, "HTTP 200 OK") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errb)
	}
	if c := srv.Counts(); c.Requests["GET /api/health"] != 1 || len(c.Requests) != 1 {
		t.Errorf("demo counted %v, want exactly one GET /api/health", c.Requests)
	}
}
