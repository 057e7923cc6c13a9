package plan

import (
	"math"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Decoding of the step lists of a scenario (issue 12): its steps, setup, teardown, tasks and
// repeats all hold the same step blocks, decoded by stepList; the lists differ in which
// captures their expressions see (see flowscope.go).

// stepBlocks are the blocks of every step list.
var stepBlocks = []hcl.BlockHeaderSchema{
	{Type: "http", LabelNames: []string{"name"}},
	{Type: "websocket", LabelNames: []string{"name"}},
	{Type: "sleep"},
	{Type: "repeat"},
}

var (
	lifecycleSchema = &hcl.BodySchema{Blocks: stepBlocks}
	taskSchema      = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "weight"}, {Name: "when"}}, Blocks: stepBlocks}
	repeatSchema    = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "count"}, {Name: "while"}, {Name: "until"}, {Name: "max"}, {Name: "when"}},
		Blocks:     stepBlocks,
	}
	whenSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "when"}}}
)

// The bounds of the flow of a scenario: far above what a user class does, far below what turns a
// typo into an iteration that never ends or a plan that cannot be printed.
const (
	maxTasks        = 1000      // tasks in one scenario
	maxTaskWeight   = 1_000_000 // a weight is a relative share: beyond this it is a typo
	maxRepeatDepth  = 8         // repeats nested in one another
	maxRepeatPasses = 1_000_000 // passes of the innermost body of nested repeats, counts multiplied
	maxPerVURate    = 1000      // iterations_per_second of one VU: one per millisecond
)

// isStepBlock says whether a block type is one of stepBlocks.
func isStepBlock(typ string) bool {
	for _, b := range stepBlocks {
		if b.Type == typ {
			return true
		}
	}
	return false
}

// stepList decodes the step blocks among blocks, in order.
func (l *loader) stepList(c *stepCtx, blocks []*hcl.Block) []*Step {
	var out []*Step
	for _, blk := range blocks {
		if st := l.step(c, blk); st != nil {
			out = append(out, st)
		}
	}
	return out
}

// step decodes one step block with its when condition, or returns nil after reporting.
func (l *loader) step(c *stepCtx, blk *hcl.Block) *Step {
	if !isStepBlock(blk.Type) {
		return nil
	}
	// when is read before the step, so that it sees the captures of the steps before it only.
	var when *Template
	whenOK := true
	if wc, _, _ := blk.Body.PartialContent(whenSchema); wc != nil {
		if a := wc.Attributes["when"]; a != nil {
			when, whenOK = l.condition(a, c.scope("a when condition"), "this "+blk.Type+" step")
		}
	}
	var st *Step
	switch blk.Type {
	case "http":
		if h := l.httpStep(c, blk); h != nil {
			st = &Step{Kind: HTTPStepKind, HTTP: h, Pos: h.Pos}
		}
	case "websocket":
		if ws := l.wsBlock(c, blk); ws != nil {
			st = &Step{Kind: WebSocketStepKind, WebSocket: ws, Pos: ws.Pos}
		}
	case "sleep":
		bc, diags := blk.Body.Content(sleepSchema)
		l.add(diags)
		if a := bc.Attributes["duration"]; a != nil {
			if tt, ok := l.thinkTime(a, &scope{src: c.src, what: "a sleep step"}); ok {
				st = &Step{Kind: SleepStepKind, Sleep: tt, Pos: posOf(blk.DefRange)}
			}
		}
	case "repeat":
		if r := l.repeat(c, blk); r != nil {
			st = &Step{Kind: RepeatStepKind, Repeat: r, Pos: r.Pos}
		}
	}
	if st == nil || !whenOK {
		return nil
	}
	st.When = when
	return st
}

