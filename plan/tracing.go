package plan

import (
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The propagators of a tracing block: the header a traced request carries.
const (
	PropagatorW3C  = "w3c"  // traceparent (W3C Trace Context), the default
	PropagatorB3   = "b3"   // the single b3 header (Zipkin), for older stacks
	PropagatorNone = "none" // no trace header: a target's override turning tracing off
)

// BaggageItems are what a tracing block's baggage may list, in the order the header carries them.
var BaggageItems = []string{"run", "scenario", "step"}

// DefaultSampling is the sampling of a tracing block that sets none: every trace sampled, as the
// OpenTelemetry SDK's default sampler and k6's tracing module do.
const DefaultSampling = 1.0

var tracingSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "propagator"}, {Name: "sampling"}, {Name: "baggage"},
		{Name: "otlp_endpoint"}, {Name: "otlp_headers"},
	},
}

// On reports whether t sends trace context (a block whose propagator is not "none").
func (t *Tracing) On() bool { return t != nil && t.Propagator != PropagatorNone }

// TracingFor returns the tracing block that applies to requests to target t (nil for a step
// with its own URL): the target's override when it has one, else the plan's; nil when tracing is
// off for those requests (no block, or propagator "none").
func (p *Plan) TracingFor(t *Target) *Tracing { return EffectiveTracing(p.Tracing, t) }

// EffectiveTracing is Plan.TracingFor for a plan whose block is planBlock.
func EffectiveTracing(planBlock *Tracing, t *Target) *Tracing {
	tr := planBlock
	if t != nil && t.Tracing != nil {
		tr = t.Tracing
	}
	if !tr.On() {
		return nil
	}
	return tr
}

// Traced reports whether any request of the plan may carry trace context: the plan's block or a
// target's override is on. Outputs use it to decide on trace columns (the CSV's trace_id).
func (p *Plan) Traced() bool {
	if p == nil {
		return false
	}
	if p.Tracing.On() {
		return true
	}
	for _, t := range p.Targets {
		if t.Tracing.On() {
			return true
		}
	}
	return false
}

// Describe renders t for `loadplan plan`: propagator, sampling, baggage and the OTLP endpoint
// with the names of its headers; a header's value, which may be a secret, is never shown.
func (t *Tracing) Describe() string {
	if !t.On() {
		return "off (propagator \"none\")"
	}
	var b strings.Builder
	b.WriteString(t.Propagator)
	b.WriteString(", sampling ")
	b.WriteString(strconv.FormatFloat(t.Sampling, 'g', -1, 64))
	if len(t.Baggage) > 0 {
		b.WriteString(", baggage ")
		b.WriteString(strings.Join(t.Baggage, ", "))
	}
	if t.OTLPEndpoint != "" {
		b.WriteString(", client spans over OTLP to ")
		b.WriteString(t.otlpShown())
		if len(t.OTLPHeaders) > 0 {
			names := make([]string, len(t.OTLPHeaders))
			for i, kv := range t.OTLPHeaders {
				names[i] = kv.Name
			}
			b.WriteString(" (headers " + strings.Join(names, ", ") + ")")
		}
	}
	return b.String()
}

// loadTracing reads the plan-level tracing block (one across the plan's files). It runs before
// the targets, whose own blocks start from it.
func (l *loader) loadTracing() {
	var first hcl.Range
	for _, fb := range l.blocks("tracing") {
		b := fb.block
		if l.plan.Tracing != nil {
			l.errorAt(b.DefRange, "Duplicate tracing block",
				"The plan already has a tracing block at %s. Keep one plan-level tracing block; a target overrides it with a tracing block of its own.", shortRange(first))
			continue
		}
		first = b.DefRange
		l.plan.Tracing = l.tracingBlock(b, &scope{src: fb.src, what: "a tracing block"}, nil)
	}
}

// targetTracing reads a target's tracing blocks (at most one): attributes it does not set are
// the plan's block's, so that `tracing { propagator = "b3" }` keeps the plan's sampling.
func (l *loader) targetTracing(t *Target, blocks hcl.Blocks, sc *scope) {
	for _, b := range blocks {
		if b.Type != "tracing" {
			continue
		}
		if t.Tracing != nil {
			l.errorAt(b.DefRange, "Duplicate tracing block", "Target %q has two tracing blocks; keep one.", t.Name)
			continue
		}
		t.Tracing = l.tracingBlock(b, sc, l.plan.Tracing)
	}
}

