package executor

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// TestUsersRunTheSchedule: the closed model's active VUs are the schedule's VUs(elapsed) at every
// controller tick — ramp up, plateau, ramp down — with --vus and a segment applied. The iteration
// (a 10 ms sleep) ends well before the next tick, so a VU told to go is gone 20 ms after the tick.
func TestUsersRunTheSchedule(t *testing.T) {
	const ms = time.Millisecond
	l := withDefaults(&plan.Load{Model: plan.Users, Stages: stagesOf(1, 10, 1, 10, 1, 0)})
	at := []time.Duration{0, 100 * ms, 500 * ms, 950 * ms, 1500 * ms, 2100 * ms, 2500 * ms, 2900 * ms}
	cases := []struct {
		name string
		cfg  Config
		want []int // active VUs 20 ms after each tick in at
	}{
		{"whole plan", Config{}, []int{0, 1, 5, 9, 10, 9, 5, 1}},
		{"--vus 7", Config{MaxVUs: 7}, []int{0, 1, 5, 7, 7, 7, 5, 1}},
		{"segment 2/3", Config{Segment: Segment{2, 3}}, []int{0, 0, 2, 3, 3, 3, 2, 0}},
	}
	for _, c := range cases {
		synctest.Test(t, func(t *testing.T) {
			c.cfg.Plan, c.cfg.Sink = sleepPlan(l, 10*ms), newCollector()
			e, err := New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			sch := e.Schedule().Loads[0]
			done := make(chan Result, 1)
			start := time.Now()
			go func() { done <- e.Run(context.Background()) }()
			for i, tick := range at {
				time.Sleep(time.Until(start.Add(tick + 20*ms)))
				synctest.Wait()
				if got := e.Status().VUs; got != c.want[i] || got != sch.VUs(tick) {
					t.Errorf("%s: %d VUs active at %s, want %d (the schedule says %d)", c.name, got, tick, c.want[i], sch.VUs(tick))
				}
			}
			res := <-done
			if res.Interrupted || res.Aborted || res.End.Sub(res.Start) < sch.Duration {
				t.Errorf("%s: result %+v", c.name, res)
			}
		})
	}
}

// TestOpenModelRunsThePace: every iteration of the arrival-rate model starts exactly when Pace
// says, on the bubble's clock: schedule_lag is 0 for each, and the count is the schedule's.
func TestOpenModelRunsThePace(t *testing.T) {
	l := withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 20, PreAllocatedVUs: 2, MaxVUs: 4,
		Stages: stagesOf(1, 20, 1, 60)})
	for _, c := range []struct {
		seg  Segment
		want float64
	}{{Segment{}, 60}, {Segment{1, 2}, 30}, {Segment{2, 2}, 30}} {
		seg := c.seg
		synctest.Test(t, func(t *testing.T) {
			col := newCollector()
			e, err := New(Config{Plan: sleepPlan(l, 10*time.Millisecond), Sink: col, Segment: seg})
			if err != nil {
				t.Fatal(err)
			}
			res := e.Run(context.Background())
			want := c.want // 20 + 40 for the whole plan
			if s := e.Schedule().ExpectedIterations(); s != want {
				t.Errorf("segment %+v: the schedule expects %v iterations, want %v", seg, s, want)
			}
			lag := col.series(metrics.ScheduleLag)
			if got := col.sum(metrics.Iterations); got != want || float64(lag.Count) != want || lag.Max != 0 {
				t.Errorf("segment %+v: %v iterations, %d lag samples (max %v); want %v, on time", seg, got, lag.Count, lag.Max, want)
			}
			if d := col.sum(metrics.DroppedIterations); d != 0 || res.Saturated {
				t.Errorf("segment %+v: dropped %v", seg, d)
			}
		})
	}
}
