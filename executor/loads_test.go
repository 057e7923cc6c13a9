package executor

import (
	"math"
	"testing"
	"time"

	"github.com/loadplan/loadplan/plan"
)

// stagesOf builds stages from (seconds, target) pairs.
func stagesOf(pairs ...float64) []plan.Stage {
	var out []plan.Stage
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, plan.Stage{Duration: time.Duration(pairs[i] * float64(time.Second)), Target: pairs[i+1]})
	}
	return out
}

// scheduleOf compiles l as the plan-level load of a one-step plan and returns its schedule.
func scheduleOf(t *testing.T, l *plan.Load, cfg Config) *LoadSchedule {
	t.Helper()
	cfg.Plan = planOf(l, httpStepOf("s", "a", "GET", "http://127.0.0.1:1"))
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e.Schedule().Loads[0]
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestScheduleVUs(t *testing.T) {
	ramp := &plan.Load{Model: plan.Users, StartVUs: 0, Stages: stagesOf(10, 10, 20, 10, 10, 0)}
	withStart := &plan.Load{Model: plan.Users, StartVUs: 4, Stages: stagesOf(4, 8)}
	iters := &plan.Load{Model: plan.PerVUIterations, VUs: 3, Iterations: 5, MaxDuration: time.Minute}
	open := &plan.Load{Model: plan.ArrivalRate, PreAllocatedVUs: 7, MaxVUs: 9, Stages: stagesOf(10, 5)}
	big := &plan.Load{Model: plan.Users, Stages: stagesOf(10, 100)}
	cases := []struct {
		name string
		l    *plan.Load
		cfg  Config
		t    time.Duration
		want int
	}{
		{"before start", ramp, Config{}, -time.Second, 0},
		{"start", ramp, Config{}, 0, 0},
		{"mid ramp up", ramp, Config{}, 5 * time.Second, 5},
		{"a VU more only when the ramp reaches it", ramp, Config{}, 5*time.Second - time.Millisecond, 4},
		{"end of ramp up", ramp, Config{}, 10 * time.Second, 10},
		{"plateau", ramp, Config{}, 25 * time.Second, 10},
		{"mid ramp down", ramp, Config{}, 35 * time.Second, 5},
		{"end", ramp, Config{}, 40 * time.Second, 0},
		{"after end", ramp, Config{}, time.Hour, 0},
		{"start_vus", withStart, Config{}, 0, 4},
		{"from start_vus", withStart, Config{}, 2 * time.Second, 6},
		{"iterations model", iters, Config{}, 30 * time.Second, 3},
		{"iterations model after max_duration", iters, Config{}, 2 * time.Minute, 0},
		{"arrival rate: pre-allocated", open, Config{}, 5 * time.Second, 7},
		{"--vus caps the ramp", big, Config{MaxVUs: 30}, 5 * time.Second, 30},
		{"--vus under the ramp", big, Config{MaxVUs: 30}, 2 * time.Second, 20},
		{"segment 1/3 of 50", big, Config{Segment: Segment{1, 3}}, 5 * time.Second, 17},
		{"segment 2/3 of 50", big, Config{Segment: Segment{2, 3}}, 5 * time.Second, 17},
		{"segment 3/3 of 50", big, Config{Segment: Segment{3, 3}}, 5 * time.Second, 16},
		{"--duration halves the stages", big, Config{Duration: 5 * time.Second}, 2500 * time.Millisecond, 50},
		{"iterations: segment and cap", iters, Config{Segment: Segment{1, 2}, MaxVUs: 1}, 0, 1},
		{"iterations: --duration caps max_duration", iters, Config{Duration: 10 * time.Second}, 11 * time.Second, 0},
		{"arrival rate: segment of pre-allocated", open, Config{Segment: Segment{2, 2}}, 0, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := scheduleOf(t, withDefaults(c.l), c.cfg).VUs(c.t); got != c.want {
				t.Errorf("VUs(%s) = %d, want %d", c.t, got, c.want)
			}
		})
	}
}

