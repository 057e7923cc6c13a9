package plan

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Runtime holds the per-iteration values a Template may read. The executor owns one per VU and
// updates it in place; a Template never retains it.
type Runtime struct {
	VU       int64               // vu.id, 1-based
	Iter     int64               // iter, 0-based within the VU
	Scenario string              // scenario.name
	Captures map[string]string   // capture.NAME
	Rows     map[string][]string // data.NAME.FIELD: the current row of each feeder, by feeder name
}

// runtimeRoots are the namespaces evaluated per iteration.
var runtimeRoots = map[string]bool{"vu": true, "iter": true, "capture": true, "data": true, "scenario": true}

// partKind is a piece of a fast-path string template.
type partKind uint8

const (
	litPart partKind = iota
	vuPart
	iterPart
	scenarioPart
	capturePart
	dataPart
)

type part struct {
	kind partKind
	lit  string
	name string // capture name or feeder name
	col  int    // feeder column
}

// Template is an expression compiled at load time. A constant one was folded once and costs
// nothing to read; a per-iteration one is either a fast string template of literals and runtime
// references (no HCL evaluation at all) or, when it calls functions on runtime values, an HCL
// expression evaluated with the runtime namespaces. Templates are immutable and shared by VUs.
type Template struct {
	Source    string // the expression as written, for messages and tags
	constant  bool
	value     cty.Value
	str       string // constant string form, when the value converts to a string
	strOK     bool
	sensitive bool
	parts     []part
	expr      hcl.Expression
	ctx       *hcl.EvalContext // load-time context (var, functions) for the general path
	feeders   map[string]*Feeder
}

// Literal returns a constant string template.
func Literal(s string) *Template {
	return &Template{Source: s, constant: true, value: cty.StringVal(s), str: s, strOK: true}
}

// IsConstant reports whether the template was folded at load time.
func (t *Template) IsConstant() bool { return t == nil || t.constant }

// Sensitive reports whether the value came from a secret (env()) and must never be shown.
func (t *Template) Sensitive() bool { return t != nil && t.sensitive }

// Display returns what may be shown of the template: the folded text of a constant, non-secret
// string, the source text otherwise (never an expanded secret or a per-iteration value).
func (t *Template) Display() string {
	if t == nil {
		return ""
	}
	if t.constant && t.strOK && !t.sensitive {
		return t.str
	}
	return t.Source
}

// AppendString appends the template's string value for rt to dst.
func (t *Template) AppendString(dst []byte, rt *Runtime) ([]byte, error) {
	if t == nil {
		return dst, nil
	}
	if t.constant {
		if !t.strOK {
			return dst, fmt.Errorf("%s: value is not a string", t.Source)
		}
		return append(dst, t.str...), nil
	}
	if t.parts != nil {
		for _, p := range t.parts {
			switch p.kind {
			case litPart:
				dst = append(dst, p.lit...)
			case vuPart:
				dst = strconv.AppendInt(dst, rt.VU, 10)
			case iterPart:
				dst = strconv.AppendInt(dst, rt.Iter, 10)
			case scenarioPart:
				dst = append(dst, rt.Scenario...)
			case capturePart:
				v, ok := rt.Captures[p.name]
				if !ok {
					return dst, fmt.Errorf("capture.%s has no value in this iteration", p.name)
				}
				dst = append(dst, v...)
			case dataPart:
				row := rt.Rows[p.name]
				if p.col >= len(row) {
					return dst, fmt.Errorf("data.%s has no current row", p.name)
				}
				dst = append(dst, row[p.col]...)
			}
		}
		return dst, nil
	}
	v, err := t.eval(rt)
	if err != nil {
		return dst, err
	}
	s, err := ctyString(v)
	if err != nil {
		return dst, fmt.Errorf("%s: %w", t.Source, err)
	}
	return append(dst, s...), nil
}

