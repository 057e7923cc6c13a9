package executor

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// vu is one virtual user. Everything in it is owned by the VU's goroutine, except the atomics
// (read by Status) and the connection byte counters (written by the transport's goroutines).
// A vu survives deactivation (closed model ramp-down) and keeps its id and iteration counter.
type vu struct {
	e  *Executor
	sc *scenario
	id int64
	rt *plan.Runtime
	// rng is the VU's own random source (think time, random feeders); never shared.
	rng *rand.Rand
	// taskRng draws the iteration's task only, seeded from Config.Seed and the VU's id, so that
	// a seed gives each VU one sequence of tasks whatever the network does with rng's draws.
	taskRng  *rand.Rand
	eligible []bool // per task: its when held for this iteration (pickTask)
	b        batcher

	// stop is done when the VU must start no new iteration; hard when in-flight work must end.
	stop, hard context.Context

	// states are the per-VU states of the scenario's step kinds (clients, cookie jars,
	// persistent sessions), by scenarioStep.slot; nil for a kind that keeps none.
	states []step.State
	bo     connBackoff // connection failures in a row, per target (backoff.go)
	timer  *time.Timer // reused by sleep

	active     activeFlag    // running (closed/iteration models) or in an iteration (open model)
	iterations atomic.Uint64 // completed iterations, read by Status
	iter       int64         // iter for templates, 0-based within the VU

	lag time.Duration // schedule lag of the current iteration, added to its first request
	// ran says that a step of the current iteration began (not left out by a when); owedSet
	// that the iteration's rest already set its backoff (bo.owed).
	ran, owedSet bool
	phase        string        // "setup" or "teardown" while they run, "" in iterations
	itags        *metrics.Tags // the iteration's samples': its task's, or the scenario's
	setupOK      bool          // this activation's setup succeeded (or the scenario has none)
	jobs         chan int64    // open model: scheduled start (Unix ns) of the next iteration
	// trace is the VU's trace context, a fresh trace per iteration (and for setup and
	// teardown); nil when no request of the plan is traced: tracing off costs this nil check.
	trace *step.Trace
}

func newVU(e *Executor, sc *scenario) *vu {
	id := e.vuSeq.Add(1)
	v := &vu{
		e:  e,
		sc: sc,
		id: id,
		rt: &plan.Runtime{VU: id, Scenario: sc.name, Captures: make(map[string]string), Rows: make(map[string][]string),
			VUCaptures: make(map[string]string)},
		rng: rand.New(rand.NewPCG(uint64(id), uint64(time.Now().UnixNano()))),
		b:   newBatcher(e.cfg.Sink),
		// a scenario without setup runs iterations from the start (setUp says so again)
		setupOK: len(sc.setup) == 0,
		itags:   sc.tags,
	}
	if len(sc.tasks) > 0 {
		v.taskRng = rand.New(rand.NewPCG(e.seed, uint64(id)))
		v.eligible = make([]bool, len(sc.tasks))
	}
	if e.cfg.Plan.Traced() {
		v.trace = step.NewTrace() // before the states: a step kind's state may keep it
	}
	v.timer = time.NewTimer(time.Hour)
	v.timer.Stop()
	v.states = make([]step.State, len(sc.kinds))
	for i, k := range sc.kinds {
		if k.NewState != nil {
			v.states[i] = k.NewState(v, e.targets)
		}
	}
	e.register(v)
	return v
}

// activate runs the scenario's setup, body (the VU's iterations) and teardown with the given
// contexts, then ends the step kinds' activation (closing the VU's sessions and idle
// connections) and pushes every buffered sample. An activation is one user in Locust's terms:
// a VU ramped down and up again runs setup again. When setup never succeeded (the VU was told to
// stop first) body still runs, so that an open-model VU gives back the iterations handed to it,
// but iterate runs none of them.
func (v *vu) activate(stop, hard context.Context, body func()) {
	v.begin(stop, hard)
	if v.jobs == nil {
		v.active.Store(true) // a VU logging in is a running user (the vus gauge counts it)
	}
	v.setUp()
	body()
	v.tearDown()
	v.active.Store(false)
	for i := len(v.states) - 1; i >= 0; i-- {
		if s := v.states[i]; s != nil {
			s.End()
		}
	}
	v.flush()
}

// begin starts an activation: the VU's contexts, and each step kind's state bound to hard.
func (v *vu) begin(stop, hard context.Context) {
	v.stop, v.hard = stop, hard
	for _, s := range v.states {
		if s != nil {
			s.Begin(hard)
		}
	}
}

