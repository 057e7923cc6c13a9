package executor

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// group is a set of scenarios sharing one load block: the plan-level load (scenarios split its
// VUs or iterations by weight) or a scenario's own. It runs its LoadSchedule.
type group struct {
	e         *Executor
	load      *plan.Load
	name      string
	scenarios []*scenario
	weights   []int
	sch       *LoadSchedule

	dropped atomic.Uint64
}

func (g *group) label() string { return g.name }

func (e *Executor) newGroup(l *plan.Load, scs []*scenario, name string) (*group, error) {
	g := &group{e: e, load: l, name: name, scenarios: scs}
	g.sch = &LoadSchedule{Load: l, seg: e.cfg.Segment, maxVUs: e.cfg.MaxVUs}
	for _, sc := range scs {
		sc.g = g
		g.weights = append(g.weights, sc.weight)
		g.sch.Scenarios = append(g.sch.Scenarios, sc.name)
	}
	g.sch.Weights = g.weights
	switch l.Model {
	case plan.Users, plan.ArrivalRate:
		if len(l.Stages) == 0 {
			return nil, fmt.Errorf("%s: the %s model needs at least one stage", name, l.Model)
		}
		unit := 1.0
		start := float64(l.StartVUs)
		if l.Model == plan.ArrivalRate {
			tu := l.TimeUnit
			if tu <= 0 {
				tu = time.Second
			}
			unit = tu.Seconds()
			start = l.StartRate / unit
		}
		g.sch.ramp.start = start
		for _, s := range l.Stages {
			if s.Target < 0 || s.Duration < 0 {
				return nil, fmt.Errorf("%s: stage targets and durations must not be negative", name)
			}
			g.sch.ramp.stages = append(g.sch.ramp.stages, rampStage{dur: s.Duration, target: s.Target / unit})
		}
		g.sch.Duration = g.sch.ramp.total()
	case plan.PerVUIterations, plan.SharedIterations:
		if l.VUs < 0 || l.Iterations < 0 {
			return nil, fmt.Errorf("%s: vus and iterations must not be negative", name)
		}
		g.sch.Duration = l.MaxDuration
		if g.sch.Duration <= 0 {
			g.sch.Duration = 10 * time.Minute
		}
	default:
		return nil, fmt.Errorf("%s: unknown load model %q", name, l.Model)
	}
	return g, nil
}

// scale applies Config.Duration — stage-based loads are scaled by one factor so that the longest
// fits; iteration models have their max_duration capped — and completes each group's schedule.
func (e *Executor) scale() {
	capd := e.cfg.Duration
	var longest time.Duration
	for _, g := range e.groups {
		if g.sch.staged() {
			longest = max(longest, g.sch.ramp.total())
		}
	}
	for _, g := range e.groups {
		s := g.sch
		if capd > 0 && s.staged() && longest > capd {
			s.ramp = scaleRamp(s.ramp, float64(capd)/float64(longest))
			s.Duration = s.ramp.total()
		}
		if capd > 0 && !s.staged() && s.Duration > capd {
			s.Duration = capd
		}
		s.finish()
	}
}

// spans returns the group's stages as offsets from the start.
func (g *group) spans() []metrics.Span {
	if len(g.sch.Stages) == 0 {
		return []metrics.Span{{Start: 0, End: g.sch.Duration}}
	}
	var out []metrics.Span
	for _, s := range g.sch.Stages {
		out = append(out, metrics.Span{Start: s.Start, End: s.End})
	}
	return out
}

// run runs the group's load between the run's stop and hard contexts. The group's own stop comes
// at the end of its stages (or max_duration); graceful_stop later its hard context ends.
func (g *group) run(stop, hard context.Context, start time.Time) {
	gStop, cancelStop := context.WithDeadline(stop, start.Add(g.sch.Duration))
	gHard, cancelHard := context.WithCancel(hard)
	graceDone := make(chan struct{})
	go func() {
		defer close(graceDone)
		select {
		case <-gStop.Done():
		case <-gHard.Done():
			return
		}
		t := time.NewTimer(g.load.GracefulStop)
		defer t.Stop()
		select {
		case <-t.C:
			cancelHard()
		case <-gHard.Done():
		}
	}()
	switch g.load.Model {
	case plan.Users:
		g.runUsers(gStop, gHard, start)
	case plan.ArrivalRate:
		g.runArrival(stop, gStop, gHard, start)
	default:
		g.runIterations(gStop, gHard)
	}
	cancelStop()
	cancelHard()
	<-graceDone
}

