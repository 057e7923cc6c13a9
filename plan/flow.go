package plan

import (
	"fmt"
	"math"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/loadplan/loadplan/metrics"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// This file is the model of what a VU does beyond a list of steps (issue 12): weighted tasks,
// repeats, conditions and pacing. It is plain data shaped for the executor, which compiles it
// as it compiles steps today: a Task is a list of steps, a Repeat a step whose body is a list of
// steps, Step.When, Repeat.While and Repeat.Until templates it evaluates with the VU's Runtime (Template.Bool).
// Nothing here needs HCL again at run time.

// Task is a `task "name" { weight = N ... }` block: one of the step lists an iteration may run.
type Task struct {
	Name   string
	Weight float64 // > 0 and finite; the chance of the task is Weight over the sum of the weights
	// When, if not nil, leaves the task out of an iteration's draw when it is false; it reads
	// vu, iter and data (no capture: the task has made none yet). An iteration whose tasks are
	// all left out runs no step.
	When  *Template
	Steps []*Step // in source order; their captures are visible to the task's later steps only
	// MetricTags are the interned tags of the task's iterations samples (iterations,
	// iteration_duration, iterations_interrupted, errors of its when): Scenario and Task set.
	MetricTags *metrics.Tags
	Pos        Pos
}

// Repeat is a `repeat` block, in one of three forms: its steps run Count times; or again and
// again while While holds, checked before each pass (so maybe never), at most Max times; or
// until Until holds, checked after each pass (so at least once, and it may read the captures of
// the body: poll until done), at most Max times. Exactly one of Count, While and Until is set;
// Count and Max are whole numbers from 1 (validate rejects a loop without a bound), so every
// repeat ends. A pass whose step fails ends the iteration as any failed step does.
type Repeat struct {
	Count int       // the count form: this many passes; 0 in the other forms
	While *Template // the while form: evaluated before each pass (reads what precedes the repeat)
	Until *Template // the until form: evaluated after each pass (reads the body's captures too)
	Max   int       // the while and until forms: the most passes
	Steps []*Step   // the body, in source order
	Pos   Pos
}

// Passes is the most times the body runs: Count, or Max in the while and until forms.
func (r *Repeat) Passes() int {
	if r.While != nil || r.Until != nil {
		return r.Max
	}
	return r.Count
}

// Walk calls fn for every step of the scenario — setup, steps, each task's, teardown — and
// the steps inside repeats after the repeat itself, in source order within each list.
func (s *Scenario) Walk(fn func(*Step)) {
	walkSteps(s.Setup, fn)
	walkSteps(s.Steps, fn)
	for _, t := range s.Tasks {
		walkSteps(t.Steps, fn)
	}
	walkSteps(s.Teardown, fn)
}

func walkSteps(steps []*Step, fn func(*Step)) {
	for _, st := range steps {
		fn(st)
		if st.Repeat != nil {
			walkSteps(st.Repeat.Steps, fn)
		}
	}
}

// TaskShares is the expected share of iterations of each task (in the order of Tasks), the
// weights over their sum, as every task's When held; nil without tasks.
func (s *Scenario) TaskShares() []float64 {
	if len(s.Tasks) == 0 {
		return nil
	}
	total := 0.0
	for _, t := range s.Tasks {
		total += t.Weight
	}
	out := make([]float64, len(s.Tasks))
	for i, t := range s.Tasks {
		out[i] = t.Weight / total
	}
	return out
}

// PickTask draws the task of one iteration: u is uniform in [0,1) (the VU's seeded random
// source, so that a seed gives one sequence of tasks), eligible says whether task i may run
// (its When; nil means all may). It returns the index in Tasks, or -1 when none is eligible.
// The draw is over the eligible tasks' weights only, in source order.
func (s *Scenario) PickTask(u float64, eligible func(i int) bool) int {
	total := 0.0
	for i, t := range s.Tasks {
		if eligible == nil || eligible(i) {
			total += t.Weight
		}
	}
	if total <= 0 {
		return -1
	}
	x, last := u*total, -1
	for i, t := range s.Tasks {
		if eligible != nil && !eligible(i) {
			continue
		}
		if x < t.Weight {
			return i
		}
		x -= t.Weight
		last = i
	}
	return last // u*total rounded up to total: the last eligible task
}

// IterationInterval is the least time between the starts of a VU's iterations: Pacing, or one
// second over IterationsPerSecond; 0 when the scenario has neither.
func (s *Scenario) IterationInterval() time.Duration {
	switch {
	case s.Pacing > 0:
		return s.Pacing
	case s.IterationsPerSecond > 0:
		return time.Duration(math.Round(float64(time.Second) / s.IterationsPerSecond))
	}
	return 0
}

// blankCaptures are the capture.NAME and vu.NAME a condition reads. A capture without a value
// (a required = false capture that found nothing, one of a step that when skipped) reads as ""
// there, so that when = capture.id != "" asks whether it was made instead of failing the step.
type blankCaptures struct {
	iter, vu []string
}

// asCondition makes t, compiled from expr, a condition: its captures may be missing.
func asCondition(t *Template, expr hcl.Expression) {
	if t == nil || t.constant {
		return
	}
	b := &blankCaptures{}
	for _, tr := range expr.Variables() {
		name, ok := traversalAttr(tr, 1)
		switch {
		case !ok:
		case tr.RootName() == "capture":
			b.iter = append(b.iter, name)
		case tr.RootName() == "vu" && name != "id":
			b.vu = append(b.vu, name)
		}
	}
	if len(b.iter)+len(b.vu) > 0 {
		t.blank = b
		t.parts, t.json = nil, nil // the general path, which fills them in
	}
}

// fill adds "" for the missing captures to the runtime namespaces vars.
func (b *blankCaptures) fill(vars map[string]cty.Value) {
	add := func(root string, names []string) {
		obj, ok := vars[root]
		if !ok || len(names) == 0 {
			return
		}
		attrs := obj.AsValueMap()
		if attrs == nil {
			attrs = map[string]cty.Value{}
		}
		missing := false
		for _, n := range names {
			if _, ok := attrs[n]; !ok {
				attrs[n], missing = cty.StringVal(""), true
			}
		}
		if missing {
			vars[root] = cty.ObjectVal(attrs)
		}
	}
	add("capture", b.iter)
	add("vu", b.vu)
}

// Bool evaluates a condition (Step.When, Task.When, Repeat.While, Repeat.Until) for rt. A nil template is
// true: no condition. A value that is not a bool (a capture holding "yes") is an error, which
// the executor reports as the step's error.
func (t *Template) Bool(rt *Runtime) (bool, error) {
	if t == nil {
		return true, nil
	}
	v, err := t.Value(rt)
	if err != nil {
		return false, err
	}
	return ctyBool(v, t.Source)
}

func ctyBool(v cty.Value, src string) (bool, error) {
	if v.IsNull() || !v.IsKnown() {
		return false, fmt.Errorf("%s: the condition has no value", src)
	}
	b, err := convert.Convert(v, cty.Bool)
	if err != nil {
		return false, fmt.Errorf("%s: a condition is true or false; got %s", src, v.Type().FriendlyName())
	}
	return b.True(), nil
}
