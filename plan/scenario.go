package plan

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/loadplan/loadplan/metrics"
)

var scenarioSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "target"}, {Name: "weight"}, {Name: "think_time"}, {Name: "tags"},
		{Name: "pacing"}, {Name: "iterations_per_second"}},
	Blocks: append([]hcl.BlockHeaderSchema{
		{Type: "load"}, {Type: "setup"}, {Type: "teardown"}, {Type: "task", LabelNames: []string{"name"}},
	}, stepBlocks...),
}

var sleepSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "duration", Required: true}, {Name: "when"}}}

// stepCtx is the state of one scenario while its step lists are decoded in order.
type stepCtx struct {
	scen *Scenario
	src  *source
	// defined is where the captures of the steps being decoded are recorded: iterCaps, or vuCaps
	// in setup and teardown, whose captures live for the VU's life.
	defined  map[string]bool
	iterCaps map[string]bool // capture.NAME visible to the step being decoded
	vuCaps   map[string]bool // vu.NAME visible to the step being decoded
	flow     *captureMap     // every capture of the scenario, by region
	region   string          // the list being decoded: regionSteps, regionSetup, regionTeardown or a task's
	used     map[string]bool // feeders the scenario's expressions read
	names    *names          // step names, one namespace across the scenario's lists
	depth    int             // repeats open around the step being decoded
	passes   int             // their passes multiplied (1 outside repeats)
	task     string          // the task being decoded, "" outside tasks: its steps' task tag
	// noTarget is set when the scenario's target reference failed (already reported), so that
	// steps do not also report that they have no target.
	noTarget bool
}

// scope returns the scope of an expression inside a step.
func (c *stepCtx) scope(what string) *scope {
	return &scope{src: c.src, what: what, runtime: true, captures: c.iterCaps, vuCaps: c.vuCaps, flow: c.flow,
		region: c.region, used: c.used}
}

// enter starts decoding the list region: iteration lists see the captures of setup as vu.NAME
// and start without capture.NAME; setup and teardown record their captures as VU values.
func (c *stepCtx) enter(region string, vuCaps map[string]bool) {
	c.region, c.vuCaps, c.iterCaps, c.task = region, vuCaps, map[string]bool{}, ""
	c.defined = c.iterCaps
	if region == regionSetup || region == regionTeardown {
		c.defined = c.vuCaps
	}
}

func (l *loader) loadScenarios() {
	seen := newNames("scenario")
	for _, fb := range l.blocks("scenario") {
		b := fb.block
		name := b.Labels[0]
		if !seen.declare(l, name, labelRange(b)) {
			continue
		}
		s := &Scenario{Name: name, Weight: 1, Pos: posOf(b.DefRange)}
		s.MetricTags = l.intern(metrics.Tags{Scenario: name})
		content, diags := b.Body.Content(scenarioSchema)
		l.add(diags)
		sc := &scope{src: fb.src, what: "a scenario's settings"}
		badTarget := false
		if a := content.Attributes["target"]; a != nil {
			s.Target = l.resolveTarget(a)
			badTarget = s.Target == nil
		} else if len(l.plan.Targets) == 1 {
			s.Target = l.plan.Targets[0]
		}
		if a := content.Attributes["weight"]; a != nil {
			if w, ok := l.integer(a, sc, 1); ok {
				s.Weight = w
			}
		}
		if a := content.Attributes["think_time"]; a != nil {
			s.ThinkTime, _ = l.thinkTime(a, sc)
		}
		if a := content.Attributes["tags"]; a != nil {
			s.Tags, _ = l.strMap(a, sc)
		}
		l.pacing(s, content, sc)
		c := &stepCtx{scen: s, src: fb.src, flow: scenarioCaptures(b.Body), used: map[string]bool{},
			names: newNames("step"), passes: 1, noTarget: badTarget}
		l.scenarioLists(c, b, content)
		for _, f := range l.plan.Data {
			if c.used[f.Name] {
				s.Feeders = append(s.Feeders, f)
			}
		}
		l.plan.Scenarios = append(l.plan.Scenarios, s)
	}
}

