package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// flushEvery is how long a VU keeps samples before pushing them; flushSize how many.
const (
	flushEvery = 250 * time.Millisecond
	flushSize  = 64
)

// batcher collects samples for one goroutine and hands them on in batches of about flushSize
// samples or every flushEvery. When the sink aggregates (metrics.AggregatingSink, the outputs
// Manager), a flush folds the batch into the VU's shard of the aggregates with the VU's own
// Folder and pushes only the samples of the metrics a per-sample output needs (raw files,
// thresholds): none at all without such an output. Otherwise every batch is pushed whole. It is
// owned by one goroutine: no lock.
type batcher struct {
	sink metrics.Sink
	agg  metrics.AggregatingSink // sink, when it aggregates; nil otherwise
	fold *metrics.Folder         // made on the first flush: an idle VU holds none
	raw  metrics.Mask            // agg.RawMetrics()
	buf  []metrics.Sample
	sel  []metrics.Sample // the raw samples of buf, when raw is neither none nor all
	last int64            // Unix ns of the last push
	// stepAt is the Time of the last sample a step emitted (vu.Emit), 0 once iterEnd took it
	// or a pause came after it.
	stepAt int64
}

func newBatcher(sink metrics.Sink) batcher {
	// buf grows on first use: an idle VU holds no sample buffer.
	b := batcher{sink: sink, last: time.Now().UnixNano()}
	if a, ok := sink.(metrics.AggregatingSink); ok {
		b.agg, b.raw = a, a.RawMetrics()
	}
	return b
}

// add appends s and pushes the batch when it is full or old.
func (b *batcher) add(s metrics.Sample) {
	b.buf = append(b.buf, s)
	if len(b.buf) >= flushSize || s.Time-b.last >= int64(flushEvery) {
		b.flush(s.Time)
	}
}

// flush folds and pushes whatever is buffered; now is the current Unix ns time.
func (b *batcher) flush(now int64) {
	b.last = now
	if len(b.buf) == 0 {
		return
	}
	if b.agg == nil {
		b.sink.Push(b.buf)
		b.buf = b.buf[:0]
		return
	}
	if b.fold == nil {
		b.fold = b.agg.Folder()
	}
	b.fold.Add(b.buf)
	switch b.raw {
	case 0:
	case metrics.AllMetrics:
		b.agg.PushRaw(b.buf)
	default:
		b.sel = b.sel[:0]
		for i := range b.buf {
			if b.raw.Has(b.buf[i].Metric) {
				b.sel = append(b.sel, b.buf[i])
			}
		}
		b.agg.PushRaw(b.sel)
	}
	b.buf = b.buf[:0]
}

// stale reports whether buffered samples have waited at least flushEvery.
func (b *batcher) stale(now int64) bool {
	return len(b.buf) > 0 && now-b.last >= int64(flushEvery)
}

// Run runs the plan and returns when every VU and every goroutine Run started has ended and every
// sample was pushed to the sink. Cancelling ctx aborts in-flight requests at once.
func (e *Executor) Run(ctx context.Context) Result {
	if !e.ran.CompareAndSwap(false, true) {
		return Result{Err: errors.New("executor: Run may be called once")}
	}
	start := time.Now()
	e.startNano.Store(start.UnixNano())
	hard, cancelHard := context.WithCancel(ctx)
	stop, cancelStop := context.WithCancel(hard)
	// Stop cancels stop itself (synchronously); a Stop that came before Run is applied here.
	e.stopMu.Lock()
	e.cancelStop = cancelStop
	e.stopMu.Unlock()
	if e.stopped() {
		cancelStop()
	}
	clockQuit, clockDone := make(chan struct{}), make(chan struct{})
	go e.clock(clockQuit, clockDone)

	var wg sync.WaitGroup
	for _, g := range e.groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.run(stop, hard, start)
		}()
	}
	wg.Wait()
	cancelStop()
	close(clockQuit)
	<-clockDone
	cancelHard()

	res := Result{Start: start, End: time.Now(), Interrupted: e.stopped(), Aborted: ctx.Err() != nil}
	res.Unreachable = e.outages(res.End, true)
	for _, g := range e.groups {
		max := g.load.MaxDroppedIterations
		if d := g.dropped.Load(); max >= 0 && d > uint64(max) {
			e.saturate(fmt.Sprintf("%d dropped iterations in %s (no free VU; max_dropped_iterations = %d): raise max_vus or lower the rate",
				d, g.label(), max))
		}
	}
	e.satMu.Lock()
	res.Saturated, res.SaturationReason = e.saturated, e.satReason
	e.satMu.Unlock()
	return res
}

