// Package spool is the unbounded, chunked sample queue of the file outputs (csv, jsonl): Emit
// copies each batch in, one writer goroutine takes everything queued, writes it and recycles the
// chunks. Files must lose nothing, so the spool has no bound but memory.
package spool

import (
	"sync"

	"github.com/loadplan/loadplan/metrics"
)

// New returns an empty spool.
func New() *Spool { return &Spool{wake: make(chan struct{}, 1)} }

// Wake returns the channel that receives a value when samples were put or the spool closed.
func (q *Spool) Wake() <-chan struct{} { return q.wake }

// Spool is an unbounded sample queue between an output's Emit and its writer goroutine: files
// must lose nothing, and memory is the only limit (a writer keeps up with a local disk by far).
// Samples are kept in fixed-size chunks, so a spool that grows while the writer is behind never
// copies what it already holds; the writer hands drained chunks back for reuse. It is safe for
// one putter and one taker running concurrently.
type Spool struct {
	mu     sync.Mutex // guards chunks, free and closed
	chunks [][]metrics.Sample
	free   [][]metrics.Sample
	closed bool
	wake   chan struct{} // capacity 1: a pending wake-up for the writer
}

const chunkSize = 4096

// Put copies batch into the spool and wakes the writer. It never blocks on I/O.
func (q *Spool) Put(batch []metrics.Sample) {
	q.mu.Lock()
	for len(batch) > 0 {
		n := len(q.chunks)
		if n == 0 || len(q.chunks[n-1]) == cap(q.chunks[n-1]) {
			var c []metrics.Sample
			if k := len(q.free); k > 0 {
				c, q.free = q.free[k-1][:0], q.free[:k-1]
			} else {
				c = make([]metrics.Sample, 0, chunkSize)
			}
			q.chunks = append(q.chunks, c)
			n++
		}
		last := q.chunks[n-1]
		m := min(cap(last)-len(last), len(batch))
		q.chunks[n-1] = append(last, batch[:m]...)
		batch = batch[m:]
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Take returns every queued chunk (appending to dst) and whether the queue is closed. The
// caller gives the chunks back with recycle once written.
func (q *Spool) Take(dst [][]metrics.Sample) ([][]metrics.Sample, bool) {
	q.mu.Lock()
	dst = append(dst, q.chunks...)
	clear(q.chunks)
	q.chunks = q.chunks[:0]
	closed := q.closed
	q.mu.Unlock()
	return dst, closed
}

// Recycle keeps written chunks for reuse, up to a few; the rest go to the garbage collector.
func (q *Spool) Recycle(chunks [][]metrics.Sample) {
	q.mu.Lock()
	for _, c := range chunks {
		if len(q.free) < 8 {
			q.free = append(q.free, c[:0])
		}
	}
	q.mu.Unlock()
}

// Close marks the end: the writer drains what is left and stops when Take reports closed.
func (q *Spool) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
