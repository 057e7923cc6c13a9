package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/plan"
)

// mustNeed is estimateNeed for a plan the executor compiles.
func mustNeed(t *testing.T, p *plan.Plan, in needInput) resourceNeed {
	t.Helper()
	n, err := estimateNeed(p, in)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEstimateUsesTheSchedule: the estimate's VUs are the executor's schedule's, model by model,
// with weights, --vus, segments, --duration and loads that overlap. Without WebSocket steps the
// memory peak is the VU peak, which must be Schedule.PeakVUs; that the executor allocates what
// its schedule says is executor's own test (TestSchedulePeakVUsIsWhatRuns).
func TestEstimateUsesTheSchedule(t *testing.T) {
	shared := func(load string) string { return limitPlan(load, "", "") }
	users := func(level int) string {
		return fmt.Sprintf(`load {
    model = "users"
    stage {
      duration = "1m"
      target   = %d
    }
    stage {
      duration = "1m"
      target   = 0
    }
  }`, level)
	}
	tests := []struct {
		name, src string
		in        needInput
		vus       int // the peak, worked out by hand
	}{
		{name: "users, weights 3:1", src: shared(usersLoad), vus: 1000},
		{name: "users, --vus", src: shared(usersLoad), in: needInput{maxVUs: 70}, vus: 70},
		{name: "users, segment 2/3", src: shared(usersLoad), in: needInput{segment: executor.Segment{Index: 2, Total: 3}}, vus: 333},
		{name: "users, --duration", src: shared(usersLoad), in: needInput{duration: 30 * time.Second}, vus: 1000},
		{name: "arrival rate, max_vus", src: shared(`load {
  model             = "arrival_rate"
  pre_allocated_vus = 2
  max_vus           = 40
  stage {
    duration = "1m"
    target   = 50
  }
}`), in: needInput{segment: executor.Segment{Index: 1, Total: 4}}, vus: 10},
		// max_vus 1 split 3:1 gives b none; its pool holds one all the same.
		{name: "arrival rate, a pool per scenario", src: shared(`load {
  model             = "arrival_rate"
  pre_allocated_vus = 1
  max_vus           = 1
  stage {
    duration = "1m"
    target   = 5
  }
}`), vus: 2},
		{name: "per-VU iterations, segment 2/3", src: shared(`load {
  model      = "per_vu_iterations"
  vus        = 10
  iterations = 1
}`), in: needInput{segment: executor.Segment{Index: 2, Total: 3}}, vus: 3},
		{name: "shared iterations: a share needs a VU", src: shared(`load {
  model      = "shared_iterations"
  vus        = 1
  iterations = 4
}`), vus: 2},
		// a peaks at 1m (100), b at 1m too (200): 300; --scenario a leaves 100.
		{name: "overlapping loads", src: ownLoads(users(100), users(200)), vus: 300},
		{name: "--scenario", src: ownLoads(users(100), users(200)), in: needInput{scenarios: []string{"a"}}, vus: 100},
		{name: "overlapping loads, --vus caps each", src: ownLoads(users(100), users(200)), in: needInput{maxVUs: 150}, vus: 250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadSrc(t, tt.src, "http://127.0.0.1:8000")
			sched, err := schedule(p, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			n := mustNeed(t, p, tt.in)
			if got := [...]int{n.memVUs, sched.PeakVUs()}; got != [...]int{tt.vus, tt.vus} {
				t.Errorf("estimate's VU peak, Schedule.PeakVUs = %v, want %d", got, tt.vus)
			}
		})
	}
}

// TestPlanEstimatesWithTheOverrides: `loadplan plan --vus 100` estimates the capped run, as apply
// checks it. stress.hcl runs 200 VUs on one target.
func TestPlanEstimatesWithTheOverrides(t *testing.T) {
	r := runCLI(t, "plan", "--vus", "100", "../../plans/stress.hcl")
	if want := "At peak: about 132 open files and 34.4 MiB of memory"; !strings.Contains(r.stdout, want) {
		t.Errorf("plan output lacks %q:\n%s", want, r.stdout)
	}
}