func TestScheduleRate(t *testing.T) {
	perSecond := &plan.Load{Model: plan.ArrivalRate, StartRate: 10, TimeUnit: time.Second, Stages: stagesOf(10, 30, 10, 30, 5, 0)}
	perMinute := &plan.Load{Model: plan.ArrivalRate, StartRate: 60, TimeUnit: time.Minute, Stages: stagesOf(60, 120)}
	cases := []struct {
		name string
		l    *plan.Load
		cfg  Config
		t    time.Duration
		want float64
	}{
		{"start rate", perSecond, Config{}, 0, 10},
		{"ramp", perSecond, Config{}, 5 * time.Second, 20},
		{"plateau", perSecond, Config{}, 15 * time.Second, 30},
		{"ramp down", perSecond, Config{}, 22500 * time.Millisecond, 15},
		{"after end", perSecond, Config{}, time.Minute, 0},
		{"time_unit 1m", perMinute, Config{}, 0, 1},
		{"time_unit 1m ramp", perMinute, Config{}, 30 * time.Second, 1.5},
		{"users model has no planned rate", &plan.Load{Model: plan.Users, Stages: stagesOf(1, 1)}, Config{}, 0, 0},
		{"segment 1/2 starts half", perSecond, Config{Segment: Segment{1, 2}}, 15 * time.Second, 15},
		{"--duration 12.5s scales by 1/2", perSecond, Config{Duration: 12500 * time.Millisecond}, 2500 * time.Millisecond, 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := scheduleOf(t, withDefaults(c.l), c.cfg).Rate(c.t); !near(got, c.want) {
				t.Errorf("Rate(%s) = %g, want %g", c.t, got, c.want)
			}
		})
	}
}

func TestScheduleExpectedIterations(t *testing.T) {
	rampPlateau := &plan.Load{Model: plan.ArrivalRate, StartRate: 10, TimeUnit: time.Second, Stages: stagesOf(60, 50, 120, 50, 30, 0)}
	cases := []struct {
		name string
		l    *plan.Load
		cfg  Config
		want float64
	}{
		{"constant 20/s for 10s", &plan.Load{Model: plan.ArrivalRate, StartRate: 20, TimeUnit: time.Second, Stages: stagesOf(10, 20)}, Config{}, 200},
		{"ramp 0→10/s over 10s", &plan.Load{Model: plan.ArrivalRate, TimeUnit: time.Second, Stages: stagesOf(10, 10)}, Config{}, 50},
		{"ramp and plateau", rampPlateau, Config{}, 1800 + 6000 + 750},
		{"per minute", &plan.Load{Model: plan.ArrivalRate, StartRate: 60, TimeUnit: time.Minute, Stages: stagesOf(60, 60)}, Config{}, 60},
		{"a fraction of an iteration is one more", &plan.Load{Model: plan.ArrivalRate, StartRate: 2.5, TimeUnit: time.Second, Stages: stagesOf(1, 2.5)}, Config{}, 3},
		{"per VU", &plan.Load{Model: plan.PerVUIterations, VUs: 4, Iterations: 25}, Config{}, 100},
		{"shared", &plan.Load{Model: plan.SharedIterations, VUs: 4, Iterations: 25}, Config{}, 25},
		{"users", &plan.Load{Model: plan.Users, Stages: stagesOf(10, 10)}, Config{}, 0},
		{"segment 1/4 of 8550", rampPlateau, Config{Segment: Segment{1, 4}}, 2138},
		{"segment 4/4 of 8550", rampPlateau, Config{Segment: Segment{4, 4}}, 2137},
		{"--duration 1m05s scales 3m30s by 13/42: 2646.4 iterations", rampPlateau, Config{Duration: 65 * time.Second}, 2647},
		{"per VU, --vus 3", &plan.Load{Model: plan.PerVUIterations, VUs: 4, Iterations: 25}, Config{MaxVUs: 3}, 75},
		// VUs 2, 1, 1; the iterations follow them: 13, 6, 6.
		{"shared, segment 2/3", &plan.Load{Model: plan.SharedIterations, VUs: 4, Iterations: 25}, Config{Segment: Segment{2, 3}}, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := scheduleOf(t, withDefaults(c.l), c.cfg).ExpectedIterations(); !near(got, c.want) {
				t.Errorf("ExpectedIterations() = %g, want %g", got, c.want)
			}
		})
	}
}