// clock closes the flush tick every flushEvery and emits the vus and vus_max gauges every second,
// and once more when quit is closed.
func (e *Executor) clock(quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	b := newBatcher(e.cfg.Sink)
	gauges := func(now time.Time) {
		t := now.UnixNano()
		b.buf = append(b.buf,
			metrics.Sample{Metric: metrics.VUs, Time: t, Value: float64(e.vuCount.sample())},
			metrics.Sample{Metric: metrics.VUsMax, Time: t, Value: float64(e.Status().MaxVUs)})
		b.flush(t)
	}
	t := time.NewTicker(flushEvery) // first gauges after a second, when the VUs have started
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-quit:
			gauges(time.Now())
			return
		case now := <-t.C:
			ch := make(chan struct{})
			old := e.tick.Swap(&ch)
			close(*old)
			if n%int(time.Second/flushEvery) == 0 {
				gauges(now)
			}
		}
	}
}

// vuCount counts the active VUs and keeps their high-water mark since the last vus sample.
//
// The vus gauge is sampled once a second and when the run ends, when every VU has already
// stopped. A point sample would miss a VU that ran between two samples (a one-second run, a
// burst of arrival-rate iterations), so each sample reports the most VUs that were active at
// once since the previous sample, like a max-over-interval. A k6 user then reads `vus` as k6
// shows it: a constant 10-VU run is value=10 min=10 max=10 (the final sample covers the VUs of
// the last second rather than the 0 left after they ended), a ramp's max is its true peak
// however short, and Prometheus' last value is the last interval's peak.
type vuCount struct {
	active atomic.Int64 // VUs active now
	peak   atomic.Int64 // most VUs active at once since the last sample
}

// up records a VU becoming active.
func (c *vuCount) up() {
	raise(&c.peak, c.active.Add(1))
}

// down records a VU becoming inactive.
func (c *vuCount) down() { c.active.Add(-1) }

// sample returns the most VUs active at once since the previous sample (or since the start) and
// starts the next interval with the VUs active now.
func (c *vuCount) sample() int64 {
	// Swap before Load: a VU activated in between is in now and in the next peak, one activated
	// before the Swap is in p; none is lost.
	p := c.peak.Swap(0)
	now := c.active.Load()
	raise(&c.peak, now)
	return max(p, now)
}

// raise sets x to v if v is larger.
func raise(x *atomic.Int64, v int64) {
	for old := x.Load(); v > old && !x.CompareAndSwap(old, v); old = x.Load() {
	}
}

// activeFlag is a VU's active bit (running in the closed and iteration models, in an iteration
// in the open model). Its transitions keep the executor's vuCount, once per VU start or open
// iteration, never per request.
type activeFlag struct {
	on    atomic.Bool
	count *vuCount // the executor's, set by register; nil counts nothing
}

// Store sets the bit; a change counts the VU in or out.
func (f *activeFlag) Store(on bool) {
	if f.on.Swap(on) == on || f.count == nil {
		return
	}
	if on {
		f.count.up()
	} else {
		f.count.down()
	}
}

// Load reports whether the VU is active.
func (f *activeFlag) Load() bool { return f.on.Load() }

// clockBase is the executor's monotonic time frame: Unix ns as clockBaseWall plus the monotonic
// time since clockBase, the frame the step kinds time their samples in (httpstep's mono). Two
// such frames taken at package initialisation differ by a constant of nanoseconds, never by the
// wall clock's later steps or slewing.
var (
	clockBase     = time.Now()
	clockBaseWall = clockBase.UnixNano()
)

// clockNow is the time now in the executor's frame: one monotonic clock reading, where
// time.Now reads the wall clock as well (two vDSO calls on Linux). The iteration's start and
// end, and the samples the executor times itself, are thus on the timeline of the step kinds'
// samples.
func clockNow() time.Time { return clockBase.Add(time.Since(clockBase)) }

// iterEnd returns the end of the iteration begun at start. When every step of the scenario is
// an HTTP request without think time, the iteration ends when its last response ended: that
// is the Time of the last sample its step emitted (httpstep times every sample of a request
// at the end-of-response reading), and nothing but checks and captures came after it. One clock
// reading per phase boundary: the profile of the 50-connection bench had six clock readings per
// request, this was one of them. Otherwise (think times, sleep or WebSocket steps, a step that
// emitted nothing, a pause after the sample) it reads the clock.
func (v *vu) iterEnd(start time.Time) time.Time {
	at := v.b.stepAt
	v.b.stepAt = 0
	if at != 0 && v.sc.endsOnResponse {
		if d := at - (clockBaseWall + int64(start.Sub(clockBase))); d >= 0 {
			return start.Add(time.Duration(d)) // keeps start's monotonic reading
		}
	}
	return clockNow()
}

// endsOnResponse reports whether every step of sc is an HTTP step without think time, so that
// an iteration's last sample is its end (iterEnd). Compiled once per scenario.
func endsOnResponse(sc *scenario) bool {
	if len(sc.tasks) > 0 {
		return false // a task's steps are not sc.steps
	}
	for _, st := range sc.steps {
		if st.kind != plan.HTTPStepKind || st.think != nil {
			return false
		}
	}
	return true
}
