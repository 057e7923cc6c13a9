package plan

import (
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// loadOutputs decodes the output blocks. plan knows no output's fields: each block is decoded
// against the schema its kind declares in opts.Outputs, and the kind's Check runs on the result,
// so `validate` reports a bad output attribute at its line and column before anything runs.
// Without schemas (opts.Outputs nil) every kind is taken and its attributes kept as constants.
func (l *loader) loadOutputs() {
	var kinds []string
	schemas := map[string]*OutputSchema{}
	for _, s := range l.opts.Outputs {
		kinds = append(kinds, s.Kind)
		schemas[s.Kind] = s
	}
	for _, fb := range l.blocks("output") {
		b := fb.block
		kind := b.Labels[0]
		sc := &scope{src: fb.src, what: "an output block"}
		o := &OutputBlock{Kind: kind, Pos: posOf(b.DefRange)}
		if l.opts.Outputs == nil {
			l.plan.Outputs = append(l.plan.Outputs, l.decodeAnyOutput(b, o, sc))
			continue
		}
		schema := schemas[kind]
		if schema == nil {
			l.errorAt(labelRange(b), "Unknown output kind", "There is no output %q.%s", kind, didYouMean(kind, kinds))
			continue
		}
		o, diags := decodeOutput(l, b, o, schema, sc)
		l.add(diags)
		l.plan.Outputs = append(l.plan.Outputs, o)
	}
}

// decodeOutput decodes b against schema, fills the defaults and runs the kind's Check.
func decodeOutput(l *loader, b *hcl.Block, o *OutputBlock, schema *OutputSchema, sc *scope) (*OutputBlock, hcl.Diagnostics) {
	hs := &hcl.BodySchema{}
	for _, a := range schema.Attrs {
		hs.Attributes = append(hs.Attributes, hcl.AttributeSchema{Name: a.Name, Required: a.Required})
	}
	content, diags := b.Body.Content(hs)
	outer := l.diags // the typed readers below report into l.diags: collect them apart
	l.diags = diags
	for _, spec := range schema.Attrs {
		a := content.Attributes[spec.Name]
		if a == nil {
			continue
		}
		attr := &Attr{Name: spec.Name, Set: true, Pos: posOf(a.Expr.Range())}
		ok := false
		switch spec.Type {
		case TypeString:
			var s string
			s, attr.Secret, ok = l.strMarked(a, sc)
			attr.Value = s
		case TypeBool:
			attr.Value, ok = l.boolean(a, sc)
		case TypeInt:
			attr.Value, ok = l.integer(a, sc, spec.Min)
		case TypeDuration:
			attr.Value, attr.Secret, ok = l.durationMarked(a, sc)
		case TypeStringMap:
			var secrets map[string]bool
			attr.Value, secrets, ok = l.strMapMarked(a, sc)
			for _, s := range secrets {
				attr.Secret = attr.Secret || s
			}
		}
		if ok {
			o.Attrs = append(o.Attrs, attr)
		}
	}
	schema.FillDefaults(o)
	if schema.Check != nil {
		for _, p := range schema.Check(o) {
			rng := labelRange(b)
			if a := content.Attributes[p.Attr]; a != nil {
				rng = a.Expr.Range()
			}
			l.errorAt(rng, p.Summary, "%s", p.Detail)
		}
	}
	diags, l.diags = l.diags, outer
	return o, diags
}

// decodeAnyOutput keeps the attributes of a block whose kind has no schema here as constants of
// their natural Go type.
func (l *loader) decodeAnyOutput(b *hcl.Block, o *OutputBlock, sc *scope) *OutputBlock {
	attrs, diags := b.Body.JustAttributes()
	l.add(diags)
	for _, a := range sortedAttrs(attrs) {
		v, secret, ok := l.constantMarked(a, sc)
		if !ok {
			continue
		}
		o.Attrs = append(o.Attrs, &Attr{Name: a.Name, Value: goValue(v), Secret: secret, Set: true, Pos: posOf(a.Expr.Range())})
	}
	return o
}

// goValue converts a known, unmarked constant to string, bool, int, float64, []any or
// map[string]any.
func goValue(v cty.Value) any {
	if v.IsNull() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString()
	case ty == cty.Bool:
		return v.True()
	case ty == cty.Number:
		bf := v.AsBigFloat()
		if i, acc := bf.Int64(); acc == big.Exact && i == int64(int(i)) {
			return int(i)
		}
		f, _ := bf.Float64()
		return f
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		var out []any
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, goValue(e))
		}
		return out
	case ty.IsMapType() || ty.IsObjectType():
		out := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			out[k.AsString()] = goValue(e)
		}
		return out
	}
	return nil
}

// finalChecks checks the plan as a whole.
func (l *loader) finalChecks() {
	used := map[*Feeder]bool{}
	for _, sc := range l.plan.Scenarios {
		for _, f := range sc.Feeders {
			used[f] = true
		}
	}
	for _, fb := range l.blocks("data") {
		if f := l.feeders[fb.block.Labels[0]]; f != nil && !used[f] && !l.diags.HasErrors() && len(l.plan.Scenarios) > 0 {
			l.warnAt(labelRange(fb.block), "Unused data feeder",
				"No step reads data.%s.COLUMN, so its rows are never used. Use it in a step or remove the block.", f.Name)
		}
	}
	if len(l.plan.Scenarios) == 0 && !l.diags.HasErrors() {
		rng := hcl.Range{Filename: l.sources[0].name, Start: hcl.InitialPos, End: hcl.InitialPos}
		l.errorAt(rng, "No scenario", "A plan needs at least one scenario \"NAME\" { ... } block with http or websocket steps.")
	}
}
