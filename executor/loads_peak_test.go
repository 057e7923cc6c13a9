package executor

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/loadplan/loadplan/plan"
)

// weightedOf builds a plan whose scenarios "a" (weight 3) and "b" (weight 1) share the
// plan-level load l, each with one GET of url.
func weightedOf(l *plan.Load, url string) *plan.Plan {
	p := &plan.Plan{Load: l}
	for _, sc := range []struct {
		name   string
		weight int
	}{{"a", 3}, {"b", 1}} {
		st := &plan.Step{Kind: plan.HTTPStepKind, HTTP: httpStepOf(sc.name, "get", "GET", url)}
		p.Scenarios = append(p.Scenarios, &plan.Scenario{Name: sc.name, Weight: sc.weight, Steps: []*plan.Step{st}})
	}
	return p
}

// ownLoadsOf builds a plan with one scenario per load, each with its own load block, named
// "s1", "s2", … in order.
func ownLoadsOf(loads ...*plan.Load) *plan.Plan {
	p := &plan.Plan{}
	for i, l := range loads {
		name := "s" + string(rune('1'+i))
		st := &plan.Step{Kind: plan.HTTPStepKind, HTTP: httpStepOf(name, "get", "GET", "http://127.0.0.1:1")}
		p.Scenarios = append(p.Scenarios, &plan.Scenario{Name: name, Weight: 1, Load: withDefaults(l), Steps: []*plan.Step{st}})
	}
	return p
}

// compiled returns the schedule the executor compiles for p.
func compiled(t *testing.T, p *plan.Plan, cfg Config) *Schedule {
	t.Helper()
	cfg.Plan = p
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e.Schedule()
}

// TestScheduleScenarioVUs: a shared load's VUs split 3:1 as the groups split them, with the pools
// and shares that need a VU given one, from the start to the end included and none after.
func TestScheduleScenarioVUs(t *testing.T) {
	users := &plan.Load{Model: plan.Users, Stages: stagesOf(10, 100, 10, 0)}
	open := &plan.Load{Model: plan.ArrivalRate, PreAllocatedVUs: 1, MaxVUs: 2, Stages: stagesOf(10, 5)}
	shared := &plan.Load{Model: plan.SharedIterations, VUs: 1, Iterations: 4, MaxDuration: 30 * time.Second}
	perVU := &plan.Load{Model: plan.PerVUIterations, VUs: 10, Iterations: 1, MaxDuration: 30 * time.Second}
	const s = time.Second
	cases := []struct {
		name string
		l    *plan.Load
		cfg  Config
		at   time.Duration
		want []int
	}{
		{"users at the peak", users, Config{}, 10 * s, []int{75, 25}},
		{"users mid ramp, 33 split by the largest remainder", users, Config{}, 3300 * time.Millisecond, []int{25, 8}},
		{"users at the end", users, Config{}, 20 * s, []int{0, 0}},
		{"users after the end", users, Config{}, 21 * s, nil},
		{"users before the start", users, Config{}, -s, nil},
		{"users, --vus", users, Config{MaxVUs: 10}, 10 * s, []int{8, 2}},
		{"users, segment 2/3", users, Config{Segment: Segment{2, 3}}, 10 * s, []int{25, 8}},
		{"arrival rate: max_vus 2 gives b a pool of one", open, Config{}, 0, []int{2, 1}},
		{"arrival rate at its end", open, Config{}, 10 * s, []int{2, 1}},
		{"arrival rate after its end", open, Config{}, 11 * s, nil},
		{"shared iterations: b's share of iterations needs a VU", shared, Config{}, 0, []int{1, 1}},
		{"shared iterations until max_duration", shared, Config{}, 30 * s, []int{1, 1}},
		{"shared iterations, --duration cuts max_duration", shared, Config{Duration: 5 * s}, 6 * s, nil},
		// 8 + 2 VUs numbered a, a, …, a, b, b: segment 2 runs VUs 1, 4, 7 (of a); b's 8 and 9 run on 3 and 1.
		{"per-VU iterations, segment 2/3 of 10", perVU, Config{Segment: Segment{2, 3}}, 0, []int{3, 0}},
		{"per-VU iterations: no share, no VU", &plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 4}, Config{}, 0, []int{1, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ls := compiled(t, weightedOf(withDefaults(c.l), "http://127.0.0.1:1"), c.cfg).Loads[0]
			if got := ls.ScenarioVUs(c.at); !slices.Equal(got, c.want) {
				t.Errorf("ScenarioVUs(%s) = %v, want %v", c.at, got, c.want)
			}
		})
	}
}

