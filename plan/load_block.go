package plan

import (
	"math"
	"time"

	"github.com/hashicorp/hcl/v2"
)

var loadSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "model"}, {Name: "start_vus"}, {Name: "graceful_ramp_down"}, {Name: "start_rate"},
		{Name: "time_unit"}, {Name: "pre_allocated_vus"}, {Name: "max_vus"}, {Name: "vus"},
		{Name: "iterations"}, {Name: "max_duration"}, {Name: "graceful_stop"}, {Name: "max_schedule_lag"},
		{Name: "max_dropped_iterations"}, {Name: "duration"}, {Name: "rate"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "stage"}},
}

var stageSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "duration", Required: true}, {Name: "target", Required: true}},
}

// Defaults of a load block.
const (
	DefaultGracefulStop     = 30 * time.Second
	DefaultGracefulRampDown = 30 * time.Second
	DefaultTimeUnit         = time.Second
	DefaultMaxDuration      = 10 * time.Minute
	DefaultMaxScheduleLag   = time.Second
)

// maxTarget bounds stage targets, rates and VU counts: beyond it a value is a typo, not a plan.
const maxTarget = 1e7

var models = []string{string(Users), string(ArrivalRate), string(PerVUIterations), string(SharedIterations)}

// modelAttrs lists which attributes apply to each model (besides model, graceful_stop and the
// saturation bounds, which apply to all).
var modelAttrs = map[Model][]string{
	Users:            {"start_vus", "graceful_ramp_down", "vus", "duration"},
	ArrivalRate:      {"start_rate", "time_unit", "pre_allocated_vus", "max_vus", "rate", "duration"},
	PerVUIterations:  {"vus", "iterations", "max_duration"},
	SharedIterations: {"vus", "iterations", "max_duration"},
}

// DefaultLoad is the load of a plan that has no load block: one VU runs one iteration, as k6 does.
// A plan without a load block gets one VU per scenario that shares it (Load.VUs = that number), so
// each scenario runs once.
func DefaultLoad() *Load {
	return &Load{Model: PerVUIterations, VUs: 1, Iterations: 1, MaxDuration: DefaultMaxDuration,
		GracefulStop: DefaultGracefulStop, GracefulRampDown: DefaultGracefulRampDown,
		TimeUnit: DefaultTimeUnit, MaxScheduleLag: DefaultMaxScheduleLag}
}

func (l *loader) loadPlanLoad() {
	for _, fb := range l.blocks("load") {
		if l.plan.Load != nil {
			l.errorAt(fb.block.DefRange, "Duplicate load block",
				"A plan has at most one top-level load block (scenarios may have their own); merge the stages into one.")
			continue
		}
		l.plan.Load = l.loadBlock(fb.src, fb.block)
		shared := false
		for _, sc := range l.plan.Scenarios {
			shared = shared || sc.Load == nil
		}
		if !shared && len(l.plan.Scenarios) > 0 {
			l.warnAt(fb.block.DefRange, "Unused load block",
				"Every scenario has its own load block, so this plan-level load runs nothing. Remove it, or remove a scenario's own load to share this one.")
		}
	}
	if l.plan.Load == nil {
		sharers := 0
		for _, s := range l.plan.Scenarios {
			if s.Load == nil {
				sharers++
			}
		}
		if sharers > 0 {
			l.plan.Load = DefaultLoad()
			l.plan.Load.VUs = sharers // one VU (and so one iteration) for each scenario
		}
	}
}

// loadBlock decodes a load block and fills its defaults. It never returns nil, so that a scenario
// with a broken load block does not also report that it has none.
func (l *loader) loadBlock(src *source, b *hcl.Block) *Load {
	content, diags := b.Body.Content(loadSchema)
	l.add(diags)
	sc := &scope{src: src, what: "a load block"}
	ld := &Load{Model: Users, GracefulStop: DefaultGracefulStop, GracefulRampDown: DefaultGracefulRampDown,
		TimeUnit: DefaultTimeUnit, MaxDuration: DefaultMaxDuration, MaxScheduleLag: DefaultMaxScheduleLag,
		Pos: posOf(b.DefRange)}
	l.loadRanges[ld] = b.DefRange
	attr := content.Attributes
	if a := attr["model"]; a != nil {
		if s, ok := l.str(a, sc); ok {
			if !contains(models, s) {
				l.errorAt(a.Expr.Range(), "Unknown load model", "%q is not a model.%s", s, didYouMean(s, models))
				return ld
			}
			ld.Model = Model(s)
		}
	}
	for _, a := range sortedAttrs(attr) {
		switch a.Name {
		case "model", "graceful_stop", "max_schedule_lag", "max_dropped_iterations":
			continue
		}
		if !contains(modelAttrs[ld.Model], a.Name) {
			l.errorAt(a.NameRange, "Attribute does not apply to this model",
				"%s has no meaning for model = %q; it applies to %s. Remove it or change the model.", a.Name, ld.Model, modelsWith(a.Name))
		}
	}
	if a := attr["graceful_stop"]; a != nil {
		ld.GracefulStop, _ = l.loadDuration(a, sc)
	}
	if a := attr["max_schedule_lag"]; a != nil {
		ld.MaxScheduleLag, _ = l.loadDuration(a, sc)
	}
	if a := attr["max_dropped_iterations"]; a != nil {
		ld.MaxDroppedIterations, _ = l.integer(a, sc, -1)
	}
	switch ld.Model {
	case Users:
		l.closedModel(ld, content, sc, b)
	case ArrivalRate:
		l.openModel(ld, content, sc, b)
	default:
		l.iterationsModel(ld, content, sc)
	}
	return ld
}

