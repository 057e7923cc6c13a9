package plan

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// The numbers of a load block become goroutines, connections and memory at apply: an absurd one
// (vus = 1e9, a typo of a few zeros) must be a diagnostic at validate, not an OOM minutes into a
// run. The bounds are in bounds.go; this file applies them.

// instances is how many instances share the plan's load: the bounds on VUs, sessions and rates
// hold for each instance's share, so the whole plan may ask for that many times as much.
func (l *loader) instances() int { return max(1, l.opts.Instances) }

// tooManyVUs is the detail of every diagnostic about a VU count above the bound.
func (l *loader) tooManyVUs(got string) string {
	per := "One loadplan instance runs at most " + thousands(maxVUs) + " virtual users (about 21 KB of memory each, so " +
		thousands(maxVUs) + " take about 21 GB)"
	if n := l.instances(); n > 1 {
		return fmt.Sprintf("%s, so %d instances run at most %s; got %s. Run the load on more instances (--segment i/N with a larger N).",
			per, n, thousands(int64(n)*maxVUs), got)
	}
	return per + "; got " + got + ". Split the load across machines with `loadplan apply --segment i/N`: the bound holds for each instance's share."
}

// vuCount reads a whole number of VUs from lo to the VU bound. Unlike integer it names the VU bound and
// the way past it, and it reports an infinite or enormous number as too large, not as a fraction.
func (l *loader) vuCount(a *hcl.Attribute, sc *scope, lo int) (int, bool) {
	v, sensitive, ok := l.constantMarked(a, sc)
	if !ok {
		return 0, false
	}
	v, ok = l.convertTo(a, v, cty.Number, "Write a whole number without quotes, e.g. 10.")
	if !ok {
		return 0, false
	}
	f, _ := v.AsBigFloat().Float64()
	got := fmtG(f)
	if sensitive {
		got = "(sensitive)" // a value from env() is used, never shown
	}
	switch {
	case f > float64(l.instances()*maxVUs):
		l.errorAt(a.Expr.Range(), "Too many virtual users", "%s: %s", a.Name, l.tooManyVUs(got))
		return 0, false
	case f < float64(lo):
		l.errorAt(a.Expr.Range(), "Value out of range", "%s must be at least %d; got %s.", a.Name, lo, got)
		return 0, false
	case f != math.Trunc(f):
		l.errorAt(a.Expr.Range(), "Not a whole number", "%s is a number of virtual users, a whole number; got %s. Round it.", a.Name, got)
		return 0, false
	}
	return int(f), true
}

// fmtG renders a number for a diagnostic: whole numbers with separators, others as %g.
func fmtG(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return thousands(int64(f))
	}
	if math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', 6, 64)
}

// loadDuration reads a duration of a load block, at most maxLoadDuration.
func (l *loader) loadDuration(a *hcl.Attribute, sc *scope) (time.Duration, bool) {
	d, ok := l.duration(a, sc)
	if ok && d > maxLoadDuration {
		l.errorAt(a.Expr.Range(), "Duration too long", "%s is longer than a load may last, %s (a year). "+
			"For a longer soak, run the plan again; each run has its own results.", a.Name, maxLoadDuration)
		return 0, false
	}
	return d, ok
}

// checkCapacity bounds what the whole plan asks of one instance at once: the VUs of every load
// (they all start together, so their peaks are added — an upper bound of the peak of the sum) and
// the WebSocket sessions those VUs hold (one per websocket step of their scenario, at most).
func (l *loader) checkCapacity() {
	if l.diags.HasErrors() {
		return // a load that failed to decode has partial numbers; its own error says enough
	}
	vus, sessions := 0, 0
	var overVUs, overSessions *Load
	add := func(ld *Load, wsSteps int) {
		peak := vuBound(ld)
		if vus += peak; vus > l.instances()*maxVUs && overVUs == nil {
			overVUs = ld
		}
		if sessions += peak * wsSteps; sessions > l.instances()*maxWSSessions && overSessions == nil {
			overSessions = ld
		}
	}
	sharedWS := 0
	for _, sc := range l.plan.Scenarios {
		ws := 0
		sc.Walk(func(st *Step) { // setup's and every task's too: persistent sessions outlive an iteration
			if st.Kind == WebSocketStepKind {
				ws++
			}
		})
		if sc.Load != nil {
			add(sc.Load, ws)
		} else {
			sharedWS = max(sharedWS, ws) // a shared VU runs one scenario's iteration at a time
		}
	}
	if l.plan.Load != nil {
		add(l.plan.Load, sharedWS)
	}
	if overVUs != nil {
		l.errorAt(l.loadRange(overVUs), "Too many virtual users",
			"The loads of this plan add up to %s virtual users at their peaks. %s", thousands(int64(vus)), l.tooManyVUs(thousands(int64(vus))+" together"))
	}
	if overSessions != nil {
		l.errorAt(l.loadRange(overSessions), "Too many WebSocket sessions",
			"This plan may hold %s WebSocket sessions open at once (each VU holds one per websocket step) on %d instance(s). "+
				"One loadplan instance holds at most %s (about 47 KB of memory each, so that many take about 24 GB); lower the VUs or "+
				"split the load across more machines with `loadplan apply --segment i/N`.", thousands(int64(sessions)), l.instances(), thousands(maxWSSessions))
	}
}

// loadRange is the source range of a decoded load block, for diagnostics about the whole block.
func (l *loader) loadRange(ld *Load) hcl.Range {
	if r, ok := l.loadRanges[ld]; ok {
		return r
	}
	return fileStart(ld.Pos.File)
}

// vuBound is the most VUs a load may ask for, the figure the bounds above hold: the highest stage
// target (or start_vus) of the users model, max_vus for arrival_rate, vus for the iteration
// models. It is a bound on what the plan asks, not the schedule: the executor's compiled
// Schedule (with --vus, --duration and --segment applied) is what runs and what `loadplan plan`
// shows.
func vuBound(l *Load) int {
	switch l.Model {
	case Users:
		peak := float64(l.StartVUs)
		for _, s := range l.Stages {
			peak = math.Max(peak, s.Target)
		}
		return int(peak)
	case ArrivalRate:
		return l.MaxVUs
	}
	return l.VUs
}