// TestScheduleInstants: the start, every stage's end and every load's end, ascending, once each;
// --duration scales them.
func TestScheduleInstants(t *testing.T) {
	const s = time.Second
	p := ownLoadsOf(
		&plan.Load{Model: plan.Users, Stages: stagesOf(10, 100, 10, 0)},
		&plan.Load{Model: plan.ArrivalRate, MaxVUs: 5, Stages: stagesOf(5, 10, 15, 10)},
		&plan.Load{Model: plan.PerVUIterations, VUs: 5, Iterations: 1, MaxDuration: 15 * s},
	)
	for _, c := range []struct {
		name string
		cfg  Config
		want []time.Duration
	}{
		{"as planned", Config{}, []time.Duration{0, 5 * s, 10 * s, 15 * s, 20 * s}},
		{"--duration 10s halves the stages and cuts max_duration", Config{Duration: 10 * s}, []time.Duration{0, 2500 * time.Millisecond, 5 * s, 10 * s}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := compiled(t, p, c.cfg).Instants(); !slices.Equal(got, c.want) {
				t.Errorf("Instants() = %v, want %v", got, c.want)
			}
		})
	}
}

// TestSchedulePeakVUsOverTime: the sum of concurrent loads, each counted only while it runs.
func TestSchedulePeakVUsOverTime(t *testing.T) {
	const s = time.Second
	rampTo := func(level float64) *plan.Load { return &plan.Load{Model: plan.Users, Stages: stagesOf(60, level)} }
	for _, c := range []struct {
		name  string
		loads []*plan.Load
		cfg   Config
		want  int
	}{
		// 500 VUs until max_duration 30s, when the ramp is halfway to 300.
		{"an iterations load's end is a peak", []*plan.Load{
			{Model: plan.PerVUIterations, VUs: 500, Iterations: 1000, MaxDuration: 30 * s}, rampTo(300)}, Config{}, 650},
		// --duration 20s scales the ramp to 20s and cuts max_duration to 20s: both at their top.
		{"--duration lines the ends up", []*plan.Load{
			{Model: plan.PerVUIterations, VUs: 500, Iterations: 1000, MaxDuration: 30 * s}, rampTo(300)}, Config{Duration: 20 * s}, 800},
		// The first load ends at 1m holding 300; the second reaches 200 at 2m: 300 + 100 at 1m.
		{"a users load that ended holds none", []*plan.Load{
			rampTo(300), {Model: plan.Users, Stages: stagesOf(120, 200)}}, Config{}, 400},
		// max_vus until the end of its stages, included, when the ramp reaches 100.
		{"arrival rate to its end", []*plan.Load{
			{Model: plan.ArrivalRate, MaxVUs: 40, Stages: stagesOf(60, 10)}, rampTo(100)}, Config{}, 140},
		{"--vus caps each load", []*plan.Load{rampTo(300), rampTo(100)}, Config{MaxVUs: 150}, 250},
		{"segment 1/2 of each", []*plan.Load{rampTo(301), rampTo(101)}, Config{Segment: Segment{1, 2}}, 151 + 51},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := compiled(t, ownLoadsOf(c.loads...), c.cfg).PeakVUs(); got != c.want {
				t.Errorf("PeakVUs() = %d, want %d", got, c.want)
			}
		})
	}
}

// TestSchedulePeakVUsIsWhatRuns holds the schedule to what the executor allocates (its vus_max)
// on a loopback server, model by model, with weights, --vus and segments; the server's count of
// requests is the executor's count of iterations (one GET each).
func TestSchedulePeakVUsIsWhatRuns(t *testing.T) {
	flat := &plan.Load{Model: plan.Users, StartVUs: 9, Stages: stagesOf(0.1, 9)}
	for _, c := range []struct {
		name string
		l    *plan.Load
		cfg  Config
		want int
	}{
		{"users from the start, weights 3:1", flat, Config{}, 9},
		{"users, --vus", flat, Config{MaxVUs: 5}, 5},
		{"per-VU iterations, segment 2/3", &plan.Load{Model: plan.PerVUIterations, VUs: 10, Iterations: 1}, Config{Segment: Segment{2, 3}}, 3},
		{"shared iterations: a share needs a VU", &plan.Load{Model: plan.SharedIterations, VUs: 1, Iterations: 4}, Config{}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newCounter(t, nil)
			cfg := c.cfg
			cfg.Plan = weightedOf(withDefaults(c.l), srv.URL+"/ok")
			e, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if res := e.Run(ctx); res.Err != nil {
				t.Fatal(res.Err)
			}
			st := e.Status()
			if got := [...]int{st.MaxVUs, e.Schedule().PeakVUs()}; got != [...]int{c.want, c.want} {
				t.Errorf("allocated, scheduled VUs = %v, want %d", got, c.want)
			}
			if hits := srv.hits.Load(); hits < 1 || uint64(hits) != st.Iterations {
				t.Errorf("the server received %d requests, the executor ran %d iterations", hits, st.Iterations)
			}
		})
	}
}
