package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/loadplan/loadplan/metrics"
)

var thresholdSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition"}, {Name: "conditions"}, {Name: "abort_on_fail"}, {Name: "delay"},
		{Name: "window"}, {Name: "stage"},
	},
}

// selectorTag is one `name=value` of a threshold selector and where it is in the label.
type selectorTag struct {
	name, value string
	rng         hcl.Range
}

func (l *loader) loadThresholds() {
	idx := l.producers()
	seen := map[string]hcl.Range{}
	for _, fb := range l.blocks("threshold") {
		b := fb.block
		t := &Threshold{Name: b.Labels[0], Pos: posOf(b.DefRange)}
		content, diags := b.Body.Content(thresholdSchema)
		l.add(diags)
		sc := &scope{src: fb.src, what: "a threshold"}
		ok := l.thresholdTarget(t, b, idx)
		if conds := l.conditions(t, content, sc, b); conds != nil {
			t.Conditions = conds
		} else {
			ok = false
		}
		if a := content.Attributes["abort_on_fail"]; a != nil {
			t.AbortOnFail, _ = l.boolean(a, sc)
		}
		if a := content.Attributes["delay"]; a != nil {
			t.Delay, _ = l.duration(a, sc)
		}
		if a := content.Attributes["window"]; a != nil {
			t.Window, _ = l.duration(a, sc)
		}
		if a := content.Attributes["stage"]; a != nil {
			if n, good := l.integer(a, sc, 1); good {
				t.Stage = n
				l.checkThresholdStage(a, n)
			}
		}
		l.checkBaselineScope(t, content)
		if !ok {
			continue
		}
		key := fmt.Sprintf("%s%s|%s|%d", t.Metric, renderSelector(t.Selector), t.Window, t.Stage)
		if first, dup := seen[key]; dup {
			l.errorAt(labelRange(b), "Duplicate threshold",
				"A threshold on %s%s is already declared at %s. Put both conditions in one block: conditions = [\"...\", \"...\"].",
				t.Metric, renderSelector(t.Selector), shortRange(first))
			continue
		}
		seen[key] = labelRange(b)
		l.plan.Thresholds = append(l.plan.Thresholds, t)
	}
}

// thresholdTarget parses the label `metric{tag=value,...}` into t.Metric and t.Selector and checks
// that this plan can produce such a series.
func (l *loader) thresholdTarget(t *Threshold, b *hcl.Block, idx []producer) bool {
	label := b.Labels[0]
	lr := labelRange(b)
	at := func(off, n int) hcl.Range { return subRange(lr, off+1, n) }
	name, rest, hasSel := strings.Cut(label, "{")
	name = strings.TrimSpace(name)
	m, found := metrics.ByName(name)
	if !found {
		var all []string
		for _, mm := range metrics.All() {
			all = append(all, mm.String())
		}
		l.errorAt(at(0, len(name)), "Unknown metric", "There is no metric %q.%s", name, didYouMean(name, all))
		return false
	}
	t.Metric = m
	var tags []selectorTag
	if hasSel {
		body, ok := strings.CutSuffix(strings.TrimSpace(rest), "}")
		if !ok {
			l.errorAt(lr, "Malformed threshold selector", `A selector is written in braces after the metric: "http_req_duration{scenario=rest,step=quote}".`)
			return false
		}
		off := strings.Index(label, "{") + 1
		for _, part := range strings.Split(body, ",") {
			k, v, ok := strings.Cut(part, "=")
			if !ok {
				k, v, ok = strings.Cut(part, ":")
			}
			k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `'`)
			if !ok || k == "" || v == "" {
				l.errorAt(at(off, len(part)), "Malformed threshold selector",
					"%q is not a tag filter. Write name=value pairs separated by commas, e.g. {scenario=rest,status=200}.", strings.TrimSpace(part))
				return false
			}
			tags = append(tags, selectorTag{k, v, at(off, len(part))})
			off += len(part) + 1
		}
	}
	t.Selector = map[string]string{}
	good := true
	for _, st := range tags {
		v, ok := l.selectorValue(st, idx)
		if !ok {
			good = false
			continue
		}
		if _, dup := t.Selector[st.name]; dup {
			l.errorAt(st.rng, "Duplicate tag in selector", "The tag %q appears twice; a series has one value per tag.", st.name)
			good = false
			continue
		}
		t.Selector[st.name] = v
	}
	if !good {
		return false
	}
	for _, p := range idx {
		if p.produces(m) && p.matches(t.Selector) {
			return true
		}
	}
	l.errorAt(lr, "Threshold on a series this plan cannot produce", "%s", cannotProduce(m, t.Selector))
	return false
}