// runClosed iterates until the VU is told to stop (users model).
func (v *vu) runClosed() {
	v.active.Store(true)
	for v.stop.Err() == nil && !v.sc.exhausted.Load() {
		v.iterate(0)
	}
}

// runCount runs n iterations, or until told to stop (per_vu_iterations).
func (v *vu) runCount(n int) {
	v.active.Store(true)
	for i := 0; i < n && v.stop.Err() == nil && !v.sc.exhausted.Load(); i++ {
		v.iterate(0)
	}
}

// runShared takes iterations from a shared budget until it is spent (shared_iterations).
func (v *vu) runShared(taken *atomic.Int64, limit int64) {
	v.active.Store(true)
	for v.stop.Err() == nil && !v.sc.exhausted.Load() && taken.Add(1) <= limit {
		v.iterate(0)
	}
}

// runOpen runs the iterations the scheduler hands it until jobs is closed (arrival_rate). While
// idle it pushes its samples at the executor's flush tick.
func (v *vu) runOpen(free chan<- *vu) {
	for {
		var tick <-chan struct{} // nil (never ready) when there is nothing to push
		if len(v.b.buf) > 0 {
			tick = v.e.flushTick()
		}
		select {
		case due, ok := <-v.jobs:
			if !ok {
				return
			}
			v.active.Store(true)
			v.iterate(due)
			v.active.Store(false)
			free <- v
		case <-tick:
			v.flush()
		}
	}
}

// iterate runs the scenario's steps, or one task drawn by weight, once. due is the scheduled start in Unix ns (open model), 0
// otherwise. An iteration the hard context cuts after its first step began is not an
// `iterations` sample but an `iterations_interrupted` one.
func (v *vu) iterate(due int64) {
	sc := v.sc
	start := clockNow()
	origin := start
	v.lag = 0
	if due != 0 {
		origin = time.Unix(0, due)
		if lag := start.Sub(origin); lag > 0 {
			v.lag = lag
		}
		v.emitAt(start, metrics.ScheduleLag, ms(v.lag), sc.tags, 0, "")
		if max := sc.g.load.MaxScheduleLag; max > 0 && v.lag > max {
			v.e.saturate("schedule lag " + v.lag.Round(time.Millisecond).String() + " over max_schedule_lag " +
				max.String() + " in " + sc.g.label() + ": the generator cannot keep the rate")
		}
	}
	if !v.setupOK {
		// The VU was told to stop before its setup succeeded: the iteration handed to it
		// (open model) does not run, and says so.
		if due != 0 {
			sc.g.dropped.Add(1)
			v.emitAt(start, metrics.DroppedIterations, 1, sc.tags, 0, "")
		}
		return
	}
	v.rt.Iter = v.iter
	clear(v.rt.Captures)
	for _, fs := range sc.feeders {
		row, ok := fs.next(v.rng)
		if !ok {
			sc.exhaust(fs)
			return
		}
		v.rt.Rows[fs.f.Name] = row
	}
	list := sc.steps
	v.itags = sc.tags
	if len(sc.tasks) > 0 {
		list = nil
		if t := v.pickTask(); t != nil {
			list, v.itags = t.steps, t.tags
		}
	}
	v.ran, v.owedSet = false, false
	if v.trace != nil {
		v.trace.Begin() // a fresh trace per iteration
	}
	if v.runList(v.hard, list, true) == cut {
		if v.ran {
			v.interrupted()
		}
		return
	}
	// Every step ran (a request answered as the hard context ended is a response), or a
	// failure ended the iteration: it is complete, whatever the context says now.
	end := v.iterEnd(start)
	v.emitAt(end, metrics.Iterations, 1, v.itags, 0, "")
	v.b.add(metrics.Sample{Metric: metrics.IterationDuration, Time: end.UnixNano(), Value: ms(end.Sub(origin)), Tags: v.itags,
		Span: v.trace.RootSpan(start.UnixNano())}) // a sampled trace's root span (outputs/otlp)
	v.iter++
	v.iterations.Add(1)
	if !v.owedSet {
		v.bo.owed = v.bo.wait(v.rng.Int64N)
	}
	v.backOff()
	v.pace(start)
}

// pace waits, after an iteration that began at start, what its scenario's pacing leaves of the
// interval (Locust's constant_pacing and constant_throughput: the iteration's own time counts,
// failed or not); or idleWait after an iteration that ran no step, when nothing else paces it.
// Like a think time it ends early when the VU is told to stop. The open model does not wait: its
// schedule is its pacing.
func (v *vu) pace(start time.Time) {
	if v.jobs != nil {
		return
	}
	if iv := v.sc.interval; iv > 0 {
		if d := time.Until(start.Add(iv)); d > 0 {
			v.pause(v.hard, d)
		}
		return
	}
	if !v.ran {
		v.pause(v.hard, idleWait)
	}
}

