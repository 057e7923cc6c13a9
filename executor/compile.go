package executor

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/loadplan/loadplan/executor/httpstep"
	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/executor/wsstep"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// scenario is a compiled plan.Scenario: immutable after compile except the atomics.
type scenario struct {
	e       *Executor
	g       *group
	ps      *plan.Scenario
	name    string
	weight  int
	tags    *metrics.Tags   // scenario-level samples: iterations, iteration_duration, errors, ...
	steps   []*scenarioStep // an iteration's, when the scenario has no tasks
	kinds   []step.Kind     // the step kinds the scenario uses; a VU's states are in this order
	feeders []*feederState

	setup, teardown []*scenarioStep // once per VU activation (flow.go)
	tasks           []*task         // each iteration runs one, drawn by weight (flow.go)
	taskWhen        bool            // some task has a when
	interval        time.Duration   // pacing: the least time between a VU's iteration starts
	endsOnResponse  bool            // an iteration ends at its last response (iterEnd, run.go)

	exhausted atomic.Bool // a unique feeder ran out: the scenario starts no new iteration
}

// kinds is the registry of step kinds, by plan step kind: the one place that knows them all.
// A sleep step is the executor's own pause, not a kind.
var kinds = map[plan.StepKind]step.Kind{
	plan.HTTPStepKind:      httpstep.Kind,
	plan.WebSocketStepKind: wsstep.Kind,
}

// scenarioStep is a compiled plan.Step as a scenario runs it.
type scenarioStep struct {
	kind  plan.StepKind
	run   step.Step // nil for a sleep step
	slot  int       // index of the step kind's per-VU state among the VU's states
	sleep plan.ThinkTime
	think *plan.ThinkTime // pause after the step; nil for none
	tags  *metrics.Tags   // for errors samples of this step
	when  *plan.Template  // the step runs only when it holds; nil: always
	// repeat is set for a repeat block, whose compiled steps are body.
	repeat *plan.Repeat
	body   []*scenarioStep
}

// targetConf is a target with its TLS configuration built once and shared by every VU.
type targetConf = step.Target

// compileEnv is the run's targets as the step kinds see them while compiling (step.Targets).
type compileEnv struct{ e *Executor }

func (c compileEnv) Index(t *plan.Target) int  { return c.e.targetIndex(t) }
func (c compileEnv) Target(i int) *step.Target { return c.e.targets[i] }
func (c compileEnv) AddHost(raw string)        { c.e.addHost(raw) }

// feederState hands out the rows of one feeder, shared by every VU and scenario using it.
type feederState struct {
	f      *plan.Feeder
	cursor atomic.Uint64
}

// next returns the row for one iteration, false when a unique feeder has run out.
func (fs *feederState) next(rng *rand.Rand) ([]string, bool) {
	n := uint64(len(fs.f.Rows))
	if n == 0 {
		return nil, false
	}
	switch fs.f.Mode {
	case plan.Random:
		return fs.f.Rows[rng.Uint64N(n)], true
	case plan.Unique:
		i := fs.cursor.Add(1) - 1
		if i >= n {
			return nil, false
		}
		return fs.f.Rows[i], true
	default:
		return fs.f.Rows[(fs.cursor.Add(1)-1)%n], true
	}
}

// exhaust stops the scenario because fs ran out of unique rows; it logs once.
func (sc *scenario) exhaust(fs *feederState) {
	if sc.exhausted.CompareAndSwap(false, true) {
		sc.e.logf("scenario %s stops: data %q has no unique rows left (%d used)", sc.name, fs.f.Name, len(fs.f.Rows))
	}
}

// compile turns the plan into groups of scenarios sharing a load.
func (e *Executor) compile() error {
	p := e.cfg.Plan
	if e.seed = e.cfg.Seed; e.seed == 0 {
		e.seed = rand.Uint64()
	}
	want := map[string]bool{}
	for _, name := range e.cfg.Scenarios {
		found := false
		for _, s := range p.Scenarios {
			found = found || s.Name == name
		}
		if !found {
			return fmt.Errorf("unknown scenario %q (the plan has: %s)", name, strings.Join(sortedNames(p), ", "))
		}
		want[name] = true
	}
	e.targetIdx = map[*plan.Target]int{}
	e.targets = []*targetConf{{Timeout: 60 * time.Second, ProxyEnv: p.ProxyEnv}}
	e.feeders = map[*plan.Feeder]*feederState{}
	var shared []*scenario
	for _, ps := range p.Scenarios {
		if len(want) > 0 && !want[ps.Name] {
			continue
		}
		sc, err := e.compileScenario(ps)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", ps.Name, err)
		}
		e.scenarios = append(e.scenarios, sc)
		if ps.Load == nil {
			shared = append(shared, sc)
			continue
		}
		g, err := e.newGroup(ps.Load, []*scenario{sc}, "scenario "+ps.Name)
		if err != nil {
			return err
		}
		g.sch.Scenario = ps.Name
		e.groups = append(e.groups, g)
	}
	if len(e.scenarios) == 0 {
		return fmt.Errorf("the plan has no scenario to run")
	}
	var planGroup *group
	if len(shared) > 0 {
		if p.Load == nil {
			return fmt.Errorf("scenario %s has no load block and the plan has none", shared[0].name)
		}
		g, err := e.newGroup(p.Load, shared, "the plan-level load")
		if err != nil {
			return err
		}
		planGroup = g
		e.groups = append([]*group{g}, e.groups...)
	}
	if err := e.buildTLS(); err != nil {
		return err
	}
	e.scale()
	spanOf := e.groups[0]
	if planGroup != nil {
		spanOf = planGroup
	}
	e.spans = spanOf.spans()
	e.sched = &Schedule{Segment: e.cfg.Segment}
	for _, g := range e.groups {
		e.total = max(e.total, g.sch.Duration)
		e.sched.Loads = append(e.sched.Loads, g.sch)
	}
	e.sched.Total = e.total
	return nil
}

