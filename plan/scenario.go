package plan

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/loadplan/loadplan/metrics"
)

var scenarioSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "target"}, {Name: "weight"}, {Name: "think_time"}, {Name: "tags"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "http", LabelNames: []string{"name"}},
		{Type: "websocket", LabelNames: []string{"name"}},
		{Type: "sleep"},
		{Type: "load"},
	},
}

var sleepSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "duration", Required: true}}}

// stepCtx is the state of one scenario while its steps are decoded in order.
type stepCtx struct {
	scen    *Scenario
	src     *source
	defined map[string]bool // captures defined by the steps decoded so far
	all     map[string]bool // every capture the scenario defines anywhere
	used    map[string]bool // feeders the scenario's expressions read
	names   *names          // step names
	// noTarget is set when the scenario's target reference failed (already reported), so that
	// steps do not also report that they have no target.
	noTarget bool
}

// scope returns the scope of an expression inside a step.
func (c *stepCtx) scope(what string) *scope {
	return &scope{src: c.src, what: what, runtime: true, captures: c.defined, later: c.all, used: c.used}
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
		c := &stepCtx{scen: s, src: fb.src, defined: map[string]bool{}, all: map[string]bool{},
			used: map[string]bool{}, names: newNames("step"), noTarget: badTarget}
		for _, n := range captureNames(b.Body) {
			c.all[n] = true
		}
		for _, blk := range content.Blocks {
			switch blk.Type {
			case "http":
				if st := l.httpStep(c, blk); st != nil {
					s.Steps = append(s.Steps, &Step{Kind: HTTPStepKind, HTTP: st, Pos: st.Pos})
				}
			case "websocket":
				if st := l.wsBlock(c, blk); st != nil {
					s.Steps = append(s.Steps, &Step{Kind: WebSocketStepKind, WebSocket: st, Pos: st.Pos})
				}
			case "sleep":
				bc, diags := blk.Body.Content(sleepSchema)
				l.add(diags)
				if a := bc.Attributes["duration"]; a != nil {
					if tt, ok := l.thinkTime(a, sc); ok {
						s.Steps = append(s.Steps, &Step{Kind: SleepStepKind, Sleep: tt, Pos: posOf(blk.DefRange)})
					}
				}
			case "load":
				if s.Load != nil {
					l.errorAt(blk.DefRange, "Duplicate load block", "A scenario has at most one load block; merge the stages into one.")
					continue
				}
				s.Load = l.loadBlock(fb.src, blk)
			}
		}
		nSteps := 0
		for _, blk := range content.Blocks {
			if blk.Type != "load" {
				nSteps++
			}
		}
		if nSteps == 0 {
			l.errorAt(labelRange(b), "Scenario without steps",
				"Scenario %q has no steps. Add an http \"NAME\" { path = \"/\" } or a websocket \"NAME\" { ... } block.", name)
		}
		for _, f := range l.plan.Data {
			if c.used[f.Name] {
				s.Feeders = append(s.Feeders, f)
			}
		}
		l.plan.Scenarios = append(l.plan.Scenarios, s)
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
	tags := metrics.Tags{Scenario: c.scen.Name, Step: step, Method: method, URL: url, Group: group}
	if t != nil {
		tags.Target = t.Name
	}
	return l.intern(tags)
}
