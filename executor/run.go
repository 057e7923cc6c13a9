package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// flushEvery is how long a VU keeps samples before pushing them; flushSize how many.
const (
	flushEvery = 250 * time.Millisecond
	flushSize  = 64
)

// batcher collects samples for one goroutine and pushes them to the sink in batches of about
// flushSize samples or every flushEvery. It is owned by one goroutine: no lock.
type batcher struct {
	sink metrics.Sink
	buf  []metrics.Sample
	last int64 // Unix ns of the last push
}

func newBatcher(sink metrics.Sink) batcher {
	// buf grows on first use: an idle VU holds no sample buffer.
	return batcher{sink: sink, last: time.Now().UnixNano()}
}

// add appends s and pushes the batch when it is full or old.
func (b *batcher) add(s metrics.Sample) {
	b.buf = append(b.buf, s)
	if len(b.buf) >= flushSize || s.Time-b.last >= int64(flushEvery) {
		b.flush(s.Time)
	}
}

// flush pushes whatever is buffered; now is the current Unix ns time.
func (b *batcher) flush(now int64) {
	b.last = now
	if len(b.buf) == 0 {
		return
	}
	b.sink.Push(b.buf)
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
		st := e.Status()
		t := now.UnixNano()
		b.buf = append(b.buf,
			metrics.Sample{Metric: metrics.VUs, Time: t, Value: float64(st.VUs)},
			metrics.Sample{Metric: metrics.VUsMax, Time: t, Value: float64(st.MaxVUs)})
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
