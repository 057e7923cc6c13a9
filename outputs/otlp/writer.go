package otlp

import (
	"context"
	"time"
)

// writeLoop is the one writer: it exports full batches as soon as they are queued, the partial
// one every FlushInterval, and everything once Stop began, until the queue is empty or an export
// fails (Stop counts the rest as dropped). After a failure in mid-run it backs off, so that a
// dead collector costs no CPU; the queue keeps its bound meanwhile.
func (o *Output) writeLoop(ctx context.Context) {
	defer close(o.done)
	t := time.NewTicker(o.cfg.FlushInterval)
	defer t.Stop()
	for {
		partial, final := false, false
		select {
		case <-o.full:
		case <-t.C:
			partial = true
		case <-o.stopping:
			partial, final = true, true
		case <-ctx.Done():
			return
		}
		failed := false
		for {
			n := o.queued()
			if n == 0 || (n < o.cfg.BatchSize && !partial) {
				break
			}
			if !o.export(ctx, o.take(o.cfg.BatchSize)) {
				failed = true
				break
			}
		}
		if final {
			return
		}
		if failed {
			select {
			case <-time.After(backoff):
			case <-o.stopping: // the next turn is the final flush
			case <-ctx.Done():
				return
			}
		}
	}
}

// export builds recs' spans and sends them in one request; it counts them as exported or as
// dropped and reports which.
func (o *Output) export(ctx context.Context, recs []record) bool {
	if len(recs) == 0 {
		return true
	}
	spans := o.build.spans(recs)
	ectx, cancel := context.WithTimeout(ctx, o.cfg.ExportTimeout)
	err := o.exporter.ExportSpans(ectx, spans)
	cancel()
	if err == nil {
		o.exported.Add(uint64(len(recs)))
		return true
	}
	// A partial success: the collector took the batch but rejected some spans, which alone are
	// dropped (otlptracehttp reported it as an error: the whole batch counted as dropped). The
	// collector is up, so the writer does not back off.
	lost, partial := uint64(len(recs)), false
	if n, ok := errRejected(err); ok {
		lost, partial = min(uint64(max(n, 0)), lost), true
		o.exported.Add(uint64(len(recs)) - lost)
	}
	total := o.dropped.Add(lost)
	if lost > 0 && time.Since(o.lastWarn) >= warnEvery {
		o.lastWarn = time.Now()
		o.logf("otlp: export to %s failed, %d spans dropped so far: %s", o.shown, total, o.scrub(err))
	}
	return partial
}

// Stop exports what is queued, within FlushTimeout and ctx (Abort cuts it short), counts what
// is left as dropped, and says how many spans were dropped. Drops do not fail the run: the
// summary reports them. Stop returns nil.
func (o *Output) Stop(ctx context.Context) error {
	if o.exporter == nil {
		return nil // never started
	}
	close(o.stopping)
	t := time.NewTimer(o.cfg.FlushTimeout)
	select {
	case <-o.done:
	case <-t.C:
	case <-ctx.Done():
	}
	t.Stop()
	o.cancel() // an export in flight ends now
	<-o.done
	o.qmu.Lock()
	if n := len(o.queue); n > 0 {
		o.dropped.Add(uint64(n))
		o.queue = nil
	}
	o.qmu.Unlock()
	if d := o.dropped.Load(); d > 0 {
		o.logf("otlp: %d spans were dropped (collector %s slow or down); %d exported", d, o.shown, o.exported.Load())
	}
	// Nothing is left to send: Shutdown only closes the exporter's idle connections.
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = o.exporter.Shutdown(sctx)
	cancel()
	return nil
}
