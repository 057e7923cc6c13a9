package main

import (
	"net/http"
	"net/http/httptest"
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