// tracingBlock decodes one tracing block; base, when not nil, gives the attributes it leaves
// out (a target's override of the plan's block).
func (l *loader) tracingBlock(b *hcl.Block, sc *scope, base *Tracing) *Tracing {
	t := &Tracing{Propagator: PropagatorW3C, Sampling: DefaultSampling, Pos: posOf(b.DefRange)}
	if base != nil {
		t.Propagator, t.Sampling, t.Baggage = base.Propagator, base.Sampling, base.Baggage
		if t.Propagator == PropagatorNone {
			t.Propagator = PropagatorW3C // the plan's "none" is no default for a target that traces
		}
	}
	content, diags := b.Body.Content(tracingSchema)
	l.add(diags)
	if a := content.Attributes["propagator"]; a != nil {
		if s, secret, ok := l.strMarked(a, sc); ok {
			switch s {
			case PropagatorW3C, PropagatorB3, PropagatorNone:
				t.Propagator = s
			default:
				l.errorAt(a.Expr.Range(), "Invalid propagator",
					"%s is not a propagator.%s Write \"w3c\" (the traceparent header), \"b3\" (the single b3 header) or \"none\" (no trace header).",
					quoted(s, secret), suggestion(s, secret, []string{PropagatorW3C, PropagatorB3, PropagatorNone}))
			}
		}
	}
	if a := content.Attributes["sampling"]; a != nil {
		if f, ok := l.number(a, sc); ok {
			if f < 0 || f > 1 {
				l.errorAt(a.Expr.Range(), "Sampling out of range",
					"sampling is the share of iterations whose trace is sampled, from 0 to 1; got %s. Write e.g. 0.1 for one trace in ten.",
					strconv.FormatFloat(f, 'g', -1, 64))
			} else {
				t.Sampling = f
			}
		}
	}
	if a := content.Attributes["baggage"]; a != nil {
		t.Baggage = l.baggage(a, sc)
	}
	if base != nil {
		for _, name := range []string{"otlp_endpoint", "otlp_headers"} {
			if a := content.Attributes[name]; a != nil {
				l.errorAt(a.NameRange, "OTLP settings in a target's tracing block",
					"%s is the run's, not a target's: client spans go to one collector. Move it to the plan-level tracing block.", name)
			}
		}
		return t
	}
	if a := content.Attributes["otlp_endpoint"]; a != nil {
		if s, secret, ok := l.strMarked(a, sc); ok {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				shown := "This value"
				if !secret {
					shown = quoted(s, false)
					if err == nil {
						shown = quoted(u.Redacted(), false)
					}
				}
				l.errorAt(a.Expr.Range(), "Invalid otlp_endpoint",
					"%s is not an OTLP/HTTP endpoint. Write an http(s) URL with a host, e.g. \"http://127.0.0.1:4318/v1/traces\".", shown)
			} else {
				t.OTLPEndpoint, t.OTLPSensitive = s, secret
			}
		}
	}
	if a := content.Attributes["otlp_headers"]; a != nil {
		t.OTLPHeaders = l.otlpHeaders(a, sc)
	}
	return t
}

// baggage reads the baggage list: items of BaggageItems, each once, reported at the item.
func (l *loader) baggage(a *hcl.Attribute, sc *scope) []string {
	list, ok := l.strList(a, sc)
	if !ok {
		return nil
	}
	var ranges []hcl.Range // each item's own range when the list is written out
	if tc, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && len(tc.Exprs) == len(list) {
		for _, e := range tc.Exprs {
			ranges = append(ranges, e.Range())
		}
	}
	at := func(i int) hcl.Range {
		if ranges != nil {
			return ranges[i]
		}
		return a.Expr.Range()
	}
	seen := map[string]bool{}
	out := []string{}
	for i, s := range list {
		switch {
		case !contains(BaggageItems, s):
			l.errorAt(at(i), "Unknown baggage item",
				"%q is not a baggage item.%s The baggage header can carry \"run\" (the run's name), \"scenario\" and \"step\".",
				s, suggestion(s, false, BaggageItems))
		case seen[s]:
			l.errorAt(at(i), "Duplicate baggage item", "%q is listed twice; keep one.", s)
		default:
			seen[s] = true
			out = append(out, s)
		}
	}
	// the header's order is fixed (BaggageItems), whatever the list's
	sort.SliceStable(out, func(i, j int) bool { return slices.Index(BaggageItems, out[i]) < slices.Index(BaggageItems, out[j]) })
	return out
}

// otlpHeaders reads otlp_headers, a map of strings whose values may come from env(): each
// value's template keeps that mark (Template.Sensitive), so that nothing shows it.
func (l *loader) otlpHeaders(a *hcl.Attribute, sc *scope) []KV {
	v, ok := l.constantKeep(a, sc)
	if !ok {
		return nil
	}
	secret := markedKeys(v)
	plain, _ := v.UnmarkDeep()
	plain, ok = l.convertTo(a, plain, cty.Map(cty.String), `Write an object of strings, e.g. { Authorization = env("OTLP_TOKEN") }.`)
	if !ok {
		return nil
	}
	m := plain.AsValueMap()
	keys := sortedKeys(m)
	out := make([]KV, 0, len(keys))
	for _, k := range keys {
		e := m[k]
		if e.IsNull() {
			continue
		}
		t := Literal(e.AsString())
		if secret[k] {
			t = &Template{Source: Hidden, constant: true, value: e, str: e.AsString(), strOK: true, sensitive: true}
		}
		out = append(out, KV{Name: k, Value: t})
	}
	return out
}

// otlpShown is the OTLP endpoint as it may be shown: user info masked, a secret not at all.
func (t *Tracing) otlpShown() string {
	if t.OTLPSensitive {
		return Hidden
	}
	u, err := url.Parse(t.OTLPEndpoint)
	if err != nil {
		return Hidden
	}
	return u.Redacted()
}

// suggestion is ` Did you mean "x"?` for a typo of a candidate (never for a secret, which it
// would half tell); the detail lists the valid values itself.
func suggestion(given string, secret bool, candidates []string) string {
	if s := suggest(given, candidates); s != "" && !secret {
		return " Did you mean " + strconv.Quote(s) + "?"
	}
	return ""
}