// condition decodes a when, while or until expression: true or false per iteration. A constant
// true is no condition (nil); a constant false is kept, with a warning that what it guards never
// runs when guards names it ("" for until, which a false only makes run max times).
func (l *loader) condition(a *hcl.Attribute, sc *scope, guards string) (*Template, bool) {
	if !l.checkRefs(a.Expr, sc) {
		return nil, false
	}
	v, ok := l.probe(a.Expr, sc)
	if !ok {
		return nil, false
	}
	if v.IsKnown() {
		b, err := convert.Convert(v, cty.Bool)
		if err != nil || b.IsNull() {
			l.errorAt(a.Expr.Range(), "Condition is not true or false",
				"%s must be true or false; got %s. Compare a value, e.g. %s = capture.status == \"open\" or %s = iter %% 10 == 0.",
				a.Name, v.Type().FriendlyName(), a.Name, a.Name)
			return nil, false
		}
	}
	t, diags := CompileTemplate(a.Expr, sc.src.src, sc.src.ctx, l.feeders)
	l.add(diags)
	if diags.HasErrors() {
		return nil, false
	}
	asCondition(t, a.Expr)
	if t.IsConstant() {
		if b, err := t.Bool(nil); err == nil && b {
			return nil, true
		}
		if guards == "" {
			return t, true // until = false: the loop runs max times, as written
		}
		l.warnAt(a.Expr.Range(), "Condition is always false",
			"%s does not depend on the run (vu, iter, capture or data) and is false, so %s never runs. Remove it, or remove the condition.", a.Name, guards)
	}
	return t, true
}

// repeat decodes a repeat block: count = N, or while = <condition> or until = <condition>,
// each with max = N.
func (l *loader) repeat(c *stepCtx, b *hcl.Block) *Repeat {
	content, diags := b.Body.Content(repeatSchema)
	l.add(diags)
	r := &Repeat{Pos: posOf(b.DefRange)}
	cs := &scope{src: c.src, what: "a repeat's count or max"}
	attr := content.Attributes
	ok := true
	passes := func(a *hcl.Attribute) int {
		n, good := l.integer(a, cs, 1)
		switch {
		case !good:
			ok = false
		case n > maxRepeatPasses:
			l.errorAt(a.Expr.Range(), "Repeat too long", "%s is at most %s passes; got %s. A longer loop is a longer load: raise the load's duration or iterations instead.",
				a.Name, thousands(maxRepeatPasses), thousands(int64(n)))
			ok = false
		}
		return n
	}
	var forms []*hcl.Attribute
	for _, k := range []string{"count", "while", "until"} {
		if a := attr[k]; a != nil {
			forms = append(forms, a)
		}
	}
	most := attr["max"]
	switch {
	case len(forms) > 1:
		l.errorAt(forms[1].NameRange, "Repeat of two kinds",
			"A repeat runs count times, while a condition holds, or until one holds (those two at most max times): keep one of %s.", quoteNames(forms))
		ok = false
	case len(forms) == 0:
		l.errorAt(b.DefRange, "Repeat without count",
			"Say how often the steps repeat: count = 5, while = <condition> or until = <condition>, the last two with max = 10.")
		ok = false
	case forms[0].Name == "count":
		r.Count = passes(forms[0])
		if most != nil {
			l.errorAt(most.NameRange, "max without while", "max bounds a while or until loop; a repeat with count runs exactly count times. Remove max.")
			ok = false
		}
	case most == nil:
		l.errorAt(forms[0].NameRange, "Repeat that may never end",
			"%s loop needs a bound so that every iteration ends: add max = N (the most passes), e.g. max = 10.", map[string]string{"while": "A while", "until": "An until"}[forms[0].Name])
		ok = false
	default:
		r.Max = passes(most)
	}
	if a := attr["while"]; a != nil && len(forms) == 1 {
		// Checked before each pass: it sees what precedes the repeat.
		if t, good := l.condition(a, c.scope("a repeat's while"), "this repeat"); !good {
			ok = false
		} else if r.While = t; t == nil {
			r.While = constantTemplate("true", cty.True) // always true: max passes, still the while form
		}
	}
	if c.depth >= maxRepeatDepth {
		l.errorAt(b.DefRange, "Repeats nested too deeply", "Repeats nest at most %d deep here. Flatten the loops: one repeat with a larger count.", maxRepeatDepth)
		return nil
	}
	outer := c.passes
	if p := r.Passes(); ok && outer*p > maxRepeatPasses {
		l.errorAt(b.DefRange, "Nested repeats too long",
			"The repeats around these steps multiply to %s passes per iteration; at most %s. Lower the counts: a longer loop is a longer load.",
			thousands(int64(outer)*int64(p)), thousands(maxRepeatPasses))
		ok = false
	}
	c.depth++
	c.passes = outer * max(1, r.Passes())
	if !ok {
		c.passes = outer
	}
	r.Steps = l.stepList(c, content.Blocks)
	c.depth--
	c.passes = outer
	if a := attr["until"]; a != nil && len(forms) == 1 {
		// Checked after each pass: it sees the captures of the body too (poll until done).
		if t, good := l.condition(a, c.scope("a repeat's until"), ""); !good {
			ok = false
		} else if r.Until = t; t == nil {
			r.Until = constantTemplate("true", cty.True) // always true: one pass
		}
	}
	if len(content.Blocks) == 0 && !diags.HasErrors() {
		l.errorAt(b.DefRange, "Empty repeat", "A repeat holds the steps it repeats: http, websocket, sleep or repeat blocks.")
		return nil
	}
	if !ok {
		return nil
	}
	return r
}

