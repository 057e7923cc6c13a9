package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// TestApplyTargetDiesMidRun kills the target about a second into a 5 s run: the summary says
// first, under its heading, since when the target was unreachable and why.
func TestApplyTargetDiesMidRun(t *testing.T) {
	var hits atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 20 {
			go srv.Close() // waits for the handlers in flight: they still answer
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	file := writePlan(t, "/ok", `load {
  vus      = 4
  duration = "5s"
}`, "")
	// 4 VUs with no think time: ~20 requests take milliseconds, so the target dies at once and
	// stays dead for ~5 s, past the 3 s threshold; the backoff keeps the attempts few.
	r := runCLI(t, "apply", "-var", "host="+srv.URL, file)
	line := regexp.MustCompile(`\n  !! target unreachable since 0:0[0-2]: connection refused\n`)
	loc := line.FindStringIndex(r.stdout)
	if loc == nil || loc[0] > strings.Index(r.stdout, "scenario rest") {
		t.Errorf("the summary does not say first that the target was unreachable (exit %d):\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if testing.Verbose() {
		t.Log(r.stdout)
	}
	if n := hits.Load(); n < 20 {
		t.Errorf("server received %d requests, want it killed at the 20th", n)
	}
}

// TestApplyP95GateFailsWhenTargetDiesMidRun: the target answers its first 30 requests fast, then
// dies. The answered requests alone have a p(95) of a millisecond, but the attempts after the
// death got no response, so `p(95) < 300ms` fails (exit 99) and says why; http_reqs is what the
// server received (plus a request per VU written as it died), and every failed attempt is one
// http_req_unanswered and one errors sample.
func TestApplyP95GateFailsWhenTargetDiesMidRun(t *testing.T) {
	var hits atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 30 {
			go srv.Close() // waits for the handlers in flight: they still answer
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	file := writePlan(t, "/ok", `load {
  vus      = 2
  duration = "3s"
}`, `threshold "http_req_duration" {
  condition = "p(95) < 300ms"
}`)
	export := filepath.Join(t.TempDir(), "summary.json")
	r := runCLI(t, "apply", "--no-progress", "--summary-export", export, "-var", "host="+srv.URL, file)
	if r.code != exitThreshold {
		t.Fatalf("exit %d, want %d: a p95 gate passed against a dead target\n%s\n%s", r.code, exitThreshold, r.stdout, r.stderr)
	}
	if !regexp.MustCompile(`✗ http_req_duration .*p\(95\)=∞ \(\d+ requests got no response\)`).MatchString(r.stdout) {
		t.Errorf("the verdict does not say why:\n%s", r.stdout)
	}
	reqs, unanswered := exportedCount(t, export, "http_req_unanswered"), exportedCount(t, export, "errors")
	// A request written as the server closed its connection left the machine (http_reqs) but
	// never reached the handler: at most one per VU, each a failed, unanswered attempt.
	if got, n := exportedCount(t, export, "http_reqs"), float64(hits.Load()); got < n || got > n+2 {
		t.Errorf("http_reqs %v, server received %v (2 VUs: at most 2 cut on the wire)", got, n)
	}
	if reqs == 0 || reqs != unanswered {
		t.Errorf("http_req_unanswered %v, errors %v: want every failed attempt in both", reqs, unanswered)
	}
}
