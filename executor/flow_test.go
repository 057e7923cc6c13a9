package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// flowServer counts what the issue 12 tests send: logins (per user), the requests of each path
// (per vu query parameter too), and the Authorization tokens it saw.
type flowServer struct {
	*counter
	failFirst bool // the first login of each user is a 500 without a token
	mu        sync.Mutex
	logins    map[string]int // per user
	paths     map[string]int // per path
	perVU     map[string]int // per path?vu=N
	badAuth   int            // requests with a token the server never issued
}

func newFlowServer(t *testing.T, failFirst bool) *flowServer {
	s := &flowServer{failFirst: failFirst, logins: map[string]int{}, paths: map[string]int{}, perVU: map[string]int{}}
	s.counter = newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.paths[r.URL.Path]++
		if vu := r.URL.Query().Get("vu"); vu != "" {
			s.perVU[r.URL.Path+"?vu="+vu]++
		}
		switch r.URL.Path {
		case "/login":
			var in struct{ User string }
			_ = json.NewDecoder(r.Body).Decode(&in)
			s.logins[in.User]++
			if s.failFirst && s.logins[in.User] == 1 {
				w.WriteHeader(500)
				return
			}
			fmt.Fprintf(w, `{"token":"tok-%s"}`, in.User)
			return
		case "/fail", "/fail2":
			w.WriteHeader(500)
			return
		}
		if a := r.Header.Get("Authorization"); a != "" {
			user, _ := strings.CutPrefix(a, "Bearer tok-")
			if s.logins[user] == 0 {
				s.badAuth++
			}
		}
		w.Write([]byte(`{}`))
	})
	return s
}

func (s *flowServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paths[path]
}

// runPlan loads src against srv and runs it to the end with seed.
func runPlan(t *testing.T, src, host string, seed uint64) (*collector, Result) {
	t.Helper()
	return run(t, Config{Plan: loadPlan(t, t.TempDir(), src, host), Seed: seed})
}

const setupPlan = `
variable "host" {}
target "api" { base_url = var.host }
scenario "rest" {
  setup {
    http "login" {
      method = "POST"
      path   = "/login"
      json   = { user = "u${vu.id}" }
      capture "token" { json = "token" }
    }
  }
  http "work" {
    path    = "/work"
    headers = { Authorization = "Bearer ${vu.token}" }
  }
  teardown {
    http "logout" {
      method  = "POST"
      path    = "/logout"
      headers = { Authorization = "Bearer ${vu.token}" }
    }
  }
  load {
    model      = "per_vu_iterations"
    vus        = 5
    iterations = 7
  }
}
`

// TestSetupLogsInOncePerVU: 5 VUs make exactly 5 logins, 35 requests all with a token the
// server issued, and 5 logouts; a server failing each user's first login gets 10 logins and
// loadplan reports the 5 failed setups.
func TestSetupLogsInOncePerVU(t *testing.T) {
	for _, failFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("failFirst=%v", failFirst), func(t *testing.T) {
			srv := newFlowServer(t, failFirst)
			col, _ := runPlan(t, setupPlan, srv.URL, 1)
			wantLogins := 5
			if failFirst {
				wantLogins = 10
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if srv.paths["/login"] != wantLogins || len(srv.logins) != 5 {
				t.Errorf("server saw %d logins of %d users; want %d of 5", srv.paths["/login"], len(srv.logins), wantLogins)
			}
			if srv.paths["/work"] != 35 || srv.badAuth != 0 || srv.paths["/logout"] != 5 {
				t.Errorf("server saw %d work (%d with a bad token), %d logouts; want 35 (0), 5", srv.paths["/work"], srv.badAuth, srv.paths["/logout"])
			}
			if got := col.sum(metrics.HTTPReqs); got != float64(srv.hits.Load()) {
				t.Errorf("http_reqs %v; server received %d", got, srv.hits.Load())
			}
			if got := col.sum(metrics.Iterations); got != 35 {
				t.Errorf("iterations %v; want 35 (setup and teardown are not iterations)", got)
			}
			errs := col.errors()
			if got := errs["setup failed: capture token missing"]; got != wantLogins-5 {
				t.Errorf("setup failures reported %d; want %d (errors %v)", got, wantLogins-5, errs)
			}
		})
	}
}

