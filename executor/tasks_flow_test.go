package executor

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

const tasksPlan = `
variable "host" {}
target "api" { base_url = var.host }
scenario "mix" {
  task "browse" {
    weight = 3
    http "items" { path = "/browse" }
  }
  task "order" {
    weight = 1
    http "buy" { path = "/order" }
  }
  load {
    model      = "per_vu_iterations"
    vus        = 4
    iterations = 1000
  }
}
`

// TestTaskWeights: weights 3:1 over 4,000 iterations give the server a share of browse within
// the binomial 99.9% interval, the iterations and requests of each task tagged with it, and the
// same counts again for the same seed.
func TestTaskWeights(t *testing.T) {
	var first [2]int
	for round := range 2 {
		srv := newFlowServer(t, false)
		col, _ := runPlan(t, tasksPlan, srv.URL, 42)
		b, o := srv.count("/browse"), srv.count("/order")
		if b+o != 4000 {
			t.Fatalf("server saw %d+%d requests; want 4000", b, o)
		}
		// 99.9%: z = 3.29, sd = sqrt(n p (1-p)) = 27.4 for n = 4000, p = 0.75.
		if d := math.Abs(float64(b) - 3000); d > 3.29*math.Sqrt(4000*0.75*0.25) {
			t.Errorf("browse %d of 4000; want 3000 ± 90", b)
		}
		byTask := map[string]float64{}
		reqs := map[string]float64{}
		for _, s := range col.store.Snapshot() {
			if s.Key.Tags == nil {
				continue
			}
			switch s.Key.Metric {
			case metrics.Iterations:
				byTask[s.Key.Tags.Task] += s.Sum
			case metrics.HTTPReqs:
				reqs[s.Key.Tags.Task] += s.Sum
			}
		}
		if byTask["browse"] != float64(b) || byTask["order"] != float64(o) || reqs["browse"] != float64(b) || reqs["order"] != float64(o) {
			t.Errorf("iterations by task %v, requests by task %v; server saw browse %d, order %d", byTask, reqs, b, o)
		}
		if round == 0 {
			first = [2]int{b, o}
		} else if first != [2]int{b, o} {
			t.Errorf("seed 42 gave browse/order %v then %v; want the same", first, [2]int{b, o})
		}
	}
}

const whenPlan = `
variable "host" {}
target "api" { base_url = var.host }
scenario "w" {
  http "every" { path = "/every" }
  http "third" {
    when = iter % 3 == 0
    path = "/third"
  }
  load {
    model      = "per_vu_iterations"
    vus        = 2
    iterations = 10
  }
}
scenario "t" {
  task "even" {
    when = iter % 2 == 0
    weight = 1
    http "even" { path = "/even" }
  }
  task "odd" {
    when = iter % 2 == 1
    weight = 1000
    http "odd" { path = "/odd" }
  }
  task "never" {
    when = vu.id < 0
    weight = 1000
    http "never" { path = "/never" }
  }
  load {
    model      = "per_vu_iterations"
    vus        = 2
    iterations = 10
  }
}
scenario "loop" {
  repeat {
    while = iter % 2 == 0
    max   = 3
    http "while" { path = "/while" }
  }
  load {
    model      = "per_vu_iterations"
    vus        = 2
    iterations = 3
  }
}
`

// TestWhenSkips: when = iter % 3 == 0 runs the step on iterations 0, 3, 6, 9 of each VU and
// counts no request for the others; a task whose when is false is out of the draw, whatever
// its weight; a repeat's while holds its body to max passes, or none.
func TestWhenSkips(t *testing.T) {
	srv := newFlowServer(t, false)
	col, _ := runPlan(t, whenPlan, srv.URL, 0)
	want := map[string]int{"/every": 20, "/third": 8, "/even": 10, "/odd": 10, "/never": 0,
		"/while": 2 * 2 * 3} // iterations 0 and 2 of each VU, 3 passes (max) each
	for p, n := range want {
		if got := srv.count(p); got != n {
			t.Errorf("server saw %d %s; want %d", got, p, n)
		}
	}
	if got := col.sum(metrics.HTTPReqs); got != float64(srv.hits.Load()) || got != 60 {
		t.Errorf("http_reqs %v; server received %d, want 60", got, srv.hits.Load())
	}
	if got := col.sum(metrics.Iterations); got != 46 {
		t.Errorf("iterations %v; want 46", got)
	}
}