func (e *Executor) compileScenario(ps *plan.Scenario) (*scenario, error) {
	sc := &scenario{e: e, ps: ps, name: ps.Name, weight: max(ps.Weight, 1)}
	sc.tags = &metrics.Tags{Scenario: ps.Name}
	if ps.MetricTags != nil {
		sc.tags = ps.MetricTags
	}
	for _, f := range ps.Feeders {
		fs := e.feeders[f]
		if fs == nil {
			fs = &feederState{f: f}
			e.feeders[f] = fs
		}
		sc.feeders = append(sc.feeders, fs)
	}
	var think *plan.ThinkTime
	if ps.ThinkTime.Max > 0 || ps.ThinkTime.Min > 0 {
		think = &ps.ThinkTime
	}
	env := &step.Env{Scenario: ps.Name, Tags: sc.tags, Targets: compileEnv{e}, Debug: e.cfg.HTTPDebug,
		Tracing: e.cfg.Plan.Tracing, Run: e.runName()}
	slots := map[plan.StepKind]int{}
	var err error
	if sc.setup, err = sc.compileList(ps.Setup, env, slots, nil, "setup: "); err != nil {
		return nil, err
	}
	if sc.steps, err = sc.compileList(ps.Steps, env, slots, think, ""); err != nil {
		return nil, err
	}
	for _, t := range ps.Tasks {
		ct := &task{ps: t, tags: t.MetricTags}
		if ct.tags == nil { // a plan built by hand
			ct.tags = &metrics.Tags{Scenario: ps.Name, Task: t.Name}
		}
		if ct.steps, err = sc.compileList(t.Steps, env, slots, think, "task "+t.Name+": "); err != nil {
			return nil, err
		}
		sc.tasks = append(sc.tasks, ct)
		sc.taskWhen = sc.taskWhen || t.When != nil
	}
	if sc.teardown, err = sc.compileList(ps.Teardown, env, slots, nil, "teardown: "); err != nil {
		return nil, err
	}
	sc.interval = ps.IterationInterval()
	sc.endsOnResponse = endsOnResponse(sc)
	return sc, nil
}

// targetIndex returns the index of t's compiled configuration, building it on first use. It is
// called only while compiling (and reads only afterwards).
func (e *Executor) targetIndex(t *plan.Target) int {
	if t == nil {
		return 0
	}
	if i, ok := e.targetIdx[t]; ok {
		return i
	}
	tc := &targetConf{Plan: t, Timeout: t.Timeout}
	if tc.Timeout <= 0 {
		tc.Timeout = 60 * time.Second
	}
	e.targets = append(e.targets, tc)
	e.targetIdx[t] = len(e.targets) - 1
	return len(e.targets) - 1
}

// buildTLS loads the TLS options of every target. Errors name the target and the file.
func (e *Executor) buildTLS() error {
	for _, tc := range e.targets[1:] {
		t := tc.Plan
		if !t.InsecureSkipVerify && t.CAFile == "" && t.CertFile == "" {
			continue
		}
		cfg := &tls.Config{InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // the plan asks for it
		if t.CAFile != "" {
			pem, err := os.ReadFile(t.CAFile)
			if err != nil {
				return fmt.Errorf("target %s: ca file: %w", t.Name, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("target %s: ca file %s holds no PEM certificate", t.Name, t.CAFile)
			}
			cfg.RootCAs = pool
		}
		if t.CertFile != "" || t.KeyFile != "" {
			cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
			if err != nil {
				return fmt.Errorf("target %s: client certificate: %w", t.Name, err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		tc.TLS = cfg
	}
	return nil
}

// addHost records a URL's host:port for Preflight.
func (e *Executor) addHost(raw string) {
	h, ok := hostPort(raw)
	if !ok {
		return
	}
	for _, x := range e.hosts {
		if x == h {
			return
		}
	}
	e.hosts = append(e.hosts, h)
}

// runName is the run's name for the baggage header: Config.RunName, else the plan's first file's
// name without folder and extension (what apply names result files after).
func (e *Executor) runName() string {
	if e.cfg.RunName != "" {
		return e.cfg.RunName
	}
	if fs := e.cfg.Plan.Files; len(fs) > 0 {
		b := filepath.Base(fs[0])
		return strings.TrimSuffix(b, filepath.Ext(b))
	}
	return ""
}
