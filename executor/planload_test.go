package executor

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// loadPlan loads an HCL plan from src with var.host set to host.
func loadPlan(t *testing.T, dir, src, host string) *plan.Plan {
	t.Helper()
	p, diags := plan.LoadSource(filepath.Join(dir, "test.hcl"), []byte(src), plan.Options{
		Vars: map[string]string{"host": host},
		Env:  map[string]string{"PASSWORD": "hunter2"},
	})
	if diags.HasErrors() {
		t.Fatalf("plan: %s", diags.Error())
	}
	return p
}

// authServer issues a token per user at /api/login and accepts it at /api/portfolio.
type authServer struct {
	*counter
	mu         sync.Mutex // guards authorized and users
	authorized map[string]int
	users      map[string]bool
}

func newAuthServer(t *testing.T) *authServer {
	a := &authServer{authorized: map[string]int{}, users: map[string]bool{}}
	a.counter = newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/login":
			var in struct{ User, Password string }
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.User == "" || in.Password != "hunter2" {
				w.WriteHeader(400)
				return
			}
			a.mu.Lock()
			a.users[in.User] = true
			a.mu.Unlock()
			fmt.Fprintf(w, `{"token":"tok-%s"}`, in.User)
		case "/api/portfolio":
			user, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer tok-")
			a.mu.Lock()
			defer a.mu.Unlock()
			if !ok || !a.users[user] {
				w.WriteHeader(401)
				return
			}
			a.authorized[user]++
			w.Write([]byte(`{"positions":[]}`))
		default:
			w.WriteHeader(404)
		}
	})
	return a
}

const chainPlan = `
variable "host" {}
target "api" { base_url = var.host }
scenario "rest" {
  http "login" {
    method = "POST"
    path   = "/api/login"
    json   = { user = "u${vu.id}", password = env("PASSWORD") }
    check { status = 200 }
    capture "token" { json = "%s" }
  }
  http "portfolio" {
    path    = "/api/portfolio"
    headers = { Authorization = "Bearer ${capture.token}" }
    check { status = 200 }
  }
}
load {
  model      = "per_vu_iterations"
  vus        = 5
  iterations = 3
}
`

func TestChainingLoginTokenAuthorizedCall(t *testing.T) {
	srv := newAuthServer(t)
	p := loadPlan(t, t.TempDir(), fmt.Sprintf(chainPlan, "token"), srv.URL)
	col, _ := run(t, Config{Plan: p})
	if len(srv.authorized) != 5 {
		t.Fatalf("authorized users %v, want 5 distinct", srv.authorized)
	}
	for u, n := range srv.authorized {
		if n != 3 {
			t.Errorf("user %s authorized %d times, want 3", u, n)
		}
	}
	if col.sum(metrics.HTTPReqFailed) != 0 || col.sum(metrics.HTTPReqs) != 30 || srv.hits.Load() != 30 {
		t.Errorf("failed %v, http_reqs %v, server %d", col.sum(metrics.HTTPReqFailed), col.sum(metrics.HTTPReqs), srv.hits.Load())
	}
	if r := checkResults(col); r["status == 200"] != [2]int{30, 0} {
		t.Errorf("checks %v", r)
	}
}

func TestChainingBrokenCaptureFailsClearly(t *testing.T) {
	srv := newAuthServer(t)
	p := loadPlan(t, t.TempDir(), fmt.Sprintf(chainPlan, "access_token"), srv.URL)
	col, _ := run(t, Config{Plan: p})
	if len(srv.authorized) != 0 {
		t.Errorf("authorized without a token: %v", srv.authorized)
	}
	if got := srv.hits.Load(); got != 15 {
		t.Errorf("server saw %d requests, want 15 logins and no portfolio call", got)
	}
	if e := col.errors(); e["capture token missing"] != 15 {
		t.Errorf("errors %v, want 15 × capture token missing", e)
	}
}