// cannotProduce explains why no step produces metric m with selector sel.
func cannotProduce(m metrics.Metric, sel map[string]string) string {
	where := ""
	if len(sel) > 0 {
		where = " with " + strings.Trim(renderSelector(sel), "{}")
	}
	switch {
	case m == metrics.VUs || m == metrics.VUsMax:
		return fmt.Sprintf("%s is a run-level gauge without tags; remove the selector.", m)
	case m.IsWebSocket():
		return fmt.Sprintf("No websocket step%s produces %s (%s). Fix the selector, add such a step, or remove the threshold.", where, m, wsOrigin(m))
	case m == metrics.Checks:
		return fmt.Sprintf("No http step%s has a check block, so nothing produces checks. Add a check { status = 200 } or remove the threshold.", where)
	case m.IsHTTP():
		return fmt.Sprintf("No http step%s produces %s. Fix the selector, add such a step, or remove the threshold.", where, m)
	case m == metrics.DroppedIterations:
		return fmt.Sprintf("dropped_iterations comes from the arrival_rate model; no scenario%s uses it.", where)
	}
	return fmt.Sprintf("No scenario%s produces %s; scenario-level metrics take only the scenario tag.", where, m)
}

func wsOrigin(m metrics.Metric) string {
	switch m {
	case metrics.WSExpectDuration, metrics.WSExpectFailed:
		return "it comes from expect steps"
	case metrics.WSPing:
		return "it comes from ping steps"
	case metrics.WSReconnects, metrics.WSReconnectDuration:
		return "it needs a reconnect block"
	}
	return "it comes from websocket blocks"
}

// selectorValue checks one tag filter and returns its value, normalised (a websocket step may be
// named by its own label when that is unambiguous).
func (l *loader) selectorValue(st selectorTag, idx []producer) (string, bool) {
	if !contains(metrics.TagNames, st.name) {
		l.errorAt(st.rng, "Unknown tag", "There is no tag %q.%s", st.name, didYouMean(st.name, metrics.TagNames))
		return "", false
	}
	switch st.name {
	case "status":
		if n, err := strconv.Atoi(st.value); err != nil || n < 100 || n > 4999 {
			l.errorAt(st.rng, "Invalid status in selector", "status is a number: an HTTP status (200) or a WebSocket close code (1011).")
			return "", false
		}
		return st.value, true
	case "check", "error":
		return st.value, true
	}
	values := map[string]bool{}
	short := map[string][]string{}
	for _, p := range idx {
		if p.tags == nil {
			continue
		}
		v, _ := p.tags.Get(st.name)
		if v == "" {
			continue
		}
		values[v] = true
		if st.name == "step" {
			if _, s, ok := strings.Cut(v, "."); ok && p.tags.Group == "ws" {
				short[s] = append(short[s], v)
			}
		}
	}
	if values[st.value] {
		return st.value, true
	}
	if full := uniq(short[st.value]); len(full) == 1 {
		return full[0], true
	} else if len(full) > 1 {
		l.errorAt(st.rng, "Ambiguous step name", "Several websocket blocks have a step %q: write one of %s.", st.value, quoteList(full))
		return "", false
	}
	l.errorAt(st.rng, "Unknown "+st.name+" in selector", "No %s of this plan is %q.%s", st.name, st.value, didYouMean(st.value, sortedKeys(values)))
	return "", false
}

