package plan

import (
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// jsonKind is the kind of a node of a compiled JSON value.
type jsonKind uint8

const (
	jsonConst  jsonKind = iota + 1 // pre-encoded JSON
	jsonString                     // a string template of literals and runtime references
	jsonNumber                     // vu.id or iter on its own: a number, as HCL evaluates it
	jsonObject                     // keys sorted, as cty encodes objects
	jsonArray
	jsonCall // a lone impure function call: its value encoded as cty does
)

// jsonNode is a per-iteration value whose JSON encoding needs no HCL evaluation: objects and lists
// of constants and string templates, e.g. { user = "u${vu.id}", password = data.users.password }.
// It encodes byte for byte as the general path (HCL, then cty's JSON, which is canonical) does,
// not merely to equal JSON, so a server hashing a body sees one body. FuzzTemplateJSON checks it.
type jsonNode struct {
	kind  jsonKind
	raw   []byte // jsonConst
	parts []part // jsonString, jsonNumber
	keys  [][]byte
	elems []*jsonNode
}

// compileJSON builds the fast JSON form of expr, or returns false when expr needs the general path.
func compileJSON(expr hclsyntax.Expression, ctx *hcl.EvalContext, feeders map[string]*Feeder) (*jsonNode, bool) {
	if !NeedsRuntime(expr) {
		v, diags := expr.Value(ctx)
		if diags.HasErrors() {
			return nil, false
		}
		b, err := ctyToJSON(v)
		if err != nil {
			return nil, false
		}
		return &jsonNode{kind: jsonConst, raw: b}, true
	}
	switch e := expr.(type) {
	case *hclsyntax.ObjectConsExpr:
		type kv struct {
			key  string
			node *jsonNode
		}
		items := make([]kv, 0, len(e.Items))
		seen := map[string]bool{}
		for _, it := range e.Items {
			k, diags := it.KeyExpr.Value(ctx)
			if diags.HasErrors() || !k.IsKnown() || k.IsNull() || k.IsMarked() {
				return nil, false
			}
			ks, err := ctyString(k)
			if err != nil || seen[ks] {
				return nil, false
			}
			seen[ks] = true
			n, ok := compileJSON(it.ValueExpr, ctx, feeders)
			if !ok {
				return nil, false
			}
			items = append(items, kv{ks, n})
		}
		sort.Slice(items, func(i, j int) bool { return items[i].key < items[j].key })
		n := &jsonNode{kind: jsonObject}
		for _, it := range items {
			n.keys = append(n.keys, appendJSONString(nil, it.key))
			n.elems = append(n.elems, it.node)
		}
		return n, true
	case *hclsyntax.TupleConsExpr:
		n := &jsonNode{kind: jsonArray}
		for _, x := range e.Exprs {
			c, ok := compileJSON(x, ctx, feeders)
			if !ok {
				return nil, false
			}
			n.elems = append(n.elems, c)
		}
		return n, true
	}
	parts, ok := fastParts(expr, ctx, feeders)
	if !ok {
		return nil, false
	}
	// A lone vu.id or iter ("${vu.id}" too) evaluates to a number in HCL; anything else is text.
	if len(parts) == 1 && (parts[0].kind == vuPart || parts[0].kind == iterPart) {
		return &jsonNode{kind: jsonNumber, parts: parts}, true
	}
	if len(parts) == 1 && parts[0].kind == callPart {
		return &jsonNode{kind: jsonCall, parts: parts}, true
	}
	return &jsonNode{kind: jsonString, parts: parts}, true
}

// appendJSON appends the encoding of n for rt to dst.
func (n *jsonNode) appendJSON(dst []byte, rt *Runtime) ([]byte, error) {
	switch n.kind {
	case jsonConst:
		return append(dst, n.raw...), nil
	case jsonNumber:
		v := rt.VU
		if n.parts[0].kind == iterPart {
			v = rt.Iter
		}
		return strconv.AppendInt(dst, v, 10), nil
	case jsonCall:
		p := n.parts[0]
		v, err := p.fn.Call(p.args)
		if err != nil {
			return dst, fmt.Errorf("%s(): %w", p.name, err)
		}
		b, err := ctyToJSON(v)
		if err != nil {
			return dst, err
		}
		return append(dst, b...), nil
	case jsonString:
		start := len(dst)
		dst, err := appendParts(dst, n.parts, rt)
		if err != nil {
			return dst, err
		}
		s := string(dst[start:])
		return appendJSONString(dst[:start], s), nil
	case jsonObject:
		dst = append(dst, '{')
		for i, k := range n.keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, k...)
			dst = append(dst, ':')
			var err error
			if dst, err = n.elems[i].appendJSON(dst, rt); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case jsonArray:
		dst = append(dst, '[')
		for i, e := range n.elems {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = e.appendJSON(dst, rt); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	}
	return dst, fmt.Errorf("unknown JSON node")
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping as encoding/json does by default (HTML
// characters, U+2028 and U+2029, invalid UTF-8 as U+FFFD), so both paths encode identically.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendParts appends the text of a fast-path template, in Unicode normal form C as cty makes
// every string on the general path: both paths send "e\u0301" from a capture as "\u00e9".
func appendParts(dst []byte, parts []part, rt *Runtime) ([]byte, error) {
	start := len(dst)
	dst, err := appendRawParts(dst, parts, rt)
	if err != nil {
		return dst, err
	}
	for _, c := range dst[start:] {
		if c >= utf8.RuneSelf { // ASCII is in normal form C already
			return append(dst[:start], cty.NormalizeString(string(dst[start:]))...), nil
		}
	}
	return dst, nil
}

func appendRawParts(dst []byte, parts []part, rt *Runtime) ([]byte, error) {
	for _, p := range parts {
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
		case vuCapturePart:
			v, ok := rt.VUCaptures[p.name]
			if !ok {
				return dst, fmt.Errorf("vu.%s has no value: this VU's setup did not capture it", p.name)
			}
			dst = append(dst, v...)
		case callPart:
			v, err := p.fn.Call(p.args)
			if err != nil {
				return dst, fmt.Errorf("%s(): %w", p.name, err)
			}
			if v.IsNull() {
				return dst, fmt.Errorf("%s() returned null, which a string cannot hold", p.name)
			}
			s, err := ctyString(v)
			if err != nil {
				return dst, fmt.Errorf("%s(): %w", p.name, err)
			}
			dst = append(dst, s...)
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

func fastParts(expr hcl.Expression, ctx *hcl.EvalContext, feeders map[string]*Feeder) ([]part, bool) {
	var items []hclsyntax.Expression
	switch e := expr.(type) {
	case *hclsyntax.TemplateExpr:
		items = e.Parts
	case *hclsyntax.TemplateWrapExpr:
		items = []hclsyntax.Expression{e.Wrapped}
	case *hclsyntax.ScopeTraversalExpr, *hclsyntax.FunctionCallExpr:
		items = []hclsyntax.Expression{e.(hclsyntax.Expression)}
	default:
		return nil, false
	}
	parts := make([]part, 0, len(items))
	for _, it := range items {
		if _, isLit := it.(*hclsyntax.LiteralValueExpr); !isLit && ctx != nil && !NeedsRuntime(it) {
			// A constant piece (var.host, local.x, format("%03d", 7)) is folded into a literal.
			v, diags := it.Value(ctx)
			if diags.HasErrors() {
				return nil, false
			}
			v, _ = v.UnmarkDeep()
			s, err := ctyString(v)
			if err != nil || v.IsNull() { // HCL refuses a null in a template: let it say so
				return nil, false
			}
			parts = append(parts, part{kind: litPart, lit: s})
			continue
		}
		switch e := it.(type) {
		case *hclsyntax.LiteralValueExpr:
			s, err := ctyString(e.Val)
			if err != nil || e.Val.IsNull() {
				return nil, false
			}
			parts = append(parts, part{kind: litPart, lit: s})
		case *hclsyntax.ScopeTraversalExpr:
			p, ok := traversalPart(e.Traversal, feeders)
			if !ok {
				return nil, false
			}
			parts = append(parts, p)
		case *hclsyntax.FunctionCallExpr:
			p, ok := callPartOf(e, ctx)
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
		} else if ok && len(tr) == 2 {
			return part{kind: vuCapturePart, name: n}, true
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

// callPartOf compiles a call of an impure function (uuid(), random_int(1, 9), random_item([...]),
// timestamp()) whose arguments are constant: the arguments are evaluated once, the function is
// called per iteration without evaluating HCL.
func callPartOf(e *hclsyntax.FunctionCallExpr, ctx *hcl.EvalContext) (part, bool) {
	if !impureFuncs[e.Name] || e.ExpandFinal || ctx == nil {
		return part{}, false
	}
	fn, ok := ctx.Functions[e.Name]
	if !ok {
		return part{}, false
	}
	args := make([]cty.Value, 0, len(e.Args))
	for _, a := range e.Args {
		if NeedsRuntime(a) {
			return part{}, false
		}
		v, diags := a.Value(ctx)
		if diags.HasErrors() || v.ContainsMarked() || !v.IsWhollyKnown() {
			return part{}, false
		}
		args = append(args, v)
	}
	// Check the arguments once, now: a call that cannot succeed stays on the general path, which
	// reports the error with its source range.
	if _, err := fn.Call(args); err != nil {
		return part{}, false
	}
	return part{kind: callPart, name: e.Name, fn: fn, args: args}, true
}