// TestRepeatWebSocketSessions: a repeat of 5 WebSocket sessions makes 5 sessions per iteration
// on the server, and a repeat until/while ends where its condition says.
func TestRepeatWebSocketSessions(t *testing.T) {
	var sessions, polls atomic.Int64
	ws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/poll" {
			// done on the 3rd poll of each iteration (the VU sends its pass count)
			polls.Add(1)
			state := "busy"
			if r.URL.Query().Get("n") == "2" {
				state = "done"
			}
			fmt.Fprintf(w, `{"state":%q}`, state)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		sessions.Add(1)
		_ = c.Write(r.Context(), websocket.MessageText, []byte(`{"type":"data"}`))
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	t.Cleanup(ws.Close)
	src := `
variable "host" {}
target "api" { base_url = var.host }
scenario "r" {
  repeat {
    count = 5
    websocket "feed" {
      path = "/ws"
      expect "data" { json = { type = "data" } }
      close {}
    }
  }
  http "reset" {
    path = "/poll"
    query = { n = "0" }
    capture "state" { json = "state" }
  }
  repeat {
    until = capture.state == "done"
    max   = 10
    http "poll" {
      path  = "/poll"
      query = { n = capture.state == "busy" ? "2" : "1" }
      capture "state" { json = "state" }
    }
  }
  load {
    model      = "per_vu_iterations"
    vus        = 2
    iterations = 3
  }
}
`
	col, _ := runPlan(t, src, ws.URL, 0)
	if got := sessions.Load(); got != 5*6 {
		t.Errorf("server accepted %d sessions; want 5 × 6 iterations = 30", got)
	}
	if got := col.sum(metrics.WSSessions); got != float64(sessions.Load()) {
		t.Errorf("ws_sessions %v; server accepted %d", got, sessions.Load())
	}
	// per iteration: reset (busy) then poll n=2 (done): 2 requests; 6 iterations
	if got := polls.Load(); got != 12 {
		t.Errorf("server saw %d polls; want 12", got)
	}
	if got := col.sum(metrics.Iterations); got != 6 {
		t.Errorf("iterations %v; want 6", got)
	}
}

const pacingPlan = `
variable "host" {}
target "api" { base_url = var.host }
scenario "paced" {
  pacing = "1s"
  http "x" {
    path  = "/fail"
    query = { vu = vu.id }
    capture "token" { json = "token" }
  }
  http "never" { path = "/never" }
  load {
    vus      = 2
    duration = "10s"
  }
}
scenario "rate" {
  iterations_per_second = 2
  http "y" {
    path  = "/fail2"
    query = { vu = vu.id }
    capture "token" { json = "token" }
  }
  load {
    vus      = 2
    duration = "10s"
  }
}
`

// TestPacingHoldsAfterFailures: pacing = "1s" over 10 s gives each VU 10 ± 1 iterations, and
// iterations_per_second = 2 gives 20 ± 1, although every iteration fails at its first step (a
// 500 without the capture it needs). A real 10 s run; only counts are asserted.
func TestPacingHoldsAfterFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10 s run")
	}
	srv := newFlowServer(t, false)
	col, _ := runPlan(t, pacingPlan, srv.URL, 0)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.perVU) != 4 || srv.paths["/never"] != 0 {
		t.Fatalf("server saw %v, /never %d; want 4 VUs, 0", srv.perVU, srv.paths["/never"])
	}
	for k, n := range srv.perVU {
		want := 10
		if strings.HasPrefix(k, "/fail2?") {
			want = 20
		}
		if n < want-1 || n > want+1 {
			t.Errorf("server saw %d requests of %s; want %d ± 1 (all: %v)", n, k, want, srv.perVU)
		}
	}
	if got := col.sum(metrics.Iterations); got != float64(srv.hits.Load()) {
		t.Errorf("iterations %v; server received %d requests, one per iteration", got, srv.hits.Load())
	}
}

// TestNoTaskEligibleIsNoBusyLoop: when every task is left out by its when, an iteration runs
// no step; the VU waits idleWait before the next instead of spinning, and sends nothing.
func TestNoTaskEligibleIsNoBusyLoop(t *testing.T) {
	srv := newFlowServer(t, false)
	src := `
variable "host" {}
target "api" { base_url = var.host }
scenario "idle" {
  task "never" {
    when = vu.id < 0
    http "never" { path = "/never" }
  }
  load {
    vus      = 2
    duration = "1s"
  }
}
`
	col, _ := runPlan(t, src, srv.URL, 0)
	if srv.hits.Load() != 0 {
		t.Errorf("server received %d requests; want 0", srv.hits.Load())
	}
	// 1 s at one iteration per idleWait (100 ms) per VU: about 20; a busy loop makes millions
	if got := col.sum(metrics.Iterations); got < 2 || got > 2*(1+float64(time.Second/idleWait)) {
		t.Errorf("iterations %v in 1 s from 2 VUs; want 2..22", got)
	}
}

// BenchmarkTaskIteration is BenchmarkHTTPIteration for a scenario of two weighted tasks with a
// when each and a when on the step: the draw and the conditions' cost per iteration.
func BenchmarkTaskIteration(b *testing.B) {
	url := rawServer(b)
	src := `
scenario "mix" {
  task "a" {
    weight = 3
    when   = iter >= 0
    http "a" {
      url  = "` + url + `"
      when = vu.id > 0
    }
  }
  task "b" {
    when = iter >= 0
    http "b" { url = "` + url + `" }
  }
  load {
    model      = "per_vu_iterations"
    vus        = 1
    iterations = 1
  }
}
`
	p, diags := plan.LoadSource("bench.hcl", []byte(src), plan.Options{})
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	store := metrics.NewStore()
	e, err := New(Config{Plan: p, Sink: metrics.SinkFunc(store.Add), Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	v := newVU(e, e.scenarios[0])
	v.begin(context.Background(), context.Background())
	v.iterate(0)
	b.ReportAllocs()
	for b.Loop() {
		v.iterate(0)
	}
	v.flush()
	if s := metrics.Combine(store.Snapshot(), metrics.HTTPReqs, nil); s.Sum < float64(b.N) {
		b.Fatalf("http_reqs %v < %d", s.Sum, b.N)
	}
}