// runIterations runs per_vu_iterations and shared_iterations.
func (g *group) runIterations(gStop, gHard context.Context) {
	l := g.load
	vus := g.sch.ScenarioVUs(0) // a share of iterations gets at least the one VU that runs it
	var shares []int
	if l.Model == plan.SharedIterations {
		shares = g.sch.perIts
	}
	var wg sync.WaitGroup
	for i, sc := range g.scenarios {
		taken := new(atomic.Int64)
		for range vus[i] {
			v := newVU(g.e, sc)
			wg.Add(1)
			go func() {
				defer wg.Done()
				hard, cancel := context.WithCancel(gHard)
				defer cancel()
				v.activate(gStop, hard, func() {
					if shares != nil {
						v.runShared(taken, int64(shares[i]))
					} else {
						v.runCount(l.Iterations)
					}
				})
			}()
		}
	}
	wg.Wait()
}

// slot is one VU of the users model with its current activation.
type slot struct {
	v          *vu
	running    bool
	stopping   bool
	done       chan struct{}
	cancelStop context.CancelFunc
	cancelHard context.CancelFunc
	rampDown   *time.Timer
}

// runUsers runs the closed model: a controller moves each scenario's active VUs to its share of
// the ramp's value, checking every 50 ms. VUs that must go finish their iteration within
// graceful_ramp_down, then are cancelled.
func (g *group) runUsers(gStop, gHard context.Context, start time.Time) {
	pools := make([][]*slot, len(g.scenarios))
	adjust := func() {
		per := g.sch.usersSplit(g.sch.ramp.at(time.Since(start)))
		for i, sc := range g.scenarios {
			n := per[i]
			if sc.exhausted.Load() {
				n = 0
			}
			pools[i] = g.resize(sc, pools[i], n, gStop, gHard)
		}
	}
	adjust()
	t := time.NewTicker(50 * time.Millisecond)
loop:
	for {
		select {
		case <-gStop.Done():
			break loop
		case <-t.C:
			adjust()
		}
	}
	t.Stop()
	for _, pool := range pools {
		for _, s := range pool {
			if s.running {
				<-s.done
			}
			if s.rampDown != nil {
				s.rampDown.Stop()
			}
		}
	}
}

// resize moves pool to n active VUs: it starts idle slots (lowest first) and stops the
// highest active ones.
func (g *group) resize(sc *scenario, pool []*slot, n int, gStop, gHard context.Context) []*slot {
	active := 0
	for _, s := range pool {
		if s.running {
			select {
			case <-s.done:
				s.running, s.stopping = false, false
			default:
			}
		}
		if s.running && !s.stopping {
			active++
		}
	}
	for i := 0; active < n; i++ {
		if i == len(pool) {
			pool = append(pool, &slot{v: newVU(g.e, sc)})
		}
		s := pool[i]
		if s.running {
			continue
		}
		vStop, cs := context.WithCancel(gStop)
		vHard, ch := context.WithCancel(gHard)
		s.running, s.stopping, s.cancelStop, s.cancelHard = true, false, cs, ch
		s.done = make(chan struct{})
		go func(s *slot, done chan struct{}) {
			defer close(done)
			s.v.activate(vStop, vHard, s.v.runClosed)
			cs()
			ch()
		}(s, s.done)
		active++
	}
	for i := len(pool) - 1; i >= 0 && active > n; i-- {
		s := pool[i]
		if !s.running || s.stopping {
			continue
		}
		s.stopping = true
		s.cancelStop()
		if s.rampDown != nil {
			s.rampDown.Stop()
		}
		s.rampDown = time.AfterFunc(g.load.GracefulRampDown, s.cancelHard)
		active--
	}
	return pool
}