func modelsWith(attr string) string {
	var out []string
	for _, m := range models {
		if contains(modelAttrs[Model(m)], attr) {
			out = append(out, m)
		}
	}
	return "model = " + quoteList(out)
}

func (l *loader) closedModel(ld *Load, content *hcl.BodyContent, sc *scope, b *hcl.Block) {
	attr := content.Attributes
	if a := attr["start_vus"]; a != nil {
		ld.StartVUs, _ = l.vuCount(a, sc, 0)
	}
	if a := attr["graceful_ramp_down"]; a != nil {
		ld.GracefulRampDown, _ = l.loadDuration(a, sc)
	}
	ld.Stages = l.stages(content, sc, true)
	if l.shorthand(ld, content, sc, b, "vus", true) {
		return
	}
}

func (l *loader) openModel(ld *Load, content *hcl.BodyContent, sc *scope, b *hcl.Block) {
	attr := content.Attributes
	if a := attr["start_rate"]; a != nil {
		if f, ok := l.number(a, sc); ok {
			if f < 0 || f > maxTarget {
				l.errorAt(a.Expr.Range(), "Rate out of range", "start_rate is iterations per time_unit, from 0 to %g.", float64(maxTarget))
			}
			ld.StartRate = f
		}
	}
	if a := attr["time_unit"]; a != nil {
		if d, ok := l.loadDuration(a, sc); ok {
			if d == 0 {
				l.errorAt(a.Expr.Range(), "Invalid time_unit", "time_unit must be longer than 0, e.g. \"1s\" or \"1m\".")
			} else {
				ld.TimeUnit = d
			}
		}
	}
	ld.Stages = l.stages(content, sc, false)
	l.shorthand(ld, content, sc, b, "rate", false)
	peak := ld.StartRate
	for _, s := range ld.Stages {
		peak = math.Max(peak, s.Target)
	}
	perSecond := peak / ld.TimeUnit.Seconds()
	if rateCap := float64(l.instances() * maxRate); perSecond > rateCap && peak <= maxTarget { // above maxTarget is already reported at the rate
		rng := b.DefRange
		if a := attr["time_unit"]; a != nil {
			rng = a.Expr.Range()
		}
		l.errorAt(rng, "Rate too high", "The peak rate is %.4g iterations per second (%g per %s). One loadplan instance starts at most "+
			"%s iterations per second, each on a VU of its own while it runs; lower the rate, lengthen time_unit, "+
			"or split the load across more machines with `loadplan apply --segment i/N`.", perSecond, peak, ld.TimeUnit, thousands(maxRate))
	}
	if perSecond > float64(l.instances()*maxRate) {
		perSecond = 1 // reported; the VU default below must not overflow
	}
	ld.PreAllocatedVUs = max(1, int(math.Ceil(perSecond)))
	if a := attr["pre_allocated_vus"]; a != nil {
		ld.PreAllocatedVUs, _ = l.vuCount(a, sc, 1)
	}
	ld.MaxVUs = ld.PreAllocatedVUs
	if a := attr["max_vus"]; a != nil {
		if n, ok := l.vuCount(a, sc, 1); ok {
			if n < ld.PreAllocatedVUs {
				l.errorAt(a.Expr.Range(), "max_vus below pre_allocated_vus",
					"max_vus (%d) must be at least pre_allocated_vus (%d); raise it or lower pre_allocated_vus.", n, ld.PreAllocatedVUs)
			}
			ld.MaxVUs = n
		}
	}
}

