package plan

import (
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Hidden is what names, tags and diagnostics show in place of a value that came from env() or a
// sensitive variable: the value is used, never printed.
const Hidden = "(sensitive)"

// quoted renders s for a message: Go-quoted, or Hidden when it came from a secret.
func quoted(s string, sensitive bool) string {
	if sensitive {
		return Hidden
	}
	return strconv.Quote(s)
}

// shown is quoted without the quotes.
func shown(s string, sensitive bool) string {
	if sensitive {
		return Hidden
	}
	return s
}

// hintFor is didYouMean for a value that may be a secret: a suggestion close to a secret would
// tell what it nearly is, so a secret gets the list of valid values instead.
func hintFor(given string, sensitive bool, candidates []string) string {
	if sensitive {
		return " Valid values: " + quoteList(candidates) + "."
	}
	return didYouMean(given, candidates)
}

// constantKeep is constant that keeps the marks on the value, so that a caller can tell which
// element of a collection came from a secret.
func (l *loader) constantKeep(a *hcl.Attribute, sc *scope) (cty.Value, bool) {
	csc := *sc
	csc.runtime = false
	if !l.checkRefs(a.Expr, &csc) {
		return cty.NilVal, false
	}
	v, ok := l.probeMarked(a.Expr, &csc)
	if !ok {
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		l.errorAt(a.Expr.Range(), "Value not known at load time", "The value of %s must be known before the test starts.", a.Name)
		return cty.NilVal, false
	}
	return v, true
}

// strMarked is str that also says whether the string came from a secret.
func (l *loader) strMarked(a *hcl.Attribute, sc *scope) (string, bool, bool) {
	v, sensitive, ok := l.constantMarked(a, sc)
	if !ok {
		return "", false, false
	}
	v, ok = l.convertTo(a, v, cty.String, `Write it in quotes, e.g. "text".`)
	if !ok {
		return "", false, false
	}
	return v.AsString(), sensitive, true
}

// markedKeys says, for a still-marked map or object, which keys hold a secret: every key when the
// collection itself is marked (a map built from env() as a whole).
func markedKeys(v cty.Value) map[string]bool {
	out := map[string]bool{}
	top, marks := v.Unmark()
	if top.IsNull() || !top.IsKnown() || !(top.Type().IsMapType() || top.Type().IsObjectType()) {
		return out
	}
	for k, e := range top.AsValueMap() {
		out[k] = len(marks) > 0 || e.ContainsMarked()
	}
	return out
}

// markedIndexes is markedKeys for a list, tuple or set, or a single value (one index).
func markedIndexes(v cty.Value) []bool {
	top, marks := v.Unmark()
	ty := top.Type()
	if top.IsNull() || !top.IsKnown() || !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
		return []bool{v.ContainsMarked()}
	}
	var out []bool
	for _, e := range top.AsValueSlice() {
		out = append(out, len(marks) > 0 || e.ContainsMarked())
	}
	return out
}

// strMapMarked is strMap that also says which values came from a secret.
func (l *loader) strMapMarked(a *hcl.Attribute, sc *scope) (map[string]string, map[string]bool, bool) {
	v, ok := l.constantKeep(a, sc)
	if !ok {
		return nil, nil, false
	}
	secret := markedKeys(v)
	v, _ = v.UnmarkDeep()
	v, ok = l.convertTo(a, v, cty.Map(cty.String), `Write an object of strings, e.g. { team = "payments" }.`)
	if !ok {
		return nil, nil, false
	}
	out := map[string]string{}
	for k, e := range v.AsValueMap() {
		if !e.IsNull() {
			out[k] = e.AsString()
		}
	}
	return out, secret, true
}

// minScrubbed is the shortest secret the last pass over the diagnostics looks for: a shorter one
// would be found inside unrelated words, and is no secret worth the name.
const minScrubbed = 4