// String returns the template's string value for rt.
func (t *Template) String(rt *Runtime) (string, error) {
	if t == nil {
		return "", nil
	}
	if t.constant && t.strOK {
		return t.str, nil
	}
	b, err := t.AppendString(nil, rt)
	return string(b), err
}

// JSON returns the template's value for rt encoded as JSON.
func (t *Template) JSON(rt *Runtime) ([]byte, error) {
	v, err := t.Value(rt)
	if err != nil {
		return nil, err
	}
	return ctyToJSON(v)
}

// Interface returns the template's value for rt as plain Go data, as encoding/json would decode
// it: map[string]any, []any, string, float64, bool or nil.
func (t *Template) Interface(rt *Runtime) (any, error) {
	b, err := t.JSON(rt)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Value returns the template's cty value for rt.
func (t *Template) Value(rt *Runtime) (cty.Value, error) {
	if t == nil {
		return cty.NullVal(cty.DynamicPseudoType), nil
	}
	if t.constant {
		return t.value, nil
	}
	if t.parts != nil {
		s, err := t.String(rt)
		if err != nil {
			return cty.NilVal, err
		}
		return cty.StringVal(s), nil
	}
	return t.eval(rt)
}

func (t *Template) eval(rt *Runtime) (cty.Value, error) {
	ctx := t.ctx.NewChild()
	ctx.Variables = runtimeVars(rt, t.feeders)
	v, diags := t.expr.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s", diags.Error())
	}
	v, _ = v.UnmarkDeep()
	return v, nil
}

func runtimeVars(rt *Runtime, feeders map[string]*Feeder) map[string]cty.Value {
	if rt == nil {
		rt = &Runtime{}
	}
	caps := make(map[string]cty.Value, len(rt.Captures))
	for k, v := range rt.Captures {
		caps[k] = cty.StringVal(v)
	}
	data := make(map[string]cty.Value, len(feeders))
	for name, f := range feeders {
		row := rt.Rows[name]
		fields := make(map[string]cty.Value, len(f.Header))
		for i, h := range f.Header {
			if i < len(row) {
				fields[h] = cty.StringVal(row[i])
			} else {
				fields[h] = cty.StringVal("")
			}
		}
		data[name] = cty.ObjectVal(fields)
	}
	return map[string]cty.Value{
		"vu":       cty.ObjectVal(map[string]cty.Value{"id": cty.NumberIntVal(rt.VU)}),
		"iter":     cty.NumberIntVal(rt.Iter),
		"scenario": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(rt.Scenario)}),
		"capture":  cty.ObjectVal(caps),
		"data":     cty.ObjectVal(data),
	}
}

// NeedsRuntime reports whether expr reads a runtime namespace (vu, iter, capture, data, scenario)
// or calls a function whose value changes per call (uuid, random_int, random_item, timestamp).
func NeedsRuntime(expr hcl.Expression) bool {
	for _, tr := range expr.Variables() {
		if runtimeRoots[tr.RootName()] {
			return true
		}
	}
	found := false
	if se, ok := expr.(hclsyntax.Expression); ok {
		hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
			if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && impureFuncs[call.Name] {
				found = true
			}
			return nil
		})
	}
	return found
}

// CompileTemplate compiles expr. Constant expressions are evaluated now with ctx (which holds var,
// env() and the other load-time functions); expressions that need the runtime are kept for
// per-iteration evaluation, as a fast string template when they are only literals and runtime
// references. src is the bytes of the file expr comes from; feeders resolves data.NAME.FIELD. The caller has already checked references.
func CompileTemplate(expr hcl.Expression, src []byte, ctx *hcl.EvalContext, feeders map[string]*Feeder) (*Template, hcl.Diagnostics) {
	rng := expr.Range()
	t := &Template{Source: string(rng.SliceBytes(src))}
	if t.Source == "" {
		t.Source = "(expression)"
	}
	if !NeedsRuntime(expr) {
		v, diags := expr.Value(ctx)
		if diags.HasErrors() {
			return nil, diags
		}
		return constantTemplate(t.Source, v), diags
	}
	t.expr, t.ctx, t.feeders = expr, ctx, feeders
	if parts, ok := fastParts(expr, feeders); ok {
		t.parts = parts
	}
	// Secrets may flow into a per-iteration value: its display is always the source text.
	t.sensitive = true
	return t, nil
}