func TestFeeders(t *testing.T) {
	dir := t.TempDir()
	rows := "symbol,qty\nAAPL,1\nMSFT,2\nGOOG,3\n"
	if err := os.WriteFile(filepath.Join(dir, "s.csv"), []byte(rows), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path+"?"+r.URL.RawQuery]++
		mu.Unlock()
	})
	src := `
variable "host" {}
target "api" { base_url = var.host }
data "symbols" {
  csv  = "s.csv"
  mode = "%s"
}
scenario "quotes" {
  http "quote" {
    path  = "/q/${data.symbols.symbol}"
    query = { qty = data.symbols.qty }
  }
}
load {
  model      = "shared_iterations"
  vus        = 3
  iterations = 9
}
`
	p := loadPlan(t, dir, fmt.Sprintf(src, "sequential"), srv.URL)
	run(t, Config{Plan: p})
	want := map[string]int{"/q/AAPL?qty=1": 3, "/q/MSFT?qty=2": 3, "/q/GOOG?qty=3": 3}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("sequential rows used %v, want %v", seen, want)
	}

	clear(seen)
	srv.hits.Store(0)
	var logs []string
	p = loadPlan(t, dir, fmt.Sprintf(src, "unique"), srv.URL)
	e, err := New(Config{Plan: p, Logf: func(f string, a ...any) { mu.Lock(); logs = append(logs, fmt.Sprintf(f, a...)); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	e.Run(t.Context())
	if srv.hits.Load() != 3 || len(seen) != 3 {
		t.Errorf("unique: server saw %d requests over %v, want each row once", srv.hits.Load(), seen)
	}
	if len(logs) != 1 || !strings.Contains(logs[0], "no unique rows left") {
		t.Errorf("logs %q, want one message about the exhausted feeder", logs)
	}
}

// TestScheduleAgreesWithLoadPlan: the schedule the executor runs (and `loadplan plan` prints)
// is the plan's load as written — the integral of the stages' rate, the linear VUs ramp — for
// every example plan and a few synthetic loads. The reference figures are computed here from the
// plan.Load, independently of the executor's ramp and pacer.
func TestScheduleAgreesWithLoadPlan(t *testing.T) {
	files, _ := filepath.Glob("../plans/*.hcl")
	var loads []*plan.Load
	for _, f := range files {
		p, diags := plan.LoadPlan([]string{f}, plan.Options{Env: map[string]string{}})
		if diags.HasErrors() {
			t.Errorf("%s: %s", f, diags.Error())
			continue
		}
		if p.Load != nil {
			loads = append(loads, p.Load)
		}
		for _, sc := range p.Scenarios {
			if sc.Load != nil {
				loads = append(loads, sc.Load)
			}
		}
	}
	loads = append(loads,
		withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 3, TimeUnit: time.Minute, PreAllocatedVUs: 1,
			Stages: []plan.Stage{{Duration: 90 * time.Second, Target: 7}, {Duration: 10 * time.Second, Target: 0}}}),
		withDefaults(&plan.Load{Model: plan.Users, StartVUs: 3, Stages: []plan.Stage{{Duration: 7 * time.Second, Target: 11}}}))
	for i, l := range loads {
		e, err := New(Config{Plan: planOf(l, httpStepOf("s", "a", "GET", "http://127.0.0.1:1"))})
		if err != nil {
			t.Errorf("load %d: %v", i, err)
			continue
		}
		s := e.Schedule().Loads[0]
		if s.Duration != l.Duration() {
			t.Errorf("load %d: schedule lasts %s, the plan %s", i, s.Duration, l.Duration())
		}
		switch l.Model {
		case plan.ArrivalRate:
			want := math.Ceil(integralOf(l) - 1e-9)
			if got := s.ExpectedIterations(); got != want || e.groups[0].sch.pacer.count() != uint64(want) {
				t.Errorf("load %d: executor schedules %v iterations, the plan's stages %v", i, got, integralOf(l))
			}
		case plan.Users:
			for _, at := range []time.Duration{0, l.Duration() / 3, l.Duration() / 2, l.Duration()} {
				if got, want := s.VUs(at), int(math.Floor(linearVUs(l, at)+1e-9)); got != want {
					t.Errorf("load %d: VUs at %v: executor %v, plan.Load %v", i, at, got, want)
				}
			}
		}
	}
	if len(loads) < 5 {
		t.Errorf("only %d loads checked", len(loads))
	}
}

// integralOf is the reference count of an arrival-rate load: the area under its stages.
func integralOf(l *plan.Load) float64 {
	total, from := 0.0, l.StartRate
	for _, s := range l.Stages {
		total += (from + s.Target) / 2 * s.Duration.Seconds()
		from = s.Target
	}
	return total / l.TimeUnit.Seconds()
}

// linearVUs is the reference users ramp: linear from the previous target through each stage.
func linearVUs(l *plan.Load, t time.Duration) float64 {
	from := float64(l.StartVUs)
	for _, s := range l.Stages {
		if t < s.Duration {
			return from + (s.Target-from)*float64(t)/float64(s.Duration)
		}
		t -= s.Duration
		from = s.Target
	}
	return from
}
