package plan

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// What a Locust user writes and loadplan says otherwise (issue 12): the pacing of a VU's
// iterations (Locust's wait_time = constant_pacing / constant_throughput), and the hints a
// diagnostic gives when a plan uses a Locust word.

// pacing decodes a scenario's pacing or iterations_per_second (one of them). Whether the
// scenario's load can be paced is checked once the plan-level load is known (checkPacing).
func (l *loader) pacing(s *Scenario, content *hcl.BodyContent, sc *scope) {
	p, ips := content.Attributes["pacing"], content.Attributes["iterations_per_second"]
	if p != nil && ips != nil {
		second := ips
		if second.Range.Start.Byte < p.Range.Start.Byte {
			second = p
		}
		l.errorAt(second.NameRange, "pacing and iterations_per_second together",
			"Both set how often a VU starts an iteration: pacing = \"2s\" is iterations_per_second = 0.5. Keep one.")
		return
	}
	if p != nil {
		if d, ok := l.loadDuration(p, sc); ok {
			if d <= 0 {
				l.errorAt(p.Expr.Range(), "Invalid pacing", "pacing is the least time between the starts of a VU's iterations, longer than 0, e.g. \"2s\".")
				return
			}
			s.Pacing = d
			l.pacingAt[s] = p.Expr.Range()
		}
	}
	if ips != nil {
		if f, sensitive, ok := l.numberMarked(ips, sc); ok {
			if !(f > 0) || math.IsInf(f, 0) || f > maxPerVURate {
				l.errorAt(ips.Expr.Range(), "Invalid iterations_per_second",
					"iterations_per_second is the most iterations one VU starts per second, above 0 and at most %d; got %s. "+
						"For a rate over the whole run, use a load with model = \"arrival_rate\".", maxPerVURate, shown(fmtG(f), sensitive))
				return
			}
			s.IterationsPerSecond = f
			l.pacingAt[s] = ips.Expr.Range()
		}
	}
}

// checkPacing refuses pacing on a scenario whose load sets the iteration rate itself.
func (l *loader) checkPacing() {
	for _, s := range l.plan.Scenarios {
		rng, ok := l.pacingAt[s]
		ld := s.Load
		if ld == nil {
			ld = l.plan.Load
		}
		if ok && ld != nil && ld.Model == ArrivalRate {
			l.errorAt(rng, "Pacing with an arrival rate",
				"Scenario %q runs under model = \"arrival_rate\", which starts iterations at its own rate, so a VU's pacing has no meaning. "+
					"Remove pacing (or iterations_per_second), or use model = \"users\" with pacing, as Locust's constant_pacing does.", s.Name)
		}
	}
}

// locustHints are the details of "not expected here" for the words of a Locust script.
var locustHints = map[string]string{
	"users": "Locust's users are loadplan's virtual users: write vus = 100 with duration = \"5m\" in a load block, " +
		"or pass --vus 100 to loadplan apply.",
	"spawn_rate": "loadplan ramps VUs up with stages: load { stage { duration = \"10s\"  target = 100 } }; " +
		"or pass --vus 100 --spawn-rate 10 to loadplan apply (10 VUs a second up to 100, then hold).",
	"wait_time": "Locust's wait_time is loadplan's think_time = \"1s\" (or \"1s..3s\", between steps), " +
		"or a VU's iteration rate: pacing = \"2s\" (constant_pacing) or iterations_per_second = 0.5 (constant_throughput) on the scenario.",
	"on_start": "Locust's on_start is loadplan's setup { ... } block in a scenario: its steps run once when a VU starts, " +
		"and what they capture is read as vu.NAME (vu.token).",
	"on_stop": "Locust's on_stop is loadplan's teardown { ... } block in a scenario: its steps run once when a VU stops.",
	"tasks":   "Locust's tasks are loadplan's task \"NAME\" { weight = 3 ... } blocks in a scenario: each iteration runs one, drawn by weight.",
	"host": "loadplan sends to a target: target \"api\" { base_url = \"http://127.0.0.1:8000\" }, the default of the scenarios " +
		"when it is the only one (or target = target.api); loadplan apply --host URL sets var.host.",
	"min_wait": "Locust's min_wait and max_wait are loadplan's think_time = \"1s..3s\" (a pause, uniform in the range, between steps).",
	"max_wait": "Locust's min_wait and max_wait are loadplan's think_time = \"1s..3s\" (a pause, uniform in the range, between steps).",
}

var unsupportedName = regexp.MustCompile(`^(?:An argument named|Blocks of type) "([^"]*)"`)

// hintLocustWords rewrites the detail of "Unsupported argument" and "Unsupported block type"
// diagnostics about a Locust word into how loadplan says it.
func (l *loader) hintLocustWords() {
	for _, d := range l.diags {
		if d.Summary != "Unsupported argument" && d.Summary != "Unsupported block type" {
			continue
		}
		m := unsupportedName.FindStringSubmatch(d.Detail)
		if m == nil {
			continue
		}
		if hint, ok := locustHints[m[1]]; ok {
			d.Detail = notExpected(d) + " " + hint
		}
	}
}

// notExpected is the first sentence of HCL's detail, without its "Did you mean".
func notExpected(d *hcl.Diagnostic) string {
	if i := strings.Index(d.Detail, "here."); i >= 0 {
		return d.Detail[:i+len("here.")]
	}
	return d.Detail
}

// hintFrameMatch gives the diagnostics of an expect step or match block a hint for an argument
// that is a key of the frame's JSON (type = "data"), which json = { ... } matches.
func hintFrameMatch(diags hcl.Diagnostics, body hcl.Body) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return
	}
	for _, d := range diags {
		if d.Summary != "Unsupported argument" {
			continue
		}
		m := unsupportedName.FindStringSubmatch(d.Detail)
		if m == nil || (m[1] != "type" && strings.Contains(d.Detail, "Did you mean")) {
			continue // a typo of an attribute: HCL's suggestion says more
		}
		a := sb.Attributes[m[1]]
		if a == nil {
			continue
		}
		value := "\"...\""
		if lit, ok := a.Expr.(*hclsyntax.TemplateExpr); ok && lit.IsStringLiteral() {
			if v, diags := lit.Value(nil); !diags.HasErrors() {
				value = fmt.Sprintf("%q", v.AsString())
			}
		}
		d.Detail = fmt.Sprintf("%s To match frames whose JSON has %s = %s, write json = { %s = %s }: json matches a subset of the frame's JSON object.",
			notExpected(d), m[1], value, m[1], value)
	}
}
