// Package threshold judges a run: it evaluates the plan's thresholds over the whole run, a
// sliding window or one stage, gives each verdict with the observed values (metrics.Verdict), and
// aborts the run early when a threshold with abort_on_fail fails after its delay.
//
// The Evaluator is the engine; it is no output. During a run its Ingester, an outputs.Output,
// feeds it the samples; `loadplan merge` feeds it the states of segment summaries (Load) and
// judges the fleet with the same code.
package threshold

import (
	"context"
	"sync"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// Run is what the evaluator needs to know about the run: when it started and its stages. A zero
// Start means the run has not started yet.
type Run struct {
	Start  time.Time
	Stages []metrics.Span
}

// Config configures an Evaluator.
type Config struct {
	Thresholds []*plan.Threshold
	// Run reports the run's start and stages (package run reads them from the executor). It may
	// be nil, in which case the first sample's time is taken as the start and stage scopes see no
	// stage.
	Run func() Run
	// Abort is called at most once, from the evaluator's own goroutine, when a threshold with
	// abort_on_fail fails after its delay. It must not block for long.
	Abort func(reason string)
	// Interval is how often abort_on_fail thresholds are evaluated; default 1s.
	Interval time.Duration
	// KeepBuckets keeps every per-second bucket of windowed thresholds instead of pruning them,
	// so that a segment summary can carry them to `loadplan merge`.
	KeepBuckets bool
}

// lateness is how long after a second ends its samples may still arrive (VU batches flush every
// ~250 ms, then queue in the fan-out); a window is judged only once all its seconds are complete.
const lateness = 2

// Evaluator evaluates thresholds.
//
// Add runs on the output Manager's goroutine (through the Ingester) or on merge's; the abort loop
// on the evaluator's own goroutine; Verdicts on the caller's after Close. mu guards every field
// below it.
type Evaluator struct {
	cfg    Config
	cancel context.CancelFunc // ends the abort loop; nil when there is none
	done   chan struct{}      // closed when the abort loop has ended

	used [256]bool // metrics some threshold judges; set in New, read-only after

	mu      sync.Mutex
	states  []*state
	matches map[metrics.Key][]*state // selector results per series key, computed once
	// recent caches the last key seen per metric: within a VU's batch a step's samples share
	// their key, and comparing a key is cheaper than hashing it.
	recent [256]struct {
		key metrics.Key
		sts []*state
		ok  bool
	}
	start  time.Time // run start, from cfg.Run or the first sample
	end    time.Time // run end, from Finish or the last sample
	lastNs int64     // latest sample time
	reason string    // why the run was aborted, "" if it was not
}

// New returns an Evaluator for cfg.Thresholds.
func New(cfg Config) *Evaluator {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	e := &Evaluator{cfg: cfg, matches: make(map[metrics.Key][]*state)}
	for _, th := range cfg.Thresholds {
		e.states = append(e.states, newState(th))
		e.used[th.Metric] = true
		if metrics.Unanswerable(th.Metric) {
			e.used[metrics.HTTPReqUnanswered] = true // requests without a response rank last
		}
	}
	return e
}

// startAbortLoop starts the abort loop when a threshold asks for abort_on_fail; it lives until
// Close. It is called at most once, before the first Add (the Ingester's Start).
func (e *Evaluator) startAbortLoop() {
	need := false
	for _, th := range e.cfg.Thresholds {
		need = need || th.AbortOnFail
	}
	if !need || e.cfg.Abort == nil || e.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan struct{})
	go e.abortLoop(ctx)
}

func (e *Evaluator) abortLoop(ctx context.Context) {
	defer close(e.done)
	t := time.NewTicker(e.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if reason := e.CheckAbort(now); reason != "" {
				e.cfg.Abort(reason)
				return
			}
		}
	}
}

// Add folds a batch into the thresholds it concerns. It does not retain batch.
func (e *Evaluator) Add(batch []metrics.Sample) {
	if len(e.states) == 0 || len(batch) == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	run := e.runLocked(batch[0].Time)
	for i := range batch {
		x := &batch[i]
		if x.Time > e.lastNs {
			e.lastNs = x.Time
		}
		if !e.used[x.Metric] {
			continue
		}
		k := metrics.KeyOf(x)
		rc := &e.recent[x.Metric]
		var sts []*state
		var ok bool
		if rc.ok && rc.key == k {
			sts, ok = rc.sts, true
		} else {
			sts, ok = e.matches[k]
		}
		if !ok {
			for _, st := range e.states {
				if st.feeds(k.Metric) && k.Matches(st.th.Selector) {
					sts = append(sts, st)
				}
			}
			e.matches[k] = sts
		}
		rc.key, rc.sts, rc.ok = k, sts, true
		for _, st := range sts {
			st.add(x, run, e.start)
		}
	}
	for _, st := range e.states {
		if st.th.Window > 0 {
			st.judgeWindows(e.lastNs/int64(time.Second)-lateness, e.startSec(), e.cfg.KeepBuckets)
		}
	}
}

