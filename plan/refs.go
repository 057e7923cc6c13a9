package plan

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// scope says what an expression may reference at the place it is written.
type scope struct {
	src      *source
	what     string          // where the expression is, for messages: "a target", "a load block"
	runtime  bool            // vu, iter, scenario, capture and data may be used
	captures map[string]bool // capture.NAME defined before this point of the iteration
	vuCaps   map[string]bool // vu.NAME defined before this point: setup's captures (and teardown's, in teardown)
	flow     *captureMap     // where the scenario makes each capture (checked after captures and vuCaps)
	region   string          // where the expression is: "steps", "setup", "teardown" or `task "x"`
	used     map[string]bool // feeders read, recorded here when not nil
}

// lifecycle says the expression is in setup or teardown, which run outside iterations.
func (sc *scope) lifecycle() bool { return sc.region == regionSetup || sc.region == regionTeardown }

// rootNames are the names an expression may start with.
var rootNames = []string{"var", "local", "vu", "iter", "scenario", "capture", "data"}

// checkRefs reports every reference in expr that does not resolve in sc. It returns false when it
// reported an error.
func (l *loader) checkRefs(expr hcl.Expression, sc *scope) bool {
	ok := true
	fail := func(tr hcl.Traversal, summary, detail string, args ...any) {
		l.errorAt(tr.SourceRange(), summary, detail, args...)
		ok = false
	}
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		name, hasName := traversalAttr(tr, 1)
		if root == "var" || root == "local" {
			if l.badNames[root+"."+name] {
				ok = false // it has no value; that is reported where it is declared
				continue
			}
		}
		switch root {
		case "var":
			if !hasName {
				fail(tr, "Invalid reference", `Write var.NAME to use a variable, e.g. var.host.`)
			} else if _, found := l.varDecls[name]; !found {
				fail(tr, "Reference to undeclared input variable",
					"No variable named %q is declared.%s Declare it with a variable %q { ... } block.",
					name, didYouMean(name, sortedKeys(l.varDecls)), name)
			}
			continue
		case "local":
			if !hasName {
				fail(tr, "Invalid reference", `Write local.NAME to use a local value.`)
			} else if _, found := l.localDef[name]; !found {
				fail(tr, "Reference to undeclared local value",
					"No local value named %q is declared.%s Declare it in a locals { ... } block.",
					name, didYouMean(name, sortedKeys(l.localDef)))
			}
			continue
		case "target":
			fail(tr, "Target reference not allowed here",
				"target.NAME may only be used as the value of a scenario's or step's target attribute, e.g. target = target.api.")
			continue
		case "vu", "iter", "scenario", "capture", "data":
		default:
			fail(tr, "Unknown variable",
				"There is no variable named %q.%s Plans can use var.NAME, local.NAME and, in steps, vu.id, vu.NAME, iter, scenario.name, capture.NAME and data.NAME.FIELD.",
				root, didYouMean(root, rootNames))
			continue
		}
		if !sc.runtime {
			fail(tr, "Per-iteration value not allowed here",
				"%s is only known while the test runs, so it can't be used in %s. Use a constant, var.NAME or local.NAME here.",
				root, sc.what)
			continue
		}
		switch root {
		case "vu":
			l.checkVURef(tr, name, hasName, sc, &ok)
		case "iter":
			if len(tr) != 1 {
				fail(tr, "Invalid iter reference", "iter is a number (the iteration of this VU, from 0); it has no attributes.")
			} else if sc.lifecycle() {
				fail(tr, "iter in "+sc.region, "%s runs outside the VU's iterations, so it has no iter. Use vu.id, or move the step into the scenario's steps or a task.", sc.region)
			}
		case "scenario":
			if name != "name" || len(tr) != 2 {
				fail(tr, "Invalid scenario reference", "The scenario namespace has one attribute: write scenario.name.")
			}
		case "capture":
			l.checkCaptureRef(tr, name, hasName, sc, &ok)
		case "data":
			l.checkDataRef(tr, name, hasName, sc, &ok)
		}
	}
	return ok
}

