package plan

import (
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// constant evaluates an attribute that is fixed for the whole run (no per-iteration values).
func (l *loader) constant(a *hcl.Attribute, sc *scope) (cty.Value, bool) {
	v, _, ok := l.constantMarked(a, sc)
	return v, ok
}

// constantMarked is constant that also says whether the value came from a secret (env()).
func (l *loader) constantMarked(a *hcl.Attribute, sc *scope) (cty.Value, bool, bool) {
	csc := *sc
	csc.runtime = false
	if !l.checkRefs(a.Expr, &csc) {
		return cty.NilVal, false, false
	}
	v, ok := l.probeMarked(a.Expr, &csc)
	if !ok {
		return cty.NilVal, false, false
	}
	sensitive := v.ContainsMarked()
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		l.errorAt(a.Expr.Range(), "Value not known at load time", "The value of %s must be known before the test starts.", a.Name)
		return cty.NilVal, false, false
	}
	return v, sensitive, true
}

// convertTo converts v to ty, reporting a type error at a.
func (l *loader) convertTo(a *hcl.Attribute, v cty.Value, ty cty.Type, hint string) (cty.Value, bool) {
	if v.IsNull() {
		l.errorAt(a.Expr.Range(), "Missing value", "%s must not be null. %s", a.Name, hint)
		return cty.NilVal, false
	}
	out, err := convert.Convert(v, ty)
	if err != nil {
		l.errorAt(a.Expr.Range(), "Incorrect attribute value type",
			"%s must be %s; got %s. %s", a.Name, friendly(ty), v.Type().FriendlyName(), hint)
		return cty.NilVal, false
	}
	return out, true
}

func friendly(ty cty.Type) string {
	switch {
	case ty == cty.String:
		return "a string"
	case ty == cty.Number:
		return "a number"
	case ty == cty.Bool:
		return "true or false"
	}
	return ty.FriendlyName()
}

func (l *loader) str(a *hcl.Attribute, sc *scope) (string, bool) {
	v, ok := l.constant(a, sc)
	if !ok {
		return "", false
	}
	v, ok = l.convertTo(a, v, cty.String, `Write it in quotes, e.g. "text".`)
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

func (l *loader) boolean(a *hcl.Attribute, sc *scope) (bool, bool) {
	v, ok := l.constant(a, sc)
	if !ok {
		return false, false
	}
	v, ok = l.convertTo(a, v, cty.Bool, "Write true or false.")
	if !ok {
		return false, false
	}
	return v.True(), true
}

func (l *loader) number(a *hcl.Attribute, sc *scope) (float64, bool) {
	v, ok := l.constant(a, sc)
	if !ok {
		return 0, false
	}
	v, ok = l.convertTo(a, v, cty.Number, "Write a number without quotes, e.g. 10.")
	if !ok {
		return 0, false
	}
	f, _ := v.AsBigFloat().Float64()
	return f, true
}

// integer reads a whole number no smaller than lo.
func (l *loader) integer(a *hcl.Attribute, sc *scope, lo int) (int, bool) {
	v, sensitive, ok := l.constantMarked(a, sc)
	if !ok {
		return 0, false
	}
	v, ok = l.convertTo(a, v, cty.Number, "Write a whole number without quotes, e.g. 10.")
	if !ok {
		return 0, false
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		if sensitive {
			l.errorAt(a.Expr.Range(), "Not a whole number", "%s must be a whole number; got %s. Round it.", a.Name, Hidden)
			return 0, false
		}
		l.errorAt(a.Expr.Range(), "Not a whole number", "%s must be a whole number; got %s. Round it, e.g. %s.",
			a.Name, bf.Text('g', 10), roundText(bf))
		return 0, false
	}
	i, _ := bf.Int64()
	if i < int64(lo) {
		l.errorAt(a.Expr.Range(), "Value out of range", "%s must be at least %d; got %s.", a.Name, lo, shown(strconv.FormatInt(i, 10), sensitive))
		return 0, false
	}
	if i > 1<<31 {
		l.errorAt(a.Expr.Range(), "Value out of range", "%s is too large (%s).", a.Name, shown(strconv.FormatInt(i, 10), sensitive))
		return 0, false
	}
	return int(i), true
}

func roundText(bf *big.Float) string {
	f, _ := bf.Float64()
	return big.NewFloat(float64(int64(f+0.5))).Text('g', 10)
}

func (l *loader) strList(a *hcl.Attribute, sc *scope) ([]string, bool) {
	v, ok := l.constant(a, sc)
	if !ok {
		return nil, false
	}
	v, ok = l.convertTo(a, v, cty.List(cty.String), `Write a list of strings, e.g. ["a", "b"].`)
	if !ok {
		return nil, false
	}
	var out []string
	for _, e := range v.AsValueSlice() {
		if e.IsNull() {
			continue
		}
		out = append(out, e.AsString())
	}
	return out, true
}

// strMap reads a map of strings; keys are returned sorted.
func (l *loader) strMap(a *hcl.Attribute, sc *scope) (map[string]string, bool) {
	v, ok := l.constant(a, sc)
	if !ok {
		return nil, false
	}
	v, ok = l.convertTo(a, v, cty.Map(cty.String), `Write an object of strings, e.g. { team = "payments" }.`)
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for k, e := range v.AsValueMap() {
		if !e.IsNull() {
			out[k] = e.AsString()
		}
	}
	return out, true
}

// duration reads a duration string such as "30s".
func (l *loader) duration(a *hcl.Attribute, sc *scope) (time.Duration, bool) {
	d, _, ok := l.durationMarked(a, sc)
	return d, ok
}

// durationMarked is duration that also says whether the value came from a secret.
func (l *loader) durationMarked(a *hcl.Attribute, sc *scope) (time.Duration, bool, bool) {
	s, sensitive, ok := l.strMarked(a, sc)
	if !ok {
		return 0, false, false
	}
	d, err := parseDurationAs(s, quoted(s, sensitive))
	if err != "" {
		l.errorAt(a.Expr.Range(), "Invalid duration", "%s: %s", a.Name, err)
		return 0, false, false
	}
	return d, sensitive, true
}

// parseDurationAs parses a non-negative Go duration; the error text calls the value what (its
// quoted text, or Hidden for a secret) and says how to write one.
func parseDurationAs(s, what string) (time.Duration, string) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, ""
	}
	d, err := time.ParseDuration(s)
	if err != nil && durationOverflows(s) {
		return 0, `"` + s + `" is too long: a duration is at most 2562047h (292 years).`
	}
	if err != nil {
		return 0, what + ` is not a duration. Write a number followed by a unit (ms, s, m or h), e.g. "500ms", "30s", "5m" or "1h30m".`
	}
	if d < 0 {
		return 0, what + ` is negative; a duration must be zero or more.`
	}
	return d, ""
}