// interrupted counts an iteration the hard context cut (end of graceful_stop or
// graceful_ramp_down, an abort); its cut request, if one was on the wire, is already counted.
func (v *vu) interrupted() {
	v.emit(metrics.IterationsInterrupted, 1, v.itags, 0, "")
}

// shorten bounds an error label so that it stays readable in a summary row.
func shorten(s string) string {
	if len(s) > 100 {
		return s[:97] + "..."
	}
	return s
}

// ms converts a duration to the milliseconds a Time sample holds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// emit records a sample timed now. Samples are batched per VU and pushed every ~64 samples or
// ~250 ms; emit never blocks on the network.
func (v *vu) emit(m metrics.Metric, value float64, tags *metrics.Tags, status int, label string) {
	v.emitAt(clockNow(), m, value, tags, status, label)
}

// emitAt records a sample that ended at t.
func (v *vu) emitAt(t time.Time, m metrics.Metric, value float64, tags *metrics.Tags, status int, label string) {
	v.b.add(metrics.Sample{Metric: m, Time: t.UnixNano(), Value: value, Tags: tags, Status: status, Label: label})
}

// flush pushes the VU's buffered samples.
func (v *vu) flush() { v.b.flush(clockNow().UnixNano()) }

// pick returns a think time: Min, or uniform in [Min, Max].
func (v *vu) pick(t plan.ThinkTime) time.Duration {
	if t.Max <= t.Min {
		return t.Min
	}
	return t.Min + time.Duration(v.rng.Int64N(int64(t.Max-t.Min)+1))
}

// rest is the pause after step i of list: its think time; when the iteration ends there (last,
// its last step, or a failure: ended) and the VU's connection backoff (backoff.go) is longer,
// the rest of the backoff is owed and waited after the iteration, out of its
// iteration_duration. An iteration that a failure ends early still waits out the think times
// and sleep steps it had left in list, so that failing iterations are paced as good ones are: a
// dead target is not a busy loop. It reports false when ctx (hard) ended.
func (v *vu) rest(ctx context.Context, list []*scenarioStep, i int, last, ended bool) bool {
	if v.stop.Err() != nil && (last || ended) {
		return ctx.Err() == nil // no pause after the last step once stopping
	}
	var d time.Duration
	if t := list[i].think; t != nil {
		d = v.pick(*t)
	}
	if ended {
		for _, st := range list[i+1:] {
			if st.think != nil {
				d += v.pick(*st.think)
			}
			if st.kind == plan.SleepStepKind {
				d += v.pick(st.sleep)
			}
		}
	}
	if last || ended {
		v.bo.owed = max(v.bo.wait(v.rng.Int64N)-d, 0) // waited after the iteration (backOff)
		v.owedSet = true
	}
	return v.pause(ctx, d)
}

// pause is a think time or sleep step: it waits d, but ends early when the VU is told to stop, so
// that an iteration in flight at a graceful stop runs its remaining steps promptly instead of
// idling through its grace period. It reports false when ctx (hard) ended.
func (v *vu) pause(ctx context.Context, d time.Duration) bool {
	if v.stop.Err() != nil {
		return ctx.Err() == nil
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	v.b.stepAt = 0 // the iteration does not end at its last sample (iterEnd)
	if d >= flushEvery || v.b.stale(clockNow().UnixNano()) {
		v.flush()
	}
	v.timer.Reset(d)
	select {
	case <-ctx.Done():
		v.timer.Stop()
		return false
	case <-v.stop.Done():
		v.timer.Stop()
		return ctx.Err() == nil
	case <-v.timer.C:
		return true
	}
}

// Runtime returns the VU's runtime values (step.VU).
func (v *vu) Runtime() *plan.Runtime { return v.rt }

// Rand returns the VU's own random source (step.VU).
func (v *vu) Rand() *rand.Rand { return v.rng }

// Stopping is closed when the VU must start no new iteration (step.VU).
func (v *vu) Stopping() <-chan struct{} { return v.stop.Done() }

// Emit records one sample (step.VU); see emit.
func (v *vu) Emit(s metrics.Sample) {
	v.b.stepAt = s.Time
	v.b.add(s)
}

// Trace returns the VU's trace context, nil when the plan traces no request (step.VU).
func (v *vu) Trace() *step.Trace { return v.trace }

// TakeLag returns the iteration's schedule lag once, for its first request (step.VU).
func (v *vu) TakeLag() time.Duration {
	lag := v.lag
	v.lag = 0
	return lag
}
