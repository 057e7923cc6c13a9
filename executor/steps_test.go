package executor

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// checkResults returns passes and fails per check name.
func checkResults(col *collector) map[string][2]int {
	out := map[string][2]int{}
	for _, s := range col.store.Snapshot() {
		if s.Key.Metric == metrics.Checks {
			r := out[s.Key.Label]
			r[0] += int(s.Trues)
			r[1] += int(s.Count - s.Trues)
			out[s.Key.Label] = r
		}
	}
	return out
}

func TestChecks(t *testing.T) {
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Id", "42")
		if r.URL.Path == "/missing" {
			w.WriteHeader(404)
		}
		w.Write([]byte(`{"a":{"b":[1,2.5]},"name":"x"}`))
	})
	ok := httpStepOf("s", "ok", "GET", srv.URL+"/ok")
	ok.Checks = []*plan.Check{
		{Name: "status == 200", Kind: plan.CheckStatus, Statuses: []int{200}},
		{Name: "status in 2xx", Kind: plan.CheckStatus, StatusRanges: [][2]int{{200, 299}}},
		{Name: "header", Kind: plan.CheckHeaderEquals, Header: "x-id", Value: "42"},
		{Name: "header re", Kind: plan.CheckHeaderMatches, Header: "X-Id", Regexp: regexp.MustCompile(`^\d+$`)},
		{Name: "contains", Kind: plan.CheckBodyContains, Value: `"name"`},
		{Name: "matches", Kind: plan.CheckBodyMatches, Regexp: regexp.MustCompile(`"b":\[1`)},
		{Name: "json num", Kind: plan.CheckJSONEquals, Path: "a.b.1", JSONValue: "2.5"},
		{Name: "json str", Kind: plan.CheckJSONEquals, Path: "$.name", JSONValue: `"x"`},
		{Name: "json wrong", Kind: plan.CheckJSONEquals, Path: "a.b[0]", JSONValue: "2"},
		{Name: "fast", Kind: plan.CheckMaxDuration, Duration: time.Minute},
	}
	accepted := httpStepOf("s", "accepted", "GET", srv.URL+"/missing")
	accepted.Checks = []*plan.Check{{Name: "status == 404", Kind: plan.CheckStatus, Statuses: []int{404}}}
	accepted.ExpectedStatus = [][2]int{{404, 404}} // k6's expected_response: a check does not decide it
	notFound := httpStepOf("s", "notfound", "GET", srv.URL+"/missing")
	lenient := httpStepOf("s", "lenient", "GET", srv.URL+"/ok")
	lenient.FailOnCheck = false
	lenient.Checks = []*plan.Check{{Name: "lenient", Kind: plan.CheckBodyContains, Value: "absent"}}
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 2, Iterations: 3})
	col, _ := run(t, Config{Plan: planOf(l, ok, accepted, notFound, lenient)})
	res := checkResults(col)
	for name, want := range map[string][2]int{
		"status == 200": {6, 0}, "status in 2xx": {6, 0}, "header": {6, 0}, "header re": {6, 0}, "contains": {6, 0},
		"matches": {6, 0}, "json num": {6, 0}, "json str": {6, 0}, "json wrong": {0, 6}, "fast": {6, 0},
		"status == 404": {6, 0}, "lenient": {0, 6},
	} {
		if res[name] != want {
			t.Errorf("check %q: pass/fail %v, want %v", name, res[name], want)
		}
	}
	failed := map[string]float64{}
	for _, s := range col.store.Snapshot() {
		if s.Key.Metric == metrics.HTTPReqFailed {
			failed[s.Key.Tags.Step] += s.Sum
		}
	}
	// ok fails through "json wrong" (fail_on_check); accepted's 404 is an expected status; notfound
	// fails on status; lenient's failed check does not count.
	if failed["ok"] != 6 || failed["accepted"] != 0 || failed["notfound"] != 6 || failed["lenient"] != 0 {
		t.Errorf("http_req_failed by step %v", failed)
	}
	if col.sum(metrics.HTTPReqs) != float64(srv.hits.Load()) || srv.hits.Load() != 24 {
		t.Errorf("http_reqs %v, server %d", col.sum(metrics.HTTPReqs), srv.hits.Load())
	}
}