// shorthand handles `vus`/`rate` + `duration` without stages: one constant stage.
func (l *loader) shorthand(ld *Load, content *hcl.BodyContent, sc *scope, b *hcl.Block, level string, whole bool) bool {
	la, da := content.Attributes[level], content.Attributes["duration"]
	if la == nil && da == nil {
		if len(ld.Stages) == 0 && !hasStageBlocks(content) {
			l.errorAt(b.DefRange, "Empty stage list",
				"This load has no stages. Add stage { duration = \"1m\"  target = 10 } blocks, or write %s = N and duration = \"1m\" for a constant load.", level)
		}
		return false
	}
	if hasStageBlocks(content) {
		a := la
		if a == nil {
			a = da
		}
		l.errorAt(a.NameRange, "Stages and shorthand together",
			"Use either stage blocks or %s + duration (one constant stage), not both.", level)
		return false
	}
	if la == nil || da == nil {
		missing, rng := "duration", hcl.Range{}
		if la == nil {
			missing, rng = level, da.NameRange
		} else {
			rng = la.NameRange
		}
		l.errorAt(rng, "Incomplete constant load", "A constant load needs both %s and duration; add %s.", level, missing)
		return false
	}
	// Both attributes are checked before giving up, so one run reports a problem in each.
	var target float64
	levelOK := false
	if whole {
		if n, ok := l.vuCount(la, sc, 0); ok {
			target, levelOK = float64(n), true
			ld.StartVUs = n
		}
	} else if f, ok := l.number(la, sc); ok {
		if f < 0 || f > maxTarget {
			l.errorAt(la.Expr.Range(), "Rate out of range", "rate is iterations per time_unit, from 0 to %g.", float64(maxTarget))
		}
		target, levelOK = f, true
		ld.StartRate = f
	}
	d, ok := l.loadDuration(da, sc)
	if !ok || !levelOK {
		return false
	}
	if d == 0 {
		l.errorAt(da.Expr.Range(), "Invalid duration", "A load that lasts 0s runs nothing; give a duration such as \"30s\".")
	}
	ld.Stages = []Stage{{Duration: d, Target: target, Pos: posOf(la.Range)}}
	return true
}

func hasStageBlocks(content *hcl.BodyContent) bool { return len(content.Blocks) > 0 }

// stages decodes the stage blocks. whole says targets are VUs (non-negative whole numbers).
func (l *loader) stages(content *hcl.BodyContent, sc *scope, whole bool) []Stage {
	var out []Stage
	var total time.Duration
	for _, blk := range content.Blocks {
		bc, diags := blk.Body.Content(stageSchema)
		l.add(diags)
		st := Stage{Pos: posOf(blk.DefRange)}
		ok := true
		if a := bc.Attributes["duration"]; a != nil {
			st.Duration, ok = l.loadDuration(a, sc)
		}
		if a := bc.Attributes["target"]; a != nil {
			f, tok := l.number(a, sc)
			switch {
			case !tok:
				ok = false
			case f < 0:
				l.errorAt(a.Expr.Range(), "Negative stage target", "A stage target is %s, 0 or more; got %g.", unitOf(whole), f)
				ok = false
			case whole && f > float64(l.instances()*maxVUs):
				l.errorAt(a.Expr.Range(), "Too many virtual users", "target: %s", l.tooManyVUs(fmtG(f)))
				ok = false
			case f > maxTarget:
				l.errorAt(a.Expr.Range(), "Stage target too large", "A stage target is %s, at most %g; got %g.", unitOf(whole), float64(maxTarget), f)
				ok = false
			case whole && f != math.Trunc(f):
				l.errorAt(a.Expr.Range(), "Non-integer VU target",
					"A stage target in the users model is a number of virtual users, a whole number; got %g. Write %g.", f, math.Round(f))
				ok = false
			}
			st.Target = f
		}
		if ok {
			total = min(total+st.Duration, maxLoadDuration+1) // saturates: many long stages must not wrap around
			out = append(out, st)
		}
	}
	if total > maxLoadDuration {
		l.errorAt(content.Blocks[0].DefRange, "Load too long", "The stages last more than %s together, and a load lasts at most that (a year). "+
			"For a longer soak, run the plan again; each run has its own results.", maxLoadDuration)
	}
	if len(content.Blocks) > 0 && len(out) == len(content.Blocks) && total == 0 {
		l.errorAt(content.Blocks[0].DefRange, "Load of zero length", "Every stage lasts 0s, so nothing would run. Give the stages durations.")
	}
	return out
}

func unitOf(whole bool) string {
	if whole {
		return "a number of virtual users"
	}
	return "a number of iterations per time_unit"
}

func (l *loader) iterationsModel(ld *Load, content *hcl.BodyContent, sc *scope) {
	attr := content.Attributes
	ld.VUs, ld.Iterations = 1, 1
	if a := attr["vus"]; a != nil {
		ld.VUs, _ = l.vuCount(a, sc, 1)
	}
	if a := attr["iterations"]; a != nil {
		ld.Iterations, _ = l.integer(a, sc, 1)
	}
	if a := attr["max_duration"]; a != nil {
		if d, ok := l.loadDuration(a, sc); ok {
			if d == 0 {
				l.errorAt(a.Expr.Range(), "Invalid max_duration", "max_duration bounds the run; give it a length such as \"10m\".")
			} else {
				ld.MaxDuration = d
			}
		}
	}
	for _, blk := range content.Blocks {
		l.errorAt(blk.DefRange, "Stages do not apply to this model",
			"model = %q runs a fixed number of iterations; remove the stage blocks, or use model = \"users\" or \"arrival_rate\".", ld.Model)
		break
	}
	if ld.Model == SharedIterations && ld.Iterations < ld.VUs {
		if a := attr["iterations"]; a != nil {
			l.warnAt(a.Expr.Range(), "Fewer iterations than VUs",
				"%d iterations shared by %d VUs leave %d VUs idle; lower vus.", ld.Iterations, ld.VUs, ld.VUs-ld.Iterations)
		}
	}
}
