package executor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// This file runs what a VU does beyond a list of steps (issue 12, plan/flow.go): `when` on a
// step, `repeat` blocks (compiled recursively: a repeat is a scenarioStep whose body is a
// compiled list), weighted tasks, and per-VU setup and teardown. vu.go's iterate drives it.

// task is a compiled plan.Task.
type task struct {
	ps    *plan.Task
	steps []*scenarioStep
	// tags are the task's own samples' (iterations, iteration_duration, a when that failed):
	// the scenario's with Task set, built once here so that the pointer is the series key.
	tags *metrics.Tags
}

// idleWait is what a VU waits after an iteration that ran no step (every task or step left
// out by its when) when nothing else paces it: such an iteration takes no time, and a VU
// drawing it again and again would be a busy loop.
const idleWait = 100 * time.Millisecond

// compileList compiles a list of plan steps (the scenario's, a task's, setup's, teardown's or
// a repeat's body) through the step-kinds registry; a repeat compiles its body the same way.
func (sc *scenario) compileList(steps []*plan.Step, env *step.Env, slots map[plan.StepKind]int, think *plan.ThinkTime, where string) ([]*scenarioStep, error) {
	var out []*scenarioStep
	for i, s := range steps {
		st := &scenarioStep{kind: s.Kind, sleep: s.Sleep, tags: sc.tags, when: s.When}
		switch s.Kind {
		case plan.SleepStepKind:
		case plan.RepeatStepKind:
			if s.Repeat == nil {
				return nil, fmt.Errorf("%sstep %d: a repeat without its body", where, i+1)
			}
			body, err := sc.compileList(s.Repeat.Steps, env, slots, think, where)
			if err != nil {
				return nil, err
			}
			st.repeat, st.body = s.Repeat, body
		default:
			k, ok := kinds[s.Kind]
			if !ok {
				return nil, fmt.Errorf("%sstep %d: unknown step kind %d", where, i+1, s.Kind)
			}
			c, err := k.Compile(s, env)
			if err != nil {
				return nil, err // the kind names the step ("http login: no url")
			}
			st.run, st.think = c.Step, think
			if c.Tags != nil {
				st.tags = c.Tags
			}
			if c.Think != nil {
				st.think = c.Think
			}
			slot, ok := slots[s.Kind]
			if !ok {
				slot = len(sc.kinds)
				slots[s.Kind] = slot
				sc.kinds = append(sc.kinds, k)
			}
			st.slot = slot
		}
		if st.think != nil && st.think.Max <= 0 && st.think.Min <= 0 {
			st.think = nil
		}
		out = append(out, st)
	}
	return out, nil
}

// outcome is how a list of steps ended.
type outcome uint8

const (
	ranAll outcome = iota // every step ran or was left out by its when
	failed                // a step failed: the iteration (or setup) ends there
	cut                   // the hard context ended
)

// runList runs list for the VU's current iteration (or setup, teardown). tail says that the
// list ends the iteration, so that its last step is the iteration's last.
func (v *vu) runList(ctx context.Context, list []*scenarioStep, tail bool) outcome {
	for i, st := range list {
		if ctx.Err() != nil {
			return cut
		}
		last := tail && i == len(list)-1
		if st.when != nil {
			ok, err := st.when.Bool(v.rt)
			if err != nil {
				return v.fail(ctx, list, i, last, err)
			}
			if !ok {
				continue // left out: nothing sent, no capture, no think time
			}
		}
		v.ran = true
		if st.repeat != nil {
			if out := v.runRepeat(ctx, st, last); out != ranAll {
				return out
			}
			continue
		}
		var err error
		if st.run != nil {
			err = st.run.Run(ctx, v, v.states[st.slot])
		} else if !v.pause(ctx, v.pick(st.sleep)) { // a sleep step
			return cut
		}
		v.lag = 0 // the lag belongs to the iteration's first step only
		if err != nil {
			return v.fail(ctx, list, i, last, err)
		}
		if !v.rest(ctx, list, i, last, false) {
			return cut
		}
	}
	return ranAll
}

// runRepeat runs a repeat's body: Count times, or while While holds (checked before each pass),
// or until Until holds (after each pass), at most Max times.
func (v *vu) runRepeat(ctx context.Context, st *scenarioStep, last bool) outcome {
	r := st.repeat
	n := r.Passes()
	for pass := 0; pass < n; pass++ {
		if r.While != nil {
			ok, err := r.While.Bool(v.rt)
			if err != nil {
				return v.fail(ctx, nil, 0, last, err)
			}
			if !ok {
				break
			}
		}
		if out := v.runList(ctx, st.body, last && r.Count > 0 && pass == n-1); out != ranAll {
			return out
		}
		if r.Until != nil {
			ok, err := r.Until.Bool(v.rt)
			if err != nil {
				return v.fail(ctx, nil, 0, last, err)
			}
			if ok {
				break
			}
		}
	}
	return ranAll
}