func TestRedirectsAreCountedPerHop(t *testing.T) {
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/r1":
			http.Redirect(w, r, "/r2", http.StatusFound)
		case "/r2":
			http.Redirect(w, r, "/final", http.StatusSeeOther)
		default:
			w.Write([]byte("done " + r.Method))
		}
	})
	follow := httpStepOf("s", "follow", "POST", srv.URL+"/r1")
	follow.Body = plan.Literal("payload")
	follow.Checks = []*plan.Check{{Name: "final", Kind: plan.CheckBodyContains, Value: "done GET"}}
	no := httpStepOf("s", "nofollow", "GET", srv.URL+"/r1")
	no.FollowRedirects = false
	no.Checks = []*plan.Check{{Name: "302", Kind: plan.CheckStatus, Statuses: []int{302}}}
	limited := httpStepOf("s", "limited", "GET", srv.URL+"/r1")
	limited.MaxRedirects = 1
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 2})
	col, _ := run(t, Config{Plan: planOf(l, follow, no, limited)})
	if got := srv.hits.Load(); got != 2*(3+1+2) {
		t.Errorf("server saw %d requests, want 12", got)
	}
	if col.sum(metrics.HTTPReqs) != float64(srv.hits.Load()) {
		t.Errorf("http_reqs %v != server %d", col.sum(metrics.HTTPReqs), srv.hits.Load())
	}
	if r := checkResults(col); r["final"] != [2]int{2, 0} || r["302"] != [2]int{2, 0} {
		t.Errorf("checks %v", r)
	}
	if e := col.errors(); e["too many redirects"] != 2 {
		t.Errorf("errors %v, want 2 × too many redirects", e)
	}
}

func TestCapturesAndCookies(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s3cr3t", Path: "/"})
			w.Header().Set("X-Req", "r-7")
			w.Write([]byte(`{"token":"tok-1","n":3}  id=abc123`))
		case "/me":
			c, err := r.Cookie("sid")
			mu.Lock()
			if err == nil {
				seen[c.Value]++
			}
			mu.Unlock()
		}
	})
	login := httpStepOf("s", "login", "POST", srv.URL+"/login")
	login.Captures = []*plan.Capture{
		{Name: "cookie", Kind: plan.CaptureCookie, Path: "sid", Required: true},
		{Name: "hdr", Kind: plan.CaptureHeader, Path: "X-Req", Required: true},
		{Name: "re", Kind: plan.CaptureRegex, Regexp: regexp.MustCompile(`id=(\w+)`), Required: true},
		{Name: "optional", Kind: plan.CaptureHeader, Path: "X-Absent"},
	}
	me := httpStepOf("s", "me", "GET", srv.URL+"/me")
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 2, Iterations: 2})
	e, err := New(Config{Plan: planOf(l, login, me), Sink: newCollector()})
	if err != nil {
		t.Fatal(err)
	}
	v := newVU(e, e.scenarios[0])
	ctx := t.Context()
	v.activate(ctx, ctx, func() { v.iterate(0) })
	want := map[string]string{"cookie": "s3cr3t", "hdr": "r-7", "re": "abc123"}
	for k, w := range want {
		if v.rt.Captures[k] != w {
			t.Errorf("capture %s = %q, want %q", k, v.rt.Captures[k], w)
		}
	}
	if _, ok := v.rt.Captures["optional"]; ok {
		t.Errorf("optional capture set")
	}
	if seen["s3cr3t"] != 1 {
		t.Errorf("cookie jar: /me saw cookies %v", seen)
	}
}

