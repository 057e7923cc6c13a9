package plan

import (
	"fmt"
	"maps"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// A local is computed once, at load, and HCL offers it two ways to grow without any function:
// for expressions (nested ones multiply: [for i in range(1e6): [for j in range(1e6): j]]) and
// templates ("%{for x in local.big}${local.big}%{endfor}" copies the text once per element).
// Neither can be bounded from outside hclsyntax's evaluator, so before a local is evaluated its
// expression is rewritten: every for expression's collection and every template part is wrapped in
// a hidden identity function that counts what passes through it against a budget, and fails the
// evaluation when the budget is spent — before the copy is made. The rewrite keeps the original
// nodes as the calls' arguments, so Variables() and every range in a diagnostic stay the same.

// localBudget counts the work of evaluating one local.
type localBudget struct {
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

// bound rewrites expr in place and returns the budget its evaluation must use, with funcs (the
// plan's functions) extended by the counting ones.
func bound(expr hcl.Expression, funcs map[string]function.Function) *localBudget {
	b := &localBudget{funcs: maps.Clone(funcs)}
	syn, ok := expr.(hclsyntax.Expression)
	if !ok {
		return b
	}
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
			n.CollExpr = wrap(budgetEach, n.CollExpr)
		case *hclsyntax.TemplateExpr:
			for i, p := range n.Parts {
				n.Parts[i] = wrap(budgetPart, p)
			}
		}
		return nil
	})
	if hasFor {
		// A for expression evaluates its body once per element, and the body's calls with it:
		// once the budget is spent they return unknown at once instead of doing their work.
		for name, fn := range funcs {
			b.funcs[name] = b.stopWhenSpent(fn)
		}
	}
	return b
}

// stopWhenSpent returns fn, or an unknown value of its type once the budget is spent.
func (b *localBudget) stopWhenSpent(fn function.Function) function.Function {
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
func (b *localBudget) counter(i int, each bool) function.Function {
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

// budgetDiag is the diagnostic for a local whose evaluation spent its budget.
func (b *localBudget) budgetDiag(name string) *hcl.Diagnostic {
	detail := fmt.Sprintf("local.%s iterates over more than %s elements here (for expressions nested in each other multiply). "+
		"A local is computed before the test starts, by at most %s iterations; build a smaller value, "+
		"or put the data in a CSV feeder (data \"name\" { csv = \"file.csv\" }).", name, thousands(maxForIterations), thousands(maxForIterations))
	if b.overWhat == "bytes" {
		detail = fmt.Sprintf("local.%s builds more than %s of text here (a template repeated by a for expression, or "+
			"large values joined). A string built while loading a plan is at most %s; build a smaller one, or read a file with file().",
			name, byteSize(maxBuildSize), byteSize(maxBuildSize))
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
