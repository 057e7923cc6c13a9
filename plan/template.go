package plan

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Runtime holds the per-iteration values a Template may read. The executor owns one per VU and
// updates it in place; a Template never retains it.
type Runtime struct {
	VU int64 // vu.id, 1-based
	// VUCaptures are vu.NAME: the captures made in setup (and teardown), kept for the VU's life.
	// While setup or teardown runs, the executor points Captures at this same map, so that the
	// step kinds, which write captures into Captures, need not know where they run.
	VUCaptures map[string]string
	Iter       int64               // iter, 0-based within the VU
	Scenario   string              // scenario.name
	Captures   map[string]string   // capture.NAME
	Rows       map[string][]string // data.NAME.FIELD: the current row of each feeder, by feeder name
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
	vuCapturePart // vu.NAME: a capture made in setup
	dataPart
	callPart // an impure function (uuid, random_int, ...) called on constant arguments
)

type part struct {
	kind partKind
	lit  string
	name string // capture name, feeder name or function name
	col  int    // feeder column
	fn   function.Function
	args []cty.Value // callPart: the arguments, evaluated at load
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
	json      *jsonNode       // fast JSON encoding of a per-iteration object or list, when possible
	roots     map[string]bool // the runtime namespaces the expression reads
	blank     *blankCaptures  // a condition's captures that read as "" when they have no value
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
		return appendParts(dst, t.parts, rt)
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

// JSON returns the template's value for rt encoded as JSON. Objects and lists of constants and
// simple string templates are encoded without evaluating HCL at all.
func (t *Template) JSON(rt *Runtime) ([]byte, error) {
	if t != nil && t.json != nil {
		if rt == nil {
			rt = &Runtime{}
		}
		return t.json.appendJSON(nil, rt)
	}
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
		if len(t.parts) == 1 {
			// A lone vu.id, iter or function call keeps its type, as HCL evaluates it.
			switch p := t.parts[0]; p.kind {
			case vuPart, iterPart:
				if rt == nil {
					rt = &Runtime{}
				}
				if p.kind == vuPart {
					return cty.NumberIntVal(rt.VU), nil
				}
				return cty.NumberIntVal(rt.Iter), nil
			case callPart:
				return p.fn.Call(p.args)
			}
		}
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
	ctx.Variables = runtimeVars(rt, t.feeders, t.roots)
	if t.blank != nil {
		t.blank.fill(ctx.Variables)
	}
	v, diags := t.expr.Value(ctx)
	if diags.HasErrors() {
		return cty.NilVal, fmt.Errorf("%s", diags.Error())
	}
	v, _ = v.UnmarkDeep()
	return v, nil
}

// runtimeVars builds the runtime namespaces an expression reads (roots; all of them when nil).
func runtimeVars(rt *Runtime, feeders map[string]*Feeder, roots map[string]bool) map[string]cty.Value {
	if rt == nil {
		rt = &Runtime{}
	}
	if roots != nil {
		out := make(map[string]cty.Value, len(roots))
		if roots["vu"] {
			out["vu"] = vuObject(rt)
		}
		if roots["iter"] {
			out["iter"] = cty.NumberIntVal(rt.Iter)
		}
		if roots["scenario"] {
			out["scenario"] = cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(rt.Scenario)})
		}
		if roots["capture"] || roots["data"] {
			all := runtimeVars(rt, feeders, nil)
			out["capture"], out["data"] = all["capture"], all["data"]
		}
		return out
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
		"vu":       vuObject(rt),
		"iter":     cty.NumberIntVal(rt.Iter),
		"scenario": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(rt.Scenario)}),
		"capture":  cty.ObjectVal(caps),
		"data":     cty.ObjectVal(data),
	}
}

// vuObject is the vu namespace: vu.id and the VU's captures (vu.NAME; validate keeps NAME from
// being id).
func vuObject(rt *Runtime) cty.Value {
	attrs := make(map[string]cty.Value, 1+len(rt.VUCaptures))
	for k, v := range rt.VUCaptures {
		attrs[k] = cty.StringVal(v)
	}
	attrs["id"] = cty.NumberIntVal(rt.VU)
	return cty.ObjectVal(attrs)
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
	t.roots = map[string]bool{}
	for _, tr := range expr.Variables() {
		if runtimeRoots[tr.RootName()] {
			t.roots[tr.RootName()] = true
		}
	}
	if parts, ok := fastParts(expr, ctx, feeders); ok {
		t.parts = parts
	}
	if se, ok := expr.(hclsyntax.Expression); ok {
		switch se.(type) {
		case *hclsyntax.ObjectConsExpr, *hclsyntax.TupleConsExpr:
			if n, ok := compileJSON(se, ctx, feeders); ok {
				t.json = n
			}
		}
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
		// As cty converts a number to a string (and HCL a number in a template): full decimal
		// notation, "-0" kept. A float64 detour wrote 1e-08 and the wrong digits of 1e400.
		return v.AsBigFloat().Text('f', -1), nil
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