// runLocked refreshes the run start and returns the run info; firstNs is a fallback start.
func (e *Evaluator) runLocked(firstNs int64) Run {
	var r Run
	if e.cfg.Run != nil {
		r = e.cfg.Run()
	}
	if !r.Start.IsZero() {
		e.start = r.Start
	} else if e.start.IsZero() && firstNs != 0 {
		e.start = time.Unix(0, firstNs)
	}
	return r
}

func (e *Evaluator) startSec() int64 {
	if e.start.IsZero() {
		return 0
	}
	return e.start.UnixNano() / int64(time.Second)
}

// Finish records when the run ended, for counters' rates; call it before Close.
func (e *Evaluator) Finish(end time.Time) {
	e.mu.Lock()
	e.end = end
	e.mu.Unlock()
}

// Close ends the abort loop and judges the windows left open: no sample is added after it. Call
// it once, after the last Add or Load.
func (e *Evaluator) Close() {
	if e.cancel != nil {
		e.cancel()
		<-e.done
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, st := range e.states {
		if st.th.Window > 0 {
			st.closeWindows(e.lastNs/int64(time.Second), e.startSec(), e.cfg.KeepBuckets)
		}
	}
}

// AbortReason returns why abort_on_fail stopped the run, or "" when it did not.
func (e *Evaluator) AbortReason() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reason
}

// CheckAbort evaluates the abort_on_fail thresholds whose delay has passed at now and returns a
// reason when one fails (and records it), "" otherwise. A threshold that has seen no samples yet
// does not abort: it may still receive some. The abort loop calls it every Interval.
func (e *Evaluator) CheckAbort(now time.Time) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.reason != "" {
		return ""
	}
	run := e.runLocked(0)
	if e.start.IsZero() {
		return ""
	}
	elapsed := now.Sub(e.start)
	for _, st := range e.states {
		if !st.th.AbortOnFail || elapsed < st.th.Delay {
			continue
		}
		v := st.verdict(run, e.start, now, false)
		if v.NoSamples || v.Pass {
			continue
		}
		e.reason = "threshold " + st.th.Name + " failed (" + v.Summary() + ") with abort_on_fail"
		st.abortedRun = true
		return e.reason
	}
	return ""
}

// Verdicts judges every threshold, in plan order. Call it after Close (or Finish) for the final
// verdicts; before, it gives the verdicts so far.
func (e *Evaluator) Verdicts() []metrics.Verdict {
	e.mu.Lock()
	defer e.mu.Unlock()
	var run Run
	if e.cfg.Run != nil {
		run = e.cfg.Run()
	}
	end := e.end
	if end.IsZero() && e.lastNs != 0 {
		end = time.Unix(0, e.lastNs)
	}
	out := make([]metrics.Verdict, 0, len(e.states))
	for _, st := range e.states {
		out = append(out, st.verdict(run, e.start, end, true))
	}
	return out
}

// States returns deep copies of the evaluators' mergeable state, for segment summaries.
func (e *Evaluator) States() []metrics.ThresholdState {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]metrics.ThresholdState, 0, len(e.states))
	for _, st := range e.states {
		out = append(out, st.export())
	}
	return out
}

// Ingester is the output adapter that feeds an Evaluator the samples of a running plan: it
// implements outputs.Output (by shape; this package does not import outputs), so the Manager's
// fan-out drives the engine like any output, while the engine itself stays usable without one
// (merge). It holds no state of its own.
type Ingester struct {
	e *Evaluator
}

// Ingester returns e's output adapter. Give it to one Manager; the Manager's Start starts the
// abort loop and its Stop closes e.
func (e *Evaluator) Ingester() *Ingester { return &Ingester{e: e} }

// Name implements outputs.Output.
func (in *Ingester) Name() string { return "thresholds" }

// Start starts the evaluator's abort loop when a threshold asks for abort_on_fail. The loop lives
// until Stop, not as long as ctx (which only bounds starting).
func (in *Ingester) Start(context.Context) error {
	in.e.startAbortLoop()
	return nil
}

// Wants returns the metrics whose samples the evaluator judges (outputs.SampleFilter): the VUs
// push the samples of these metrics alone, and none when no threshold is set. The vus gauge,
// emitted every second, is among them so that, as before, the latest sample time moves on every
// second and windowed thresholds are judged while their own metric is quiet.
func (in *Ingester) Wants() metrics.Mask {
	var m metrics.Mask
	for _, x := range metrics.All() {
		if in.e.used[x] {
			m |= metrics.MaskOf(x)
		}
	}
	if m != 0 {
		m |= metrics.MaskOf(metrics.VUs)
	}
	return m
}

// Emit folds a batch into the evaluator (Evaluator.Add). It takes the evaluator's lock, held
// only for the batch's folding, which the abort loop shares once a second.
func (in *Ingester) Emit(batch []metrics.Sample) { in.e.Add(batch) }

// Stop closes the evaluator: it ends the abort loop and judges the windows left open. It does
// no I/O and returns nil.
func (in *Ingester) Stop(context.Context) error {
	in.e.Close()
	return nil
}