func (l *loader) checkDataRef(tr hcl.Traversal, name string, hasName bool, sc *scope, ok *bool) {
	field, hasField := traversalAttr(tr, 2)
	if !hasName || !hasField || len(tr) != 3 {
		l.errorAt(tr.SourceRange(), "Invalid data reference", "Write data.FEEDER.COLUMN, e.g. data.symbols.symbol.")
		*ok = false
		return
	}
	f, found := l.feeders[name]
	if sc.used != nil {
		sc.used[name] = true
	}
	if !found {
		l.errorAt(tr.SourceRange(), "Reference to undeclared data feeder",
			"No data block named %q is declared.%s Declare it with data %q { csv = \"file.csv\" }.",
			name, didYouMean(name, sortedKeys(l.feeders)), name)
		*ok = false
		return
	}
	if l.badFeeders[name] {
		*ok = false // its file could not be read; that is reported once, at the data block
		return
	}
	if f.Column(field) < 0 {
		l.errorAt(tr.SourceRange(), "Unknown data column",
			"The CSV file of data %q has no column %q.%s", name, field, didYouMean(field, f.Header))
		*ok = false
	}
}

// traversalAttr returns the attribute name at step i of tr.
func traversalAttr(tr hcl.Traversal, i int) (string, bool) {
	if i >= len(tr) {
		return "", false
	}
	switch s := tr[i].(type) {
	case hcl.TraverseAttr:
		return s.Name, true
	case hcl.TraverseIndex:
		if s.Key.Type() == cty.String {
			return s.Key.AsString(), true
		}
	}
	return "", false
}

// probe evaluates expr once at load time to find type errors: constant expressions get their
// real value, per-iteration ones are evaluated with unknown runtime values. It returns the
// (unmarked) value and whether it succeeded.
func (l *loader) probe(expr hcl.Expression, sc *scope) (cty.Value, bool) {
	v, ok := l.probeMarked(expr, sc)
	if !ok {
		return cty.NilVal, false
	}
	v, _ = v.UnmarkDeep()
	return v, true
}

// probeMarked is probe without removing the marks: a value from env() stays marked sensitive.
func (l *loader) probeMarked(expr hcl.Expression, sc *scope) (cty.Value, bool) {
	ctx := sc.src.ctx
	if sc.runtime && NeedsRuntime(expr) {
		ctx = ctx.NewChild()
		ctx.Variables = l.runtimeProbeVars(sc)
	}
	v, diags := evalBounded(expr, ctx, sc.src.ctx.Functions, "This value") // bounded: see evalbounds.go
	l.add(diags)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	return v, true
}

func (l *loader) runtimeProbeVars(sc *scope) map[string]cty.Value {
	caps := map[string]cty.Value{}
	for k := range sc.captures {
		caps[k] = cty.UnknownVal(cty.String)
	}
	vu := map[string]cty.Value{}
	for k := range sc.vuCaps {
		vu[k] = cty.UnknownVal(cty.String)
	}
	vu["id"] = cty.UnknownVal(cty.Number)
	data := map[string]cty.Value{}
	for name, f := range l.feeders {
		fields := map[string]cty.Value{}
		for _, h := range f.Header {
			fields[h] = cty.UnknownVal(cty.String)
		}
		data[name] = cty.ObjectVal(fields)
	}
	return map[string]cty.Value{
		"vu":       cty.ObjectVal(vu),
		"iter":     cty.UnknownVal(cty.Number),
		"scenario": cty.ObjectVal(map[string]cty.Value{"name": cty.UnknownVal(cty.String)}),
		"capture":  cty.ObjectVal(caps),
		"data":     cty.ObjectVal(data),
	}
}

// template checks expr's references and types and compiles it. wantString says the value must
// convert to a string (URLs, headers, bodies). It returns nil after reporting a problem.
func (l *loader) template(expr hcl.Expression, sc *scope, wantString bool) *Template {
	if !l.checkRefs(expr, sc) {
		return nil
	}
	v, ok := l.probe(expr, sc)
	if !ok {
		return nil
	}
	if wantString && v.IsKnown() && !v.IsNull() {
		if _, err := ctyString(v); err != nil {
			l.errorAt(expr.Range(), "Incorrect value type",
				"This value must be text; got %s. Use jsonencode(...) or format(...) to turn it into a string.", v.Type().FriendlyName())
			return nil
		}
	}
	t, diags := CompileTemplate(expr, sc.src.src, sc.src.ctx, l.feeders)
	l.add(diags)
	if diags.HasErrors() {
		return nil
	}
	return t
}

// what renders a block for messages: `http "login"`.
func what(b *hcl.Block) string {
	if len(b.Labels) > 0 {
		return fmt.Sprintf("%s %q", b.Type, b.Labels[0])
	}
	return "a " + b.Type + " block"
}