// fail ends the list at step i (of list; nil for a repeat's condition) with err: one `errors`
// sample unless the step counted it already, then the pause owed (rest).
func (v *vu) fail(ctx context.Context, list []*scenarioStep, i int, last bool, err error) outcome {
	if ctx.Err() != nil {
		return cut
	}
	tags := v.sc.tags
	if list != nil {
		tags = list[i].tags
	}
	var ie *step.Error
	label := err.Error()
	if errors.As(err, &ie) {
		label = ie.Label
	}
	switch {
	case v.phase != "":
		// A failed setup or teardown is its own event, reported even when the request's
		// failure is a sample already: "setup failed: capture token missing".
		v.emit(metrics.Errors, 1, tags, 0, shorten(v.phase+" failed: "+label))
	case ie == nil || !ie.Reported:
		v.emit(metrics.Errors, 1, tags, 0, shorten(label))
	}
	if list != nil && !v.rest(ctx, list, i, last, true) { // the iteration's pacing holds after a failure
		return cut
	}
	return failed
}

// pickTask draws the task of the iteration among those whose when holds (Scenario.PickTask),
// with the VU's task source: one draw per iteration whatever happens, so that a seed gives one
// sequence of draws. nil when no task may run.
func (v *vu) pickTask() *task {
	sc := v.sc
	u := v.taskRng.Float64()
	if !sc.taskWhen {
		return sc.tasks[sc.ps.PickTask(u, nil)]
	}
	for i, t := range sc.tasks {
		ok, err := t.ps.When.Bool(v.rt)
		if err != nil {
			v.emit(metrics.Errors, 1, t.tags, 0, shorten(err.Error()))
		}
		v.eligible[i] = ok && err == nil
	}
	i := sc.ps.PickTask(u, v.isEligible)
	if i < 0 {
		return nil
	}
	return sc.tasks[i]
}

func (v *vu) isEligible(i int) bool { return v.eligible[i] }

// setUp runs the scenario's setup at the start of an activation, again after a failure with the
// connection backoff's delays (backoffDelay: 100 ms doubling to 5 s, jittered), until it
// succeeds or the VU is told to stop. Each failed attempt is an `errors` sample labelled
// "setup failed: <cause>" on the failed step. It reports whether the VU may run iterations.
func (v *vu) setUp() bool {
	clear(v.rt.VUCaptures) // a VU activated again is a new user: it logs in again
	v.setupOK = len(v.sc.setup) == 0
	if v.setupOK {
		return true
	}
	for n := 1; v.stop.Err() == nil; n++ {
		out := v.lifecycle("setup", v.sc.setup)
		if out == ranAll {
			v.setupOK = true
			return true
		}
		if out == cut {
			return false
		}
		clear(v.rt.VUCaptures)
		if !v.pause(v.hard, backoffDelay(n, backoffBase, backoffCap, v.rng.Int64N)) {
			return false
		}
	}
	return false
}

// tearDown runs the scenario's teardown once at the end of an activation whose setup succeeded,
// with the hard context: within graceful_stop, cut like an iteration when it ends.
func (v *vu) tearDown() {
	if len(v.sc.teardown) == 0 || !v.setupOK || v.hard.Err() != nil {
		return
	}
	v.lifecycle("teardown", v.sc.teardown)
}

// lifecycle runs setup or teardown steps: their captures go to VUCaptures (vu.NAME), they take
// one row of each feeder, and they are not iterations (no iterations sample, no iter).
func (v *vu) lifecycle(phase string, list []*scenarioStep) outcome {
	iterCaps := v.rt.Captures
	v.rt.Captures, v.phase, v.rt.Iter = v.rt.VUCaptures, phase, 0
	defer func() { v.rt.Captures, v.phase, v.bo.owed = iterCaps, "", 0 }()
	if v.trace != nil {
		v.trace.Begin() // setup and teardown are traces of their own, as iterations are
	}
	for _, fs := range v.sc.feeders {
		if row, ok := fs.next(v.rng); ok {
			v.rt.Rows[fs.f.Name] = row
		}
	}
	return v.runList(v.hard, list, true)
}