// thinkTime reads "1s" or a range "1s..3s".
func (l *loader) thinkTime(a *hcl.Attribute, sc *scope) (ThinkTime, bool) {
	s, sensitive, ok := l.strMarked(a, sc)
	if !ok {
		return ThinkTime{}, false
	}
	lo, hi, isRange := strings.Cut(s, "..")
	min, err := parseDurationAs(lo, quoted(strings.TrimSpace(lo), sensitive))
	if err != "" {
		l.errorAt(a.Expr.Range(), "Invalid duration", "%s: %s A range is written \"1s..3s\".", a.Name, err)
		return ThinkTime{}, false
	}
	max := min
	if isRange {
		if max, err = parseDurationAs(hi, quoted(strings.TrimSpace(hi), sensitive)); err != "" {
			l.errorAt(a.Expr.Range(), "Invalid duration", "%s: %s A range is written \"1s..3s\".", a.Name, err)
			return ThinkTime{}, false
		}
		if max < min && sensitive {
			l.errorAt(a.Expr.Range(), "Invalid range", "%s: the upper bound is below the lower bound; swap them.", a.Name)
			return ThinkTime{}, false
		}
		if max < min {
			l.errorAt(a.Expr.Range(), "Invalid range", "%s: the upper bound %s is below the lower bound %s; write \"%s..%s\".", a.Name, hi, lo, hi, lo)
			return ThinkTime{}, false
		}
	}
	return ThinkTime{Min: min, Max: max}, true
}

// kvs compiles an object of (possibly per-iteration) string values into ordered pairs. An object
// written literally keeps its source order; any other object value is sorted by key.
func (l *loader) kvs(a *hcl.Attribute, sc *scope) []KV {
	if obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr); ok {
		var out []KV
		seen := map[string]bool{}
		for _, item := range obj.Items {
			kv, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || kv.Type() != cty.String {
				csc := *sc
				csc.runtime = false
				kv2, ok := l.probe(item.KeyExpr, &csc)
				if !ok || kv2.Type() != cty.String || !kv2.IsKnown() {
					l.errorAt(item.KeyExpr.Range(), "Invalid key", "Keys of %s must be names or quoted strings, e.g. \"Content-Type\".", a.Name)
					continue
				}
				kv = kv2
			}
			key := kv.AsString()
			norm := key
			if a.Name == "headers" {
				norm = strings.ToLower(key) // header names are case-insensitive
			}
			if seen[norm] {
				l.errorAt(item.KeyExpr.Range(), "Duplicate key", "%q appears twice in %s; keep one.", key, a.Name)
				continue
			}
			seen[norm] = true
			if t := l.template(item.ValueExpr, sc, true); t != nil {
				out = append(out, KV{Name: key, Value: t})
			}
		}
		return out
	}
	m, ok := l.strMap(a, sc)
	if !ok {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]KV, 0, len(keys))
	for _, k := range keys {
		out = append(out, KV{Name: k, Value: Literal(m[k])})
	}
	return out
}