// scrubDiagnostics is the safety net behind the messages that already hide what they format: any
// diagnostic text that still holds the value of a secret — an env() the plan reads or a sensitive
// variable — gets Hidden in its place. A diagnostic whose expression reads a secret loses the
// "with var.x as ..." context HCL prints under it and, when a function failed, the function's
// own message, which may quote a piece of the argument.
func (l *loader) scrubDiagnostics() {
	secrets := l.secretValues(minScrubbed)
	r := make([]string, 0, 2*len(secrets))
	for _, s := range secrets {
		r = append(r, s, Hidden)
	}
	rep := strings.NewReplacer(r...)
	for _, d := range l.diags {
		if len(secrets) > 0 {
			d.Summary, d.Detail = rep.Replace(d.Summary), rep.Replace(d.Detail)
		}
		if d.Expression == nil || !readsSecret(d.Expression, d.EvalContext) {
			continue
		}
		d.EvalContext = nil
		if d.Summary == "Error in function call" || d.Summary == "Invalid function argument" {
			// A function's own message may quote a piece of its argument (jsondecode: "invalid
			// character 's'"): keep which call and parameter, drop the rest.
			if i := strings.Index(d.Detail, ": "); i >= 0 {
				d.Detail = d.Detail[:i]
			}
			d.Detail += ": the argument is sensitive, so the function's message is not shown. Check the value you set."
		}
	}
}

// readsSecret reports whether expr calls env() or reads a variable holding a secret.
func readsSecret(expr hcl.Expression, ctx *hcl.EvalContext) bool {
	if ctx != nil && refsSecret(expr, ctx) {
		return true
	}
	found := false
	if se, ok := expr.(hclsyntax.Expression); ok {
		hclsyntax.VisitAll(se, func(n hclsyntax.Node) hcl.Diagnostics {
			if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && call.Name == "env" {
				found = true
			}
			return nil
		})
	}
	return found
}

// refsSecret reports whether expr reads a variable that holds a secret anywhere inside it.
func refsSecret(expr hcl.Expression, ctx *hcl.EvalContext) bool {
	for _, tr := range expr.Variables() {
		if v, diags := tr.TraverseAbs(ctx); !diags.HasErrors() && v.ContainsMarked() {
			return true
		}
	}
	return false
}

// secretValues lists the text of every secret the plan can read of at least minLen bytes, longest
// first so that a secret containing another is replaced whole: the values of sensitive variables
// and of the environment variables named by env("NAME") calls (or their defaults).
func (l *loader) secretValues(minLen int) []string {
	seen := map[string]bool{}
	var out []string
	add := func(v cty.Value) {
		forEachText(v, func(s string) {
			if len(s) >= minLen && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		})
	}
	for _, d := range l.varDecls {
		if d.v.Sensitive && d.value != cty.NilVal {
			add(d.value)
		}
	}
	for _, name := range sortedKeys(l.files) {
		f := l.files[name]
		if f == nil {
			continue
		}
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			call, ok := n.(*hclsyntax.FunctionCallExpr)
			if !ok || call.Name != "env" || len(call.Args) == 0 {
				return nil
			}
			if nv, diags := call.Args[0].Value(nil); !diags.HasErrors() && nv.Type() == cty.String && nv.IsKnown() && !nv.IsNull() {
				if s, ok := l.opts.Env[nv.AsString()]; ok {
					add(cty.StringVal(s))
					return nil
				}
			}
			if len(call.Args) > 1 {
				if dv, diags := call.Args[1].Value(nil); !diags.HasErrors() {
					add(dv)
				}
			}
			return nil
		})
	}
	// Longest first: strings.Replacer tries its old strings in argument order at each position.
	sortByLenDesc(out)
	return out
}

// forEachText calls fn with the text of every primitive inside v.
func forEachText(v cty.Value, fn func(string)) {
	v, _ = v.UnmarkDeep()
	if v.IsNull() || !v.IsKnown() {
		return
	}
	ty := v.Type()
	switch {
	case ty.IsPrimitiveType():
		if s, err := ctyString(v); err == nil {
			fn(s)
		}
	case ty.IsListType(), ty.IsTupleType(), ty.IsSetType(), ty.IsMapType(), ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			forEachText(e, fn)
		}
	}
}

func sortByLenDesc(s []string) {
	sort.Slice(s, func(i, j int) bool {
		if len(s[i]) != len(s[j]) {
			return len(s[i]) > len(s[j])
		}
		return s[i] < s[j]
	})
}

// uniqueHiddenNames numbers checks of one step whose names became equal by hiding their values
// (two body_contains = env(...) are both `body contains (sensitive)`), so that each keeps its own
// row and series instead of adding up into one.
func uniqueHiddenNames(checks []*Check) {
	seen := map[string]int{}
	for _, c := range checks {
		if !strings.Contains(c.Name, Hidden) {
			continue
		}
		seen[c.Name]++
		if n := seen[c.Name]; n > 1 {
			c.Name += " #" + strconv.Itoa(n)
		}
	}
}
