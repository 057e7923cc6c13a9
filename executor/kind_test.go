package executor

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// counterKind is a step kind that counts what the executor asks of it: a stand-in for a new
// protocol package, registered exactly as httpstep and wsstep are.
type counterKind struct {
	compiled, states, begun, ended, runs atomic.Int64
}

type counterStep struct {
	k    *counterKind
	fail bool // the step fails its VU's second iteration (iter 1)
	tags *metrics.Tags
}

type counterState struct {
	k    *counterKind
	runs int // owned by the VU goroutine: the state really is per VU
}

func (s *counterState) Begin(context.Context) { s.k.begun.Add(1) }
func (s *counterState) End()                  { s.k.ended.Add(1) }

func (st *counterStep) Run(_ context.Context, vu step.VU, state step.State) error {
	s := state.(*counterState)
	s.runs++
	st.k.runs.Add(1)
	vu.Emit(metrics.Sample{Metric: metrics.Checks, Time: time.Now().UnixNano(), Value: float64(s.runs), Tags: st.tags, Label: "counter"})
	if st.fail && vu.Runtime().Iter == 1 {
		return &step.Error{Label: "counter failed"}
	}
	return nil
}

// TestNewStepKindIsOneRegistryEntry runs a plan whose steps are of a kind the executor has never
// heard of, added as one entry in its registry: the kind is compiled once per step, gets one
// state per VU bracketed by Begin and End, runs once per step and iteration, and its samples and
// errors are counted as the built-in kinds' are.
func TestNewStepKindIsOneRegistryEntry(t *testing.T) {
	const counterStepKind plan.StepKind = 200
	k := &counterKind{}
	failing := &plan.Step{Kind: counterStepKind}
	tags := &metrics.Tags{Scenario: "s", Step: "counter"}
	kinds[counterStepKind] = step.Kind{
		Compile: func(s *plan.Step, env *step.Env) (step.Compiled, error) {
			k.compiled.Add(1)
			if env.Scenario != "s" {
				t.Errorf("compiled for scenario %q", env.Scenario)
			}
			return step.Compiled{Step: &counterStep{k: k, fail: s == failing, tags: tags}, Tags: tags}, nil
		},
		NewState: func(step.VU, []*step.Target) step.State { k.states.Add(1); return &counterState{k: k} },
	}
	defer delete(kinds, counterStepKind)

	const vus, iters = 2, 3
	sc := &plan.Scenario{Name: "s", Weight: 1, Steps: []*plan.Step{
		{Kind: counterStepKind},
		failing,
	}}
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: vus, Iterations: iters})
	col, _ := run(t, Config{Plan: &plan.Plan{Scenarios: []*plan.Scenario{sc}, Load: l}})

	if n := k.compiled.Load(); n != 2 {
		t.Errorf("compiled %d times, want 2 (once per step, not per VU)", n)
	}
	if n := k.states.Load(); n != vus {
		t.Errorf("%d states, want one per VU (%d)", n, vus)
	}
	if b, e := k.begun.Load(), k.ended.Load(); b != vus || e != vus {
		t.Errorf("Begin %d, End %d: want %d each", b, e, vus)
	}
	if n := k.runs.Load(); n != vus*iters*2 {
		t.Errorf("%d runs, want %d", n, vus*iters*2)
	}
	if n := col.sum(metrics.Iterations); n != vus*iters {
		t.Errorf("iterations %v, want %d (a failed iteration is still an iteration)", n, vus*iters)
	}
	if got := col.errors(); got["counter failed"] != vus || len(got) != 1 {
		t.Errorf("errors %v, want counter failed ×%d", got, vus)
	}
	// one state per VU: each VU's samples count 1..2·iters, whatever the other VU does
	if s := col.series(metrics.Checks); s == nil || s.Count != vus*iters*2 || s.Max != 2*iters {
		t.Errorf("checks series %+v, want %d samples up to %d", s, vus*iters*2, 2*iters)
	}
}
