package executor

import (
	"context"
	"errors"
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
	b   batcher

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

	lag  time.Duration // schedule lag of the current iteration, added to its first request
	jobs chan int64    // open model: scheduled start (Unix ns) of the next iteration
}

func newVU(e *Executor, sc *scenario) *vu {
	id := e.vuSeq.Add(1)
	v := &vu{
		e:   e,
		sc:  sc,
		id:  id,
		rt:  &plan.Runtime{VU: id, Scenario: sc.name, Captures: make(map[string]string), Rows: make(map[string][]string)},
		rng: rand.New(rand.NewPCG(uint64(id), uint64(time.Now().UnixNano()))),
		b:   newBatcher(e.cfg.Sink),
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

// activate runs body with the given contexts, then ends the step kinds' activation (closing the
// VU's sessions and idle connections) and pushes every buffered sample.
func (v *vu) activate(stop, hard context.Context, body func()) {
	v.begin(stop, hard)
	body()
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

// iterate runs the scenario's steps once. due is the scheduled start in Unix ns (open model), 0
// otherwise. An iteration the hard context cuts after its first step began is not an
// `iterations` sample but an `iterations_interrupted` one.
func (v *vu) iterate(due int64) {
	sc := v.sc
	ctx := v.hard
	start := time.Now()
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
	for i, st := range sc.steps {
		if ctx.Err() != nil {
			if i > 0 {
				v.interrupted()
			}
			return
		}
		var err error
		if st.run != nil {
			err = st.run.Run(ctx, v, v.states[st.slot])
		} else if !v.pause(ctx, v.pick(st.sleep)) { // a sleep step
			v.interrupted()
			return
		}
		v.lag = 0 // the lag belongs to the iteration's first step only
		if err != nil {
			if ctx.Err() != nil {
				v.interrupted()
				return
			}
			var ie *step.Error
			label := err.Error()
			if errors.As(err, &ie) {
				label = ie.Label
			}
			if ie == nil || !ie.Reported {
				v.emit(metrics.Errors, 1, st.tags, 0, shorten(label))
			}
			if !v.rest(ctx, i, true) { // the iteration's pacing holds after a failure
				v.interrupted()
				return
			}
			break
		}
		if !v.rest(ctx, i, false) {
			v.interrupted()
			return
		}
	}
	// Every step ran (a request answered as the hard context ended is a response): the
	// iteration is complete, whatever the context says now.
	end := time.Now()
	v.emitAt(end, metrics.Iterations, 1, sc.tags, 0, "")
	v.emitAt(end, metrics.IterationDuration, ms(end.Sub(origin)), sc.tags, 0, "")
	v.iter++
	v.iterations.Add(1)
	v.backOff()
}

// interrupted counts an iteration the hard context cut (end of graceful_stop or
// graceful_ramp_down, an abort); its cut request, if one was on the wire, is already counted.
func (v *vu) interrupted() {
	v.emit(metrics.IterationsInterrupted, 1, v.sc.tags, 0, "")
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
	v.emitAt(time.Now(), m, value, tags, status, label)
}

// emitAt records a sample that ended at t.
func (v *vu) emitAt(t time.Time, m metrics.Metric, value float64, tags *metrics.Tags, status int, label string) {
	v.b.add(metrics.Sample{Metric: m, Time: t.UnixNano(), Value: value, Tags: tags, Status: status, Label: label})
}

// flush pushes the VU's buffered samples.
func (v *vu) flush() { v.b.flush(time.Now().UnixNano()) }

// pick returns a think time: Min, or uniform in [Min, Max].
func (v *vu) pick(t plan.ThinkTime) time.Duration {
	if t.Max <= t.Min {
		return t.Min
	}
	return t.Min + time.Duration(v.rng.Int64N(int64(t.Max-t.Min)+1))
}

// rest is the pause after step i: its think time; when the iteration ends there (its last step,
// or a failure: ended) and the VU's connection backoff (backoff.go) is longer, the rest of the
// backoff is owed and waited after the iteration, out of its iteration_duration. An
// iteration that a failure ends early still waits out the think times and sleep steps it had
// left, so that failing iterations are paced as good ones are: a dead target is not a busy loop.
// It reports false when ctx (hard) ended.
func (v *vu) rest(ctx context.Context, i int, ended bool) bool {
	steps := v.sc.steps
	last := i == len(steps)-1
	if v.stop.Err() != nil && (last || ended) {
		return ctx.Err() == nil // no pause after the last step once stopping
	}
	var d time.Duration
	if t := steps[i].think; t != nil {
		d = v.pick(*t)
	}
	if ended {
		for _, st := range steps[i+1:] {
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
	if d >= flushEvery || v.b.stale(time.Now().UnixNano()) {
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
func (v *vu) Emit(s metrics.Sample) { v.b.add(s) }

// TakeLag returns the iteration's schedule lag once, for its first request (step.VU).
func (v *vu) TakeLag() time.Duration {
	lag := v.lag
	v.lag = 0
	return lag
}
