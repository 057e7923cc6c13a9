package plan

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// compileSource compiles src as compileForTest does, or reports false when it does not compile.
func compileSource(src string) (*Template, bool) {
	expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, false
	}
	feeders := map[string]*Feeder{"users": {Name: "users", Header: []string{"user", "password"}}}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"x": cty.StringVal("X")})},
		Functions: Functions(Options{Env: map[string]string{}}, "."),
	}
	tp, diags := CompileTemplate(expr, []byte(src), ctx, feeders)
	return tp, !diags.HasErrors()
}

// hclString writes s as the inside of an HCL quoted string: escapes for quotes, backslashes,
// "${", "%{" and every non-printing character, so that HCL reads back s (invalid UTF-8 becomes
// U+FFFD, which a plan cannot hold otherwise).
func hclString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '$' || r == '%':
			fmt.Fprintf(&b, `\u%04x`, r) // never the start of "${" or "%{"
		case r > 0xffff && !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

var numberLiteral = regexp.MustCompile(`^[0-9]{1,40}(\.[0-9]{1,40})?([eE][+-]?[0-9]{1,3})?$`)

// jsonDiff compiles src, evaluates it for rt on the fast path and on the general one (HCL, then
// cty's JSON encoding), and says how the two differ, or "" when they agree.
func jsonDiff(src string, rt *Runtime) string {
	tp, ok := compileSource(src)
	if !ok || (tp.json == nil && tp.parts == nil) {
		return ""
	}
	slow := *tp
	slow.json, slow.parts = nil, nil
	if tp.json != nil {
		got, gerr := tp.JSON(rt)
		want, werr := slow.JSON(rt)
		if (gerr == nil) != (werr == nil) || string(got) != string(want) {
			return fmt.Sprintf("JSON of %s:\nfast    %s (%v)\ngeneral %s (%v)", src, got, gerr, want, werr)
		}
	}
	if tp.parts != nil {
		got, gerr := tp.String(rt)
		want, werr := slow.String(rt)
		if (gerr == nil) != (werr == nil) || got != want {
			return fmt.Sprintf("String of %s:\nfast    %q (%v)\ngeneral %q (%v)", src, got, gerr, want, werr)
		}
	}
	return ""
}

// FuzzTemplateJSON holds the compiled per-iteration JSON bodies and string templates to the
// general path they replace, byte for byte: numbers in every notation, strings with every kind of
// escape (control characters, U+2028/2029, <>&, quotes, backslashes, invalid UTF-8, text that is
// not in Unicode normal form C), nested objects and lists, keys in every order.
func FuzzTemplateJSON(f *testing.F) {
	f.Add("k", "lit", "1.50", false, "tok", "alice", "s", int64(1), int64(0))
	f.Add("a b", "<&>\u2028\u2029", "12345678901234567890", true, "\"\\\n\x00\x1f\x7f", "p\xffw", "sc", int64(-5), int64(1<<40))
	f.Add("é", "e\u0301", "0", true, "e\u0301", "\xe2\x80", "", int64(0), int64(-1))
	f.Add("Z", "${x}%{y}$$", "1e400", false, "\U0001F600\ufeff", "\u212b", "x\ty", int64(9), int64(9))
	f.Add("_", "\u0000", "0.1e-7", true, "", "", "\u00e9", int64(1<<62), int64(3))
	f.Add("0", "", "000123.4500e+2", false, "\\u0041", "</script>", "a&b", int64(7), int64(7))
	f.Fuzz(func(t *testing.T, key, lit, num string, neg bool, capture, row, scen string, vu, iter int64) {
		if !numberLiteral.MatchString(num) {
			num = "0"
		}
		if neg {
			num = "-" + num
		}
		k, l := hclString(key), hclString(lit)
		rt := &Runtime{VU: vu, Iter: iter, Scenario: scen, Captures: map[string]string{"c": capture},
			VUCaptures: map[string]string{"t": row + capture}, Rows: map[string][]string{"users": {row, capture + row}}}
		for _, src := range []string{
			fmt.Sprintf(`{ "%s" = "%s${capture.c}${%s}-${data.users.user}", n = %s, v = vu.id, i = "${iter}", s = scenario.name,
				l = [%s, capture.c, "${vu.id}", { z = data.users.password, "%s" = true, y = null }, "%s", []], o = {} }`,
				k, l, num, num, num, k, l),
			fmt.Sprintf(`["%s${data.users.user}%s", { "%s${var.x}" = "${scenario.name}${%s}" }, "${iter}"]`, l, l, k, num),
			fmt.Sprintf(`"%s${capture.c}${%s}${data.users.password}"`, l, num),
			fmt.Sprintf(`"${%s}${vu.id}"`, num),
			fmt.Sprintf(`{ w = vu.t, "%s" = "%s${vu.t}${vu.id}", l = [vu.t, "${vu.t}"] }`, k, l), // setup captures (issue 12)
			// Impure functions with one possible result: called per use on the fast path.
			fmt.Sprintf(`{ r = random_item(["%s"]), n = random_item([%s]), t = "x${random_item([%s])}${capture.c}" }`, l, num, num),
			fmt.Sprintf(`"${random_item([%s])}"`, num),
		} {
			if d := jsonDiff(src, rt); d != "" {
				t.Fatal(d)
			}
		}
	})
}
