package plan

import (
	"fmt"
	"maps"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// An expression evaluated while a plan loads (a local, or any attribute's value folded or probed
// at load) has two ways to grow that no function sees: for expressions (nested ones multiply:
// [for a in range(1000): [for b in range(1000): [for c in range(1000): 1]]] is a billion) and
// templates ("%{for x in local.list}${local.big}%{endfor}" copies the text once per element).
// Neither can be bounded from outside hclsyntax's evaluator, so evalBounded rewrites the expression
// for the one evaluation and restores it after: every for expression's collection and every
// template part is wrapped in a hidden identity function that counts what passes through it
// against a budget, and once the budget is spent makes every further call return unknown at once,
// before any copy is made. The rewrite keeps the original nodes as the calls' arguments, so every
// range in a diagnostic stays the same.

// evalBudget counts the work of one evaluation.
type evalBudget struct {
	elements int64       // elements iterated by for expressions
	bytes    int64       // text produced by template parts
	over     *hcl.Range  // where the budget ran out, nil while it holds
	overWhat string      // what ran out: "elements" or "bytes"
	ranges   []hcl.Range // the range of each wrapped node, by the index in its function's name
	funcs    map[string]function.Function
}

const (
	budgetEach = "__loadplan_each_" // + index: a for expression's collection
	budgetPart = "__loadplan_part_" // + index: a template part
)

// evalBounded evaluates expr in ctx (whose functions are funcs) within the budget. what names
// the value in a diagnostic: "local.x", "This value".
func evalBounded(expr hcl.Expression, ctx *hcl.EvalContext, funcs map[string]function.Function, what string) (cty.Value, hcl.Diagnostics) {
	b, restore := bound(expr, funcs)
	if b == nil {
		return expr.Value(ctx) // nothing in it can grow
	}
	child := ctx.NewChild()
	child.Functions = b.funcs
	v, diags := expr.Value(child)
	restore()
	if b.over != nil {
		return cty.DynamicVal, hcl.Diagnostics{b.budgetDiag(what)} // not the hidden functions' own errors
	}
	return v, diags
}

// bound rewrites expr in place and returns the budget its evaluation must use — funcs extended
// by the counting functions — and the function that undoes the rewrite. It returns a nil budget
// when expr has neither a for expression nor a template.
func bound(expr hcl.Expression, funcs map[string]function.Function) (*evalBudget, func()) {
	syn, ok := expr.(hclsyntax.Expression)
	if !ok {
		return nil, nil
	}
	var undo []func()
	b := &evalBudget{funcs: maps.Clone(funcs)}
	wrap := func(prefix string, e hclsyntax.Expression) hclsyntax.Expression {
		i := len(b.ranges)
		r := e.Range()
		b.ranges = append(b.ranges, r)
		name := fmt.Sprintf("%s%d", prefix, i)
		b.funcs[name] = b.counter(i, prefix == budgetEach)
		return &hclsyntax.FunctionCallExpr{Name: name, Args: []hclsyntax.Expression{e},
			NameRange: r, OpenParenRange: r, CloseParenRange: r}
	}
	hasFor := false
	_ = hclsyntax.VisitAll(syn, func(n hclsyntax.Node) hcl.Diagnostics {
		switch n := n.(type) {
		case *hclsyntax.ForExpr:
			hasFor = true
			orig := n.CollExpr
			undo = append(undo, func() { n.CollExpr = orig })
			n.CollExpr = wrap(budgetEach, orig)
		case *hclsyntax.TemplateExpr:
			orig := n.Parts
			undo = append(undo, func() { n.Parts = orig })
			n.Parts = make([]hclsyntax.Expression, len(orig))
			for i, p := range orig {
				n.Parts[i] = wrap(budgetPart, p)
			}
		}
		return nil
	})
	if len(undo) == 0 {
		return nil, nil
	}
	if hasFor {
		// A for expression evaluates its body once per element, and the body's calls with it:
		// once the budget is spent they return unknown at once instead of doing their work.
		for name, fn := range funcs {
			b.funcs[name] = b.stopWhenSpent(fn)
		}
	}
	return b, func() {
		for _, u := range undo {
			u()
		}
	}
}

// stopWhenSpent returns fn, or an unknown value of its type once the budget is spent.
func (b *evalBudget) stopWhenSpent(fn function.Function) function.Function {
	return function.New(&function.Spec{
		Description: fn.Description(),
		Params:      fn.Params(),
		VarParam:    fn.VarParam(),
		Type:        fn.ReturnTypeForValues,
		Impl: func(args []cty.Value, ty cty.Type) (cty.Value, error) {
			if b.over != nil {
				return cty.UnknownVal(ty), nil
			}
			return fn.Call(args)
		},
	})
}

// counter is the identity function of wrapped node i: it adds the collection's length (each) or
// the part's text length to the budget.
func (b *evalBudget) counter(i int, each bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType,
			AllowUnknown: true, AllowNull: true, AllowDynamicType: true, AllowMarked: true}},
		Type: func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, _ := args[0].Unmark()
			if v.IsKnown() && !v.IsNull() {
				switch {
				case each && v.CanIterateElements():
					b.elements += int64(v.LengthInt())
				case !each && v.Type() == cty.String:
					b.bytes += int64(len(v.AsString()))
				case !each:
					b.bytes += 32 // a number or bool as text
				}
			}
			switch {
			case b.over != nil:
			case b.elements > maxForIterations:
				b.over, b.overWhat = &b.ranges[i], "elements"
			case b.bytes > maxBuildSize:
				b.over, b.overWhat = &b.ranges[i], "bytes"
			}
			if b.over != nil {
				// Unknown, not an error: a for expression goes on to its next element after an
				// error (one diagnostic each, a million of them), but skips an unknown collection.
				return cty.UnknownVal(args[0].Type()), nil
			}
			return args[0], nil
		},
	})
}

// budgetDiag is the diagnostic for an evaluation that spent its budget.
func (b *evalBudget) budgetDiag(what string) *hcl.Diagnostic {
	detail := fmt.Sprintf("%s iterates over more than %s elements here (for expressions nested in each other multiply). "+
		"A value computed while the plan loads takes at most %s iterations; build a smaller value, "+
		"or put the data in a CSV feeder (data \"name\" { csv = \"file.csv\" }).", what, thousands(maxForIterations), thousands(maxForIterations))
	if b.overWhat == "bytes" {
		detail = fmt.Sprintf("%s builds more than %s of text here (a template repeated by a for expression, or "+
			"large values joined). A string built while loading a plan is at most %s; build a smaller one, or read a file with file().",
			what, byteSize(maxBuildSize), byteSize(maxBuildSize))
	}
	r := *b.over
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value too large", Detail: detail, Subject: &r}
}

// checkLocalSize reports a local whose value is larger than maxValueSize, or that takes the locals
// together past maxLocalsSize; it says whether the value may be kept.
func (l *loader) checkLocalSize(name string, a *hcl.Attribute, v cty.Value) bool {
	n := valueSize(v, maxValueSize)
	if n > maxValueSize {
		l.errorAt(a.Expr.Range(), "Value too large",
			"local.%s is %s; a value holds at most %s (the bound of file()). Build a smaller value, or put the data in a CSV feeder.",
			name, describeSize(n), byteSize(maxValueSize))
		return false
	}
	if l.localsSize += n; l.localsSize > maxLocalsSize {
		l.errorAt(a.Expr.Range(), "Values too large",
			"With local.%s the locals hold %s together; they hold at most %s. Build smaller values, or put the data in a CSV feeder.",
			name, describeSize(l.localsSize), byteSize(maxLocalsSize))
		return false
	}
	return true
}