// TestScheduleSegmentsSumToThePlan: the segments' expected iterations add up to the plan's.
func TestScheduleSegmentsSumToThePlan(t *testing.T) {
	l := withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 10, TimeUnit: time.Second, Stages: stagesOf(60, 50, 120, 50, 30, 0)})
	for total := 1; total <= 7; total++ {
		sum := 0.0
		for i := 1; i <= total; i++ {
			sum += scheduleOf(t, l, Config{Segment: Segment{i, total}}).ExpectedIterations()
		}
		if sum != 8550 {
			t.Errorf("%d segments expect %v iterations, want 8550", total, sum)
		}
	}
}

func TestScheduleStages(t *testing.T) {
	users := withDefaults(&plan.Load{Model: plan.Users, StartVUs: 3, Stages: stagesOf(10, 2, 5, 8, 5, 1)})
	open := withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 10, TimeUnit: time.Second, MaxVUs: 9,
		Stages: stagesOf(60, 50, 120, 50, 30, 0)})
	const s = time.Second
	cases := []struct {
		name     string
		l        *plan.Load
		cfg      Config
		stages   []Stage
		peakVUs  int
		peakRate float64
	}{
		{"users", users, Config{}, []Stage{{0, 10 * s, 3, 2, 0}, {10 * s, 15 * s, 2, 8, 0}, {15 * s, 20 * s, 8, 1, 0}}, 8, 0},
		{"users, --duration 10s", users, Config{Duration: 10 * s},
			[]Stage{{0, 5 * s, 3, 2, 0}, {5 * s, 7500 * time.Millisecond, 2, 8, 0}, {7500 * time.Millisecond, 10 * s, 8, 1, 0}}, 8, 0},
		{"users, --vus 5", users, Config{MaxVUs: 5}, []Stage{{0, 10 * s, 3, 2, 0}, {10 * s, 15 * s, 2, 5, 0}, {15 * s, 20 * s, 5, 1, 0}}, 5, 0},
		{"users, segment 2/2", users, Config{Segment: Segment{2, 2}}, []Stage{{0, 10 * s, 1, 1, 0}, {10 * s, 15 * s, 1, 4, 0}, {15 * s, 20 * s, 4, 0, 0}}, 4, 0},
		{"arrival rate", open, Config{}, []Stage{{0, 60 * s, 10, 50, 1800}, {60 * s, 180 * s, 50, 50, 6000}, {180 * s, 210 * s, 50, 0, 750}}, 9, 50},
		{"arrival rate, segment 1/2", open, Config{Segment: Segment{1, 2}},
			[]Stage{{0, 60 * s, 5, 25, 900}, {60 * s, 180 * s, 25, 25, 3000}, {180 * s, 210 * s, 25, 0, 375}}, 5, 25},
		{"arrival rate, --vus 4", open, Config{MaxVUs: 4}, []Stage{{0, 60 * s, 10, 50, 1800}, {60 * s, 180 * s, 50, 50, 6000}, {180 * s, 210 * s, 50, 0, 750}}, 4, 50},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ls := scheduleOf(t, c.l, c.cfg)
			if len(ls.Stages) != len(c.stages) {
				t.Fatalf("stages %+v, want %+v", ls.Stages, c.stages)
			}
			for i, st := range ls.Stages {
				w := c.stages[i]
				if st.Start != w.Start || st.End != w.End || !near(st.From, w.From) || !near(st.To, w.To) || !near(st.Iterations, w.Iterations) {
					t.Errorf("stage %d = %+v, want %+v", i+1, st, w)
				}
			}
			if ls.PeakVUs != c.peakVUs || !near(ls.PeakRate(), c.peakRate) {
				t.Errorf("peak %d VUs, %g/s; want %d, %g", ls.PeakVUs, ls.PeakRate(), c.peakVUs, c.peakRate)
			}
			if ls.Duration != c.stages[len(c.stages)-1].End {
				t.Errorf("duration %s, want %s", ls.Duration, c.stages[len(c.stages)-1].End)
			}
		})
	}
}

