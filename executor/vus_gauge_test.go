package executor

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// gaugeSink keeps the vus and vus_max samples and counts iterations.
type gaugeSink struct {
	mu         sync.Mutex // guards the fields: VUs and the clock push concurrently
	vus, max   []float64
	iterations float64
}

func (g *gaugeSink) Push(batch []metrics.Sample) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, s := range batch {
		switch s.Metric {
		case metrics.VUs:
			g.vus = append(g.vus, s.Value)
		case metrics.VUsMax:
			g.max = append(g.max, s.Value)
		case metrics.Iterations:
			g.iterations += s.Value
		}
	}
}

// sleepPlan is a one-scenario plan whose iterations only sleep for d: no network, so that it
// runs inside a synctest bubble on the fake clock (the gauge and schedule tests use it).
func sleepPlan(l *plan.Load, d time.Duration) *plan.Plan {
	sc := &plan.Scenario{Name: "s", Weight: 1, MetricTags: &metrics.Tags{Scenario: "s"}}
	sc.Steps = []*plan.Step{{Kind: plan.SleepStepKind, Sleep: plan.ThinkTime{Min: d, Max: d}}}
	return &plan.Plan{Scenarios: []*plan.Scenario{sc}, Load: l}
}

// runGauges runs p to the end and returns what the sink saw.
func runGauges(t *testing.T, p *plan.Plan) *gaugeSink {
	t.Helper()
	g := &gaugeSink{}
	e, err := New(Config{Plan: p, Sink: g, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.Run(context.Background()); res.Err != nil || res.Aborted || res.Saturated {
		t.Fatalf("run: %+v", res)
	}
	return g
}

// A run shorter than the clock's first tick takes only the final sample, when every VU has
// ended: that sample must still show the VU that ran (it showed 0, so the summary said
// "vus max=0" for a one-VU run).
func TestVUsGaugeShortRunShowsTheVUThatRan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := withDefaults(&plan.Load{Model: plan.Users, StartVUs: 1, Stages: []plan.Stage{{Duration: 300 * time.Millisecond, Target: 1}}})
		g := runGauges(t, sleepPlan(l, 70*time.Millisecond))
		t.Logf("vus %v, vus_max %v, iterations %v", g.vus, g.max, g.iterations)
		// Iterations start at 0, 70, ... 280 ms; none at 300 ms, where it would race the stop.
		if g.iterations != 5 {
			t.Errorf("iterations %v, want 5 (300 ms of 70 ms iterations)", g.iterations)
		}
		if len(g.vus) != 1 || g.vus[0] != 1 || len(g.max) != 1 || g.max[0] != 1 {
			t.Errorf("vus samples %v, vus_max samples %v; want [1] and [1]", g.vus, g.max)
		}
	})
}

// An arrival-rate VU that is idle whenever the clock samples must still be seen: each sample
// reports the most VUs active at once since the previous one.
func TestVUsGaugeSeesIterationsBetweenSamples(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// One iteration every 400 ms (0, 0.4, ... 1.6 s) of 50 ms each: none is running at the
		// 1 s tick or at the end.
		l := withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 2.5, PreAllocatedVUs: 1, MaxVUs: 1,
			Stages: []plan.Stage{{Duration: 1900 * time.Millisecond, Target: 2.5}}})
		g := runGauges(t, sleepPlan(l, 50*time.Millisecond))
		t.Logf("vus %v, vus_max %v, iterations %v", g.vus, g.max, g.iterations)
		if g.iterations != 5 {
			t.Errorf("iterations %v, want 5", g.iterations)
		}
		if len(g.vus) != 2 || g.vus[0] != 1 || g.vus[1] != 1 {
			t.Errorf("vus samples %v, want [1 1] (the 1 s tick and the end)", g.vus)
		}
	})
}

// With nothing active since the previous sample, a sample is 0: the peak does not stick.
func TestVUsCountPeakIsPerInterval(t *testing.T) {
	var c vuCount
	a, b := activeFlag{count: &c}, activeFlag{count: &c}
	a.Store(true)
	b.Store(true)
	b.Store(true) // no change: counted once
	a.Store(false)
	if got := c.sample(); got != 2 {
		t.Errorf("first sample %d, want 2 (both were active at once)", got)
	}
	if got := c.sample(); got != 1 {
		t.Errorf("second sample %d, want 1 (b is still active)", got)
	}
	b.Store(false)
	b.Store(false)
	if got := c.sample(); got != 1 {
		t.Errorf("third sample %d, want 1 (b ran in the interval)", got)
	}
	if got := c.sample(); got != 0 {
		t.Errorf("fourth sample %d, want 0 (nothing ran)", got)
	}
}