// quoteNames renders the names of attributes as "a" or "b".
func quoteNames(attrs []*hcl.Attribute) string {
	names := make([]string, len(attrs))
	for i, a := range attrs {
		names[i] = a.Name
	}
	return quoteList(names)
}

// lifecycle decodes a setup or teardown block. Its captures are VU values (vu.NAME).
func (l *loader) lifecycle(c *stepCtx, b *hcl.Block) []*Step {
	content, diags := b.Body.Content(lifecycleSchema)
	l.add(diags)
	l.reservedVUNames(b.Body)
	if len(content.Blocks) == 0 && !diags.HasErrors() {
		l.errorAt(b.DefRange, "Empty "+b.Type, "A %s block holds steps (http, websocket, sleep, repeat); remove it if the VU needs none.", b.Type)
	}
	return l.stepList(c, content.Blocks)
}

// reservedVUNames reports a capture of setup or teardown named id: vu.id is the VU's number.
func (l *loader) reservedVUNames(body hcl.Body) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return
	}
	for _, blk := range sb.Blocks {
		if blk.Type == "capture" && len(blk.Labels) == 1 && blk.Labels[0] == "id" {
			l.errorAt(blk.LabelRanges[0], "Reserved capture name",
				"A capture made in setup or teardown is read as vu.NAME, and vu.id is the VU's number. Name the capture otherwise, e.g. capture \"user_id\".")
		}
		l.reservedVUNames(blk.Body)
	}
}

// task decodes a task block.
func (l *loader) task(c *stepCtx, b *hcl.Block) *Task {
	content, diags := b.Body.Content(taskSchema)
	l.add(diags)
	t := &Task{Name: b.Labels[0], Weight: 1, Pos: posOf(b.DefRange)}
	ok := true
	if a := content.Attributes["weight"]; a != nil {
		if f, sensitive, good := l.numberMarked(a, &scope{src: c.src, what: "a task's weight"}); !good {
			ok = false
		} else if !(f > 0) || math.IsInf(f, 0) || f > maxTaskWeight {
			l.errorAt(a.Expr.Range(), "Invalid task weight",
				"A task's weight is its relative share of the iterations, a number above 0 and at most %s; got %s. Write e.g. weight = 3 (as @task(3)).",
				thousands(maxTaskWeight), shown(fmtG(f), sensitive))
			ok = false
		} else {
			t.Weight = f
		}
	}
	if a := content.Attributes["when"]; a != nil {
		var good bool
		t.When, good = l.condition(a, c.scope("a task's when"), "this task")
		ok = ok && good
	}
	t.Steps = l.stepList(c, content.Blocks)
	if len(content.Blocks) == 0 && !diags.HasErrors() {
		l.errorAt(labelRange(b), "Task without steps", "Task %q has no steps. Add an http \"NAME\" { path = \"/\" } or a websocket \"NAME\" { ... } block.", t.Name)
		return nil
	}
	if !ok {
		return nil
	}
	return t
}

// numberMarked is number that also says whether the value came from a secret (env()), which a
// diagnostic must not show.
func (l *loader) numberMarked(a *hcl.Attribute, sc *scope) (float64, bool, bool) {
	v, sensitive, ok := l.constantMarked(a, sc)
	if !ok {
		return 0, false, false
	}
	v, ok = l.convertTo(a, v, cty.Number, "Write a number without quotes, e.g. 10.")
	if !ok {
		return 0, false, false
	}
	f, _ := v.AsBigFloat().Float64()
	return f, sensitive, true
}
