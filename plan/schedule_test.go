package plan

import (
	"math"
	"testing"
	"time"
)

func stages(pairs ...float64) []Stage {
	var out []Stage
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Stage{Duration: time.Duration(pairs[i] * float64(time.Second)), Target: pairs[i+1]})
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestVUsAt(t *testing.T) {
	ramp := &Load{Model: Users, StartVUs: 0, Stages: stages(10, 10, 20, 10, 10, 0)}
	withStart := &Load{Model: Users, StartVUs: 4, Stages: stages(4, 8)}
	iters := &Load{Model: PerVUIterations, VUs: 3, Iterations: 5, MaxDuration: time.Minute}
	open := &Load{Model: ArrivalRate, PreAllocatedVUs: 7, MaxVUs: 9, Stages: stages(10, 5)}
	cases := []struct {
		name string
		l    *Load
		t    time.Duration
		want float64
	}{
		{"before start", ramp, -time.Second, 0},
		{"start", ramp, 0, 0},
		{"mid ramp up", ramp, 5 * time.Second, 5},
		{"end of ramp up", ramp, 10 * time.Second, 10},
		{"plateau", ramp, 25 * time.Second, 10},
		{"mid ramp down", ramp, 35 * time.Second, 5},
		{"end", ramp, 40 * time.Second, 0},
		{"after end", ramp, time.Hour, 0},
		{"start_vus", withStart, 0, 4},
		{"from start_vus", withStart, 2 * time.Second, 6},
		{"iterations model", iters, 30 * time.Second, 3},
		{"iterations model after max_duration", iters, 2 * time.Minute, 0},
		{"arrival rate: pre-allocated", open, 5 * time.Second, 7},
	}
	for _, c := range cases {
		if got := c.l.VUsAt(c.t); !near(got, c.want) {
			t.Errorf("%s: VUsAt(%s) = %g, want %g", c.name, c.t, got, c.want)
		}
	}
}

func TestRateAt(t *testing.T) {
	perSecond := &Load{Model: ArrivalRate, StartRate: 10, TimeUnit: time.Second, Stages: stages(10, 30, 10, 30, 5, 0)}
	perMinute := &Load{Model: ArrivalRate, StartRate: 60, TimeUnit: time.Minute, Stages: stages(60, 120)}
	cases := []struct {
		name string
		l    *Load
		t    time.Duration
		want float64
	}{
		{"start rate", perSecond, 0, 10},
		{"ramp", perSecond, 5 * time.Second, 20},
		{"plateau", perSecond, 15 * time.Second, 30},
		{"ramp down", perSecond, 22500 * time.Millisecond, 15},
		{"after end", perSecond, time.Minute, 0},
		{"time_unit 1m", perMinute, 0, 1},
		{"time_unit 1m ramp", perMinute, 30 * time.Second, 1.5},
		{"users model has no planned rate", &Load{Model: Users, Stages: stages(1, 1)}, 0, 0},
	}
	for _, c := range cases {
		if got := c.l.RateAt(c.t); !near(got, c.want) {
			t.Errorf("%s: RateAt(%s) = %g, want %g", c.name, c.t, got, c.want)
		}
	}
}

func TestExpectedIterations(t *testing.T) {
	cases := []struct {
		name string
		l    *Load
		want float64
	}{
		{"constant 20/s for 10s", &Load{Model: ArrivalRate, StartRate: 20, TimeUnit: time.Second, Stages: stages(10, 20)}, 200},
		{"ramp 0→10/s over 10s", &Load{Model: ArrivalRate, TimeUnit: time.Second, Stages: stages(10, 10)}, 50},
		{"ramp and plateau", &Load{Model: ArrivalRate, StartRate: 10, TimeUnit: time.Second, Stages: stages(60, 50, 120, 50, 30, 0)}, 1800 + 6000 + 750},
		{"per minute", &Load{Model: ArrivalRate, StartRate: 60, TimeUnit: time.Minute, Stages: stages(60, 60)}, 60},
		{"zero time unit counts as 1s", &Load{Model: ArrivalRate, StartRate: 2, Stages: stages(3, 2)}, 6},
		{"per VU", &Load{Model: PerVUIterations, VUs: 4, Iterations: 25}, 100},
		{"shared", &Load{Model: SharedIterations, VUs: 4, Iterations: 25}, 25},
		{"users", &Load{Model: Users, Stages: stages(10, 10)}, 0},
	}
	for _, c := range cases {
		if got := c.l.ExpectedIterations(); !near(got, c.want) {
			t.Errorf("%s: ExpectedIterations() = %g, want %g", c.name, got, c.want)
		}
	}
	l := &Load{Model: ArrivalRate, StartRate: 10, TimeUnit: time.Second, Stages: stages(60, 50, 120, 50, 30, 0)}
	sum := 0.0
	for i := range l.Stages {
		sum += l.StageIterations(i)
	}
	if !near(sum, l.ExpectedIterations()) || !near(l.StageIterations(0), 1800) {
		t.Errorf("StageIterations: sum %g, first %g", sum, l.StageIterations(0))
	}
}

func TestPeaksAndDuration(t *testing.T) {
	l := &Load{Model: Users, StartVUs: 3, Stages: stages(10, 2, 5, 8, 5, 1)}
	eq(t, "PeakVUs", l.PeakVUs(), 8)
	eq(t, "Duration", l.Duration(), 20*time.Second)
	eq(t, "StageStart(2)", l.StageStart(2), 15*time.Second)
	o := &Load{Model: ArrivalRate, StartRate: 120, TimeUnit: time.Minute, MaxVUs: 9, Stages: stages(10, 60)}
	eq(t, "PeakRate", o.PeakRate(), 2.0)
	eq(t, "open PeakVUs", o.PeakVUs(), 9)
	it := &Load{Model: SharedIterations, VUs: 2, Iterations: 5, MaxDuration: time.Minute}
	eq(t, "iterations Duration", it.Duration(), time.Minute)
}