// scenarioLists decodes the load, setup, steps, tasks and teardown of a scenario. Setup comes
// first wherever it is written, since every other list may read its captures; teardown last.
func (l *loader) scenarioLists(c *stepCtx, b *hcl.Block, content *hcl.BodyContent) {
	s := c.scen
	setupCaps, stepsCaps := map[string]bool{}, map[string]bool{}
	var firstStep, firstTask, setupAt, teardownAt *hcl.Block
	for _, blk := range content.Blocks {
		switch {
		case blk.Type == "setup" && setupAt != nil, blk.Type == "teardown" && teardownAt != nil:
			l.errorAt(blk.DefRange, "Duplicate "+blk.Type+" block", "A scenario has at most one %s block; merge their steps into one.", blk.Type)
		case blk.Type == "setup":
			setupAt = blk
			c.enter(regionSetup, setupCaps)
			s.Setup = l.lifecycle(c, blk)
		case blk.Type == "teardown":
			teardownAt = blk
		case blk.Type == "task" && firstTask == nil:
			firstTask = blk
		case isStepBlock(blk.Type) && firstStep == nil:
			firstStep = blk
		}
	}
	tasks := newNames("task")
	c.enter(regionSteps, setupCaps)
	for _, blk := range content.Blocks {
		switch {
		case blk.Type == "load":
			if s.Load != nil {
				l.errorAt(blk.DefRange, "Duplicate load block", "A scenario has at most one load block; merge the stages into one.")
				continue
			}
			s.Load = l.loadBlock(c.src, blk)
		case blk.Type == "task":
			if !tasks.declare(l, blk.Labels[0], labelRange(blk)) {
				continue
			}
			if len(tasks.seen) > maxTasks {
				if len(tasks.seen) == maxTasks+1 {
					l.errorAt(labelRange(blk), "Too many tasks", "A scenario has at most %s tasks. Merge tasks that do the same, or split the scenario.", thousands(maxTasks))
				}
				continue
			}
			c.enter(taskRegion(blk.Labels[0]), setupCaps)
			c.task = blk.Labels[0]
			if t := l.task(c, blk); t != nil {
				t.MetricTags = l.intern(metrics.Tags{Scenario: s.Name, Task: t.Name})
				s.Tasks = append(s.Tasks, t)
			}
		case isStepBlock(blk.Type):
			c.enter(regionSteps, setupCaps)
			c.iterCaps, c.defined = stepsCaps, stepsCaps // the scenario's steps are one list, even split by tasks
			if st := l.step(c, blk); st != nil {
				s.Steps = append(s.Steps, st)
			}
		}
	}
	if teardownAt != nil {
		vuCaps := map[string]bool{}
		for k := range setupCaps {
			vuCaps[k] = true
		}
		c.enter(regionTeardown, vuCaps)
		s.Teardown = l.lifecycle(c, teardownAt)
	}
	switch {
	case firstStep != nil && firstTask != nil:
		at := firstStep
		if firstTask.DefRange.Start.Byte > at.DefRange.Start.Byte {
			at = firstTask
		}
		l.errorAt(at.DefRange, "Steps beside tasks",
			"Scenario %q has tasks and steps outside them. Each iteration runs one task, so steps outside the tasks would never run with them: "+
				"move these steps into the tasks that need them, or into setup { } to run them once per VU.", s.Name)
	case firstStep == nil && firstTask == nil:
		l.errorAt(labelRange(b), "Scenario without steps",
			"Scenario %q has no steps. Add an http \"NAME\" { path = \"/\" } or a websocket \"NAME\" { ... } block.", s.Name)
	}
}

// captureNames lists the labels of every capture block below body, in source order.
func captureNames(body hcl.Body) []string {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	var out []string
	for _, blk := range sb.Blocks {
		if blk.Type == "capture" && len(blk.Labels) == 1 {
			out = append(out, blk.Labels[0])
			continue
		}
		out = append(out, captureNames(blk.Body)...)
	}
	return out
}

// stepTarget returns the target of a step: its own `target` attribute, else the scenario's.
func (l *loader) stepTarget(c *stepCtx, content *hcl.BodyContent) *Target {
	if a := content.Attributes["target"]; a != nil {
		t := l.resolveTarget(a)
		if t == nil {
			c.noTarget = true
		}
		return t
	}
	return c.scen.Target
}

// tagsFor returns the interned tags of a step.
func (l *loader) tagsFor(c *stepCtx, step string, t *Target, method, url, group string) *metrics.Tags {
	tags := metrics.Tags{Scenario: c.scen.Name, Step: step, Method: method, URL: url, Group: group, Task: c.task}
	if t != nil {
		tags.Target = t.Name
	}
	return l.intern(tags)
}