// TestTeardownOnGracefulStop: a run stopped by Stop runs each VU's teardown once, within
// graceful_stop.
func TestTeardownOnGracefulStop(t *testing.T) {
	srv := newFlowServer(t, false)
	src := strings.Replace(setupPlan, `model      = "per_vu_iterations"
    vus        = 5
    iterations = 7`, `vus = 4
    duration = "1m"
    graceful_stop = "10s"`, 1)
	src = strings.Replace(src, `path    = "/work"`, `path    = "/work"
    think_time = "50ms"`, 1)
	e, err := New(Config{Plan: loadPlan(t, t.TempDir(), src, srv.URL), Sink: newCollector()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Result)
	go func() { done <- e.Run(context.Background()) }()
	for srv.count("/work") < 20 {
		time.Sleep(10 * time.Millisecond)
	}
	e.Stop()
	res := <-done
	if !res.Interrupted {
		t.Errorf("result %+v; want interrupted", res)
	}
	if l, o := srv.count("/login"), srv.count("/logout"); l != 4 || o != 4 {
		t.Errorf("server saw %d logins, %d logouts; want 4 each", l, o)
	}
}

// TestFailingSetupBacksOff: a login that always fails is retried with backoff, never in a busy
// loop; the VU runs no iteration, and each failed attempt is reported once.
func TestFailingSetupBacksOff(t *testing.T) {
	srv := newFlowServer(t, false)
	src := strings.Replace(setupPlan, `path   = "/login"`, `path   = "/fail"`, 1)
	src = strings.Replace(src, `model      = "per_vu_iterations"
    vus        = 5
    iterations = 7`, `vus = 2
    duration = "2s"`, 1)
	col, _ := runPlan(t, src, srv.URL, 0)
	attempts := srv.count("/fail")
	// backoff 50-100 ms, then 100-200, 200-400, 400-800, 800-1600: at most 6 attempts in 2 s
	if attempts < 2 || attempts > 2*6 {
		t.Errorf("server saw %d login attempts from 2 VUs in 2 s; want 2..12", attempts)
	}
	if w, o := srv.count("/work"), srv.count("/logout"); w != 0 || o != 0 {
		t.Errorf("server saw %d work, %d logouts; want none before a setup succeeded", w, o)
	}
	if got := col.errors()["setup failed: capture token missing"]; got != attempts {
		t.Errorf("setup failures reported %d; server saw %d attempts", got, attempts)
	}
	if got := col.sum(metrics.Iterations); got != 0 {
		t.Errorf("iterations %v; want 0", got)
	}
}

// TestSetupInOpenModel: under arrival_rate each VU the pool allocates logs in once, before the
// iterations handed to it; every iteration's request carries a token the server issued.
func TestSetupInOpenModel(t *testing.T) {
	srv := newFlowServer(t, false)
	src := strings.Replace(setupPlan, `model      = "per_vu_iterations"
    vus        = 5
    iterations = 7`, `model             = "arrival_rate"
    rate              = 20
    duration          = "1s"
    pre_allocated_vus = 3
    max_vus           = 3
    max_dropped_iterations = -1`, 1)
	col, _ := runPlan(t, src, srv.URL, 0)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.paths["/login"] != 3 || srv.paths["/logout"] != 3 {
		t.Errorf("server saw %d logins, %d logouts; want 3 each (one per VU)", srv.paths["/login"], srv.paths["/logout"])
	}
	if w := srv.paths["/work"]; w == 0 || srv.badAuth != 0 || float64(w) != col.sum(metrics.Iterations) {
		t.Errorf("server saw %d work (%d with a bad token); iterations %v", w, srv.badAuth, col.sum(metrics.Iterations))
	}
}