func uniq(s []string) []string {
	sort.Strings(s)
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// renderSelector renders a selector canonically: {a=1,b=2}.
func renderSelector(sel map[string]string) string {
	if len(sel) == 0 {
		return ""
	}
	var parts []string
	for _, k := range sortedKeys(sel) {
		parts = append(parts, k+"="+sel[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// subRange returns the part of a one-line range starting off bytes in, n bytes long.
func subRange(r hcl.Range, off, n int) hcl.Range {
	if r.Start.Line != r.End.Line || off+n > r.End.Byte-r.Start.Byte {
		return r
	}
	s := r.Start
	s.Byte += off
	s.Column += off
	e := s
	e.Byte += n
	e.Column += n
	return hcl.Range{Filename: r.Filename, Start: s, End: e}
}

// conditions reads condition = "..." or conditions = ["...", ...] and parses each.
func (l *loader) conditions(t *Threshold, content *hcl.BodyContent, sc *scope, b *hcl.Block) []metrics.Condition {
	one, many := content.Attributes["condition"], content.Attributes["conditions"]
	if (one == nil) == (many == nil) {
		rng := b.DefRange
		if one != nil {
			rng = many.NameRange
		}
		l.errorAt(rng, "Threshold needs one condition attribute",
			`Write condition = "p(95) < 300ms", or conditions = ["p(95) < 300ms", "max < 2s"] for several.`)
		return nil
	}
	var exprs []hcl.Expression
	if one != nil {
		exprs = []hcl.Expression{one.Expr}
	} else if tup, ok := many.Expr.(*hclsyntax.TupleConsExpr); ok {
		for _, e := range tup.Exprs {
			exprs = append(exprs, e)
		}
	} else {
		l.errorAt(many.Expr.Range(), "Invalid conditions", `conditions is a list of strings: ["p(95) < 300ms", "max < 2s"].`)
		return nil
	}
	if len(exprs) == 0 {
		l.errorAt(many.Expr.Range(), "Empty conditions", "Give at least one condition.")
		return nil
	}
	var out []metrics.Condition
	bad := false
	hidden := 0
	for _, e := range exprs {
		v, ok := l.probeMarked(e, sc)
		sensitive := ok && v.ContainsMarked()
		if ok {
			v, _ = v.UnmarkDeep()
		}
		if !ok || v.IsNull() || v.Type() != cty.String || !v.IsKnown() {
			if ok {
				l.errorAt(e.Range(), "Invalid condition", `A condition is a string such as "p(95) < 300ms" or "rate < 0.01".`)
			}
			bad = true
			continue
		}
		if t.Metric == 0 {
			continue // the metric is unknown: its conditions cannot be checked
		}
		info := t.Metric.Info()
		c, err := metrics.ParseCondition(v.AsString(), info.Kind, info.Unit)
		if err != nil && sensitive {
			// The parser's message quotes the part it stumbled on: say only what is expected.
			l.errorAt(e.Range(), "Malformed threshold condition",
				"%s is not a condition for %s. A condition is an aggregation, a comparison and a value, e.g. \"p(95) < 300ms\" or \"rate < 0.01\".",
				Hidden, t.Metric)
			bad = true
			continue
		}
		if err != nil {
			rng := e.Range()
			off := 0
			if ce, ok := err.(*metrics.ConditionError); ok {
				off = ce.Offset
			}
			if _, isTpl := e.(*hclsyntax.TemplateExpr); isTpl {
				rng = subRange(rng, 1+off, max(1, len(v.AsString())-off))
			}
			l.errorAt(rng, "Malformed threshold condition", "%q: %v.", v.AsString(), err)
			bad = true
			continue
		}
		if sensitive {
			// The summary, JUnit and the export show the condition by its Source.
			hidden++
			c.Source = Hidden
			if hidden > 1 {
				c.Source += " #" + strconv.Itoa(hidden)
			}
		}
		out = append(out, c)
	}
	if bad {
		return nil
	}
	return out
}

// checkThresholdStage checks stage = N against the load it refers to.
func (l *loader) checkThresholdStage(a *hcl.Attribute, n int) {
	ld := l.plan.Load
	if ld == nil && len(l.plan.Scenarios) == 1 {
		ld = l.plan.Scenarios[0].Load
	}
	if ld == nil {
		l.errorAt(a.Expr.Range(), "No load to take the stage from",
			"stage = N counts the stages of the plan-level load block (or of the only scenario's), and this plan has several scenarios with their own loads. Use window instead.")
		return
	}
	if len(ld.Stages) == 0 {
		l.errorAt(a.Expr.Range(), "Load without stages", "model = %q has no stages; remove stage, or use window.", ld.Model)
		return
	}
	if n > len(ld.Stages) {
		l.errorAt(a.Expr.Range(), "No such stage", "The load has %d stages; stage is from 1 to %d.", len(ld.Stages), len(ld.Stages))
	}
}

// checkBaselineScope rejects a baseline bound on a windowed or stage-scoped threshold: a baseline
// file holds whole-run figures (`apply --baseline`), so only a run-scoped threshold has a baseline
// value of the same metric, selector and aggregation to compare with.
func (l *loader) checkBaselineScope(t *Threshold, content *hcl.BodyContent) {
	for _, c := range t.Conditions {
		if !c.Baseline {
			continue
		}
		for _, name := range []string{"window", "stage"} {
			if a := content.Attributes[name]; a != nil {
				l.errorAt(a.NameRange, "Baseline bound on a scoped threshold",
					"%q compares with a baseline run's whole-run figure, which has no %s. Move it to a threshold without %s, or write an absolute bound.",
					c.Source, name, name)
				return
			}
		}
	}
}