func TestMissingCaptureEndsIterationClearly(t *testing.T) {
	srv := newCounter(t, nil)
	login := httpStepOf("s", "login", "GET", srv.URL+"/login")
	login.Captures = []*plan.Capture{{Name: "token", Kind: plan.CaptureJSON, Path: "token", Required: true}}
	next := httpStepOf("s", "next", "GET", srv.URL+"/next")
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 3, Iterations: 2})
	col, _ := run(t, Config{Plan: planOf(l, login, next)})
	if srv.hits.Load() != 6 {
		t.Errorf("server saw %d requests, want 6 (only the login step)", srv.hits.Load())
	}
	if e := col.errors(); e["capture token missing"] != 6 || len(e) != 1 {
		t.Errorf("errors %v, want 6 × capture token missing", e)
	}
	if col.sum(metrics.Iterations) != 6 {
		t.Errorf("iterations %v, want 6", col.sum(metrics.Iterations))
	}
}

func TestTimeoutIsAnErrorNotAHang(t *testing.T) {
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	st := httpStepOf("s", "slow", "GET", srv.URL)
	// Long enough for a loaded CI machine's server to read the request before it times out
	// (at 50 ms, load average ~20: http_reqs 4, server 3); the handler never answers anyway.
	st.Timeout = 300 * time.Millisecond
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 2, Iterations: 2})
	col, _ := run(t, Config{Plan: planOf(l, st)})
	if col.sum(metrics.HTTPReqs) != 4 || srv.hits.Load() != 4 {
		t.Errorf("http_reqs %v, server %d, want 4", col.sum(metrics.HTTPReqs), srv.hits.Load())
	}
	if e := col.errors(); e["timeout"] != 4 {
		t.Errorf("errors %v, want 4 × timeout", e)
	}
	if col.sum(metrics.HTTPReqFailed) != 4 {
		t.Errorf("http_req_failed %v", col.sum(metrics.HTTPReqFailed))
	}
}

func TestTransportErrorIsCounted(t *testing.T) {
	srv := newCounter(t, nil)
	url := srv.URL
	srv.Close() // nothing listens any more
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 3})
	col, _ := run(t, Config{Plan: planOf(l, httpStepOf("s", "a", "GET", url))})
	// Refused connections never left the machine: no request, no latency, but each attempt
	// fails the http_req_failed rate and is one errors sample with its cause.
	if col.sum(metrics.HTTPReqFailed) != 3 || col.sum(metrics.HTTPReqs) != 0 || col.series(metrics.HTTPReqDuration).Count != 0 {
		t.Errorf("http_req_failed %v, http_reqs %v, http_req_duration samples %d; want 3, 0, 0",
			col.sum(metrics.HTTPReqFailed), col.sum(metrics.HTTPReqs), col.series(metrics.HTTPReqDuration).Count)
	}
	if e := col.errors(); e["connection refused"] != 3 || len(e) != 1 {
		t.Errorf("errors %v, want 3 × connection refused", e)
	}
	e, err := New(Config{Plan: planOf(l, httpStepOf("s", "a", "GET", url))})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Preflight(t.Context()); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("Preflight = %v, want unreachable", err)
	}
}

func TestRedirectKeepsOneCookieHeader(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "1", Path: "/"})
		case "/r":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/final":
			mu.Lock()
			got = append(got, strings.Join(r.Header.Values("Cookie"), "|"))
			mu.Unlock()
		}
	})
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 1})
	run(t, Config{Plan: planOf(l, httpStepOf("s", "login", "GET", srv.URL+"/login"), httpStepOf("s", "r", "GET", srv.URL+"/r"))})
	if len(got) != 1 || got[0] != "sid=1" {
		t.Errorf("Cookie headers after a redirect %q, want [sid=1]", got)
	}
}

func TestChecksFailOnTransportError(t *testing.T) {
	srv := newCounter(t, nil)
	url := srv.URL
	srv.Close()
	st := httpStepOf("s", "a", "GET", url)
	st.Checks = []*plan.Check{{Name: "status == 200", Kind: plan.CheckStatus, Statuses: []int{200}}}
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 2})
	col, _ := run(t, Config{Plan: planOf(l, st)})
	if r := checkResults(col); r["status == 200"] != [2]int{0, 2} {
		t.Errorf("checks %v, want 2 failures", r)
	}
}