// TestSchedulePace: Pace walks this instance's iterations of the pacer, in order, and stops after
// the last; a late iteration has a negative wait.
func TestSchedulePace(t *testing.T) {
	l := withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 10, TimeUnit: time.Second, Stages: stagesOf(1, 10)})
	const ms = time.Millisecond
	cases := []struct {
		name    string
		seg     Segment
		elapsed time.Duration
		done    uint64
		wait    time.Duration
		stop    bool
	}{
		{"first at 0", Segment{}, 0, 0, 0, false},
		{"second at 100ms", Segment{}, 0, 1, 100 * ms, false},
		{"second, 30ms in", Segment{}, 30 * ms, 1, 70 * ms, false},
		{"late by 150ms", Segment{}, 250 * ms, 1, -150 * ms, false},
		{"last", Segment{}, 0, 9, 900 * ms, false},
		{"none after the last", Segment{}, 0, 10, 0, true},
		{"segment 2/3: its first is the plan's second", Segment{2, 3}, 0, 0, 100 * ms, false},
		{"segment 2/3: its second is the plan's fifth", Segment{2, 3}, 0, 1, 400 * ms, false},
		{"segment 2/3 runs 3", Segment{2, 3}, 0, 3, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wait, stop := scheduleOf(t, l, Config{Segment: c.seg}).Pace(c.elapsed, c.done)
			if d := wait - c.wait; stop != c.stop || d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("Pace(%s, %d) = %s, %v; want %s, %v", c.elapsed, c.done, wait, stop, c.wait, c.stop)
			}
		})
	}
	users := scheduleOf(t, withDefaults(&plan.Load{Model: plan.Users, Stages: stagesOf(1, 1)}), Config{})
	if _, stop := users.Pace(0, 0); !stop {
		t.Error("the users model has no pace; Pace must stop")
	}
}

// TestSchedulePeakVUsOfConcurrentLoads: loads run side by side from the start; the peak is their
// sum at the highest common point, not the sum of their peaks taken at different times.
func TestSchedulePeakVUsOfConcurrentLoads(t *testing.T) {
	p := planOf(nil)
	p.Scenarios = nil
	step := &plan.Step{Kind: plan.HTTPStepKind, HTTP: httpStepOf("x", "a", "GET", "http://127.0.0.1:1")}
	for _, sc := range []struct {
		name string
		l    *plan.Load
	}{
		{"early", withDefaults(&plan.Load{Model: plan.Users, Stages: stagesOf(10, 100, 10, 0)})},
		{"late", withDefaults(&plan.Load{Model: plan.Users, Stages: stagesOf(10, 20, 10, 60)})},
		{"iterations", withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 5, Iterations: 1, MaxDuration: 15 * time.Second})},
	} {
		p.Scenarios = append(p.Scenarios, &plan.Scenario{Name: sc.name, Weight: 1, Load: sc.l, Steps: []*plan.Step{step}})
	}
	e, err := New(Config{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	// At 10s: 100 + 20 + 5; at 20s: 0 + 60 (the iterations load ended at 15s).
	s := e.Schedule()
	if got := s.PeakVUs(); got != 125 {
		t.Errorf("peak %d VUs, want 125", got)
	}
	if s.Total != 20*time.Second || len(s.Loads) != 3 || s.Loads[1].Scenario != "late" {
		t.Errorf("total %s, %d loads", s.Total, len(s.Loads))
	}
}