func constantTemplate(src string, v cty.Value) *Template {
	t := &Template{Source: src, constant: true}
	if v.IsMarked() {
		t.sensitive = true
		v, _ = v.UnmarkDeep()
	} else if v.ContainsMarked() {
		t.sensitive = true
		v, _ = v.UnmarkDeep()
	}
	t.value = v
	if s, err := ctyString(v); err == nil {
		t.str, t.strOK = s, true
	}
	return t
}

func fastParts(expr hcl.Expression, feeders map[string]*Feeder) ([]part, bool) {
	var items []hclsyntax.Expression
	switch e := expr.(type) {
	case *hclsyntax.TemplateExpr:
		items = e.Parts
	case *hclsyntax.TemplateWrapExpr:
		items = []hclsyntax.Expression{e.Wrapped}
	case *hclsyntax.ScopeTraversalExpr:
		items = []hclsyntax.Expression{e}
	default:
		return nil, false
	}
	parts := make([]part, 0, len(items))
	for _, it := range items {
		switch e := it.(type) {
		case *hclsyntax.LiteralValueExpr:
			s, err := ctyString(e.Val)
			if err != nil {
				return nil, false
			}
			parts = append(parts, part{kind: litPart, lit: s})
		case *hclsyntax.ScopeTraversalExpr:
			p, ok := traversalPart(e.Traversal, feeders)
			if !ok {
				return nil, false
			}
			parts = append(parts, p)
		default:
			return nil, false
		}
	}
	return parts, true
}

func traversalPart(tr hcl.Traversal, feeders map[string]*Feeder) (part, bool) {
	attr := func(i int) (string, bool) {
		if i >= len(tr) {
			return "", false
		}
		a, ok := tr[i].(hcl.TraverseAttr)
		return a.Name, ok
	}
	switch tr.RootName() {
	case "vu":
		if n, ok := attr(1); ok && n == "id" && len(tr) == 2 {
			return part{kind: vuPart}, true
		}
	case "iter":
		if len(tr) == 1 {
			return part{kind: iterPart}, true
		}
	case "scenario":
		if n, ok := attr(1); ok && n == "name" && len(tr) == 2 {
			return part{kind: scenarioPart}, true
		}
	case "capture":
		if n, ok := attr(1); ok && len(tr) == 2 {
			return part{kind: capturePart, name: n}, true
		}
	case "data":
		name, ok1 := attr(1)
		field, ok2 := attr(2)
		if ok1 && ok2 && len(tr) == 3 {
			if f := feeders[name]; f != nil {
				if c := f.Column(field); c >= 0 {
					return part{kind: dataPart, name: name, col: c}, true
				}
			}
		}
	}
	return part{}, false
}

// ctyString converts a primitive value to its string form.
func ctyString(v cty.Value) (string, error) {
	if v.IsNull() {
		return "", nil
	}
	if !v.IsKnown() {
		return "", fmt.Errorf("value is not known")
	}
	switch v.Type() {
	case cty.String:
		return v.AsString(), nil
	case cty.Number:
		bf := v.AsBigFloat()
		if bf.IsInt() {
			i, _ := bf.Int(new(big.Int))
			return i.String(), nil
		}
		f, _ := bf.Float64()
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	case cty.Bool:
		return strconv.FormatBool(v.True()), nil
	}
	return "", fmt.Errorf("a %s is not a string; use jsonencode() to turn it into text", v.Type().FriendlyName())
}

func ctyToJSON(v cty.Value) ([]byte, error) {
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		return []byte("null"), nil
	}
	return ctyjson.Marshal(v, v.Type())
}
