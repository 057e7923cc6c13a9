// Package spool is the bounded, chunked sample queue of the file outputs (csv, jsonl): Emit
// copies each batch in, one writer goroutine takes everything queued, encodes and writes it, and
// recycles the chunks. Files must lose nothing, so a full spool never drops: Put waits for the
// writer (a stall, counted and reported) and memory stays flat however slow the disk is.
package spool

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// DefaultChunks is the bound New gives: 16 chunks of 4,096 samples, 64Ki samples or about
// 3.7 MB, some 4,700 HTTP requests of 14 samples. A local disk takes that in milliseconds; the
// bound matters only when the disk (or the device, or the network file system) stalls.
const DefaultChunks = 16

const chunkSize = 4096

// New returns an empty spool holding at most DefaultChunks chunks.
func New() *Spool { return NewBounded(DefaultChunks) }

// NewBounded returns an empty spool holding at most chunks chunks of 4,096 samples (at least 2:
// one the writer works on, one Put fills).
func NewBounded(chunks int) *Spool {
	q := &Spool{limit: max(chunks, 2), wake: make(chan struct{}, 1)}
	q.room = sync.NewCond(&q.mu)
	return q
}

// Wake returns the channel that receives a value when a chunk filled up, a Put is waiting for
// room, or the spool closed. Samples that fill no chunk wake nobody: the writer takes them on
// its next tick (TakeEvery). Waking it for every batch cost a futex wake-up and a goroutine
// switch per VU batch, about 1 µs of CPU per HTTP request at full loopback speed, more than
// encoding the request's row.
func (q *Spool) Wake() <-chan struct{} { return q.wake }

// TakeEvery is how often a writer takes what Put left in a chunk not yet full: how late a row
// may reach the file's buffer under a light load.
const TakeEvery = 100 * time.Millisecond

// Spool is a bounded sample queue between an output's Emit and its writer goroutine. Samples are
// kept in fixed-size chunks, so a spool never copies what it already holds; the writer hands
// drained chunks back for reuse. A chunk counts against the bound from the moment Put starts
// filling it until the writer recycles it, so chunks the writer holds while a write hangs count
// too: the spool's memory is limit chunks, full stop. It is safe for one putter and one taker
// running concurrently.
type Spool struct {
	mu     sync.Mutex // guards chunks, free, live and closed
	room   *sync.Cond // signalled by Recycle: a chunk came back
	chunks [][]metrics.Sample
	free   [][]metrics.Sample
	live   int // chunks queued or held by the writer
	limit  int
	closed bool
	wake   chan struct{} // capacity 1: a pending wake-up for the writer

	stalls    atomic.Uint64 // Puts that found the spool full and waited
	stallTime atomic.Int64  // nanoseconds they waited
}

// Put copies batch into the spool and wakes the writer. It never drops: when the spool is full
// it waits until the writer gives a chunk back, and counts the wait (Stalls).
func (q *Spool) Put(batch []metrics.Sample) { q.put(batch, false) }

// End is the sample PutBatch puts after each batch: the zero Sample, whose Metric (0) no real
// sample has.
var End metrics.Sample

// PutBatch is Put followed by End, so that the writer sees where each batch ended (the CSV
// output's request rows need it: one batch is one VU's samples in order).
func (q *Spool) PutBatch(batch []metrics.Sample) { q.put(batch, true) }

func (q *Spool) put(batch []metrics.Sample, mark bool) {
	waited, filled := false, false
	var since time.Time
	q.mu.Lock()
	for len(batch) > 0 || mark {
		n := len(q.chunks)
		if n == 0 || len(q.chunks[n-1]) == cap(q.chunks[n-1]) {
			if q.live >= q.limit {
				if !waited {
					waited, since = true, time.Now()
					q.stalls.Add(1) // counted now: a Put stuck behind a hung disk shows at once
					q.wakeWriter()  // it may be waiting for a full chunk it has not been told of
				}
				q.room.Wait()
				continue // the writer may have taken the chunks meanwhile: look again
			}
			var c []metrics.Sample
			if k := len(q.free); k > 0 {
				c, q.free = q.free[k-1][:0], q.free[:k-1]
			} else {
				c = make([]metrics.Sample, 0, chunkSize)
			}
			q.chunks = append(q.chunks, c)
			q.live++
			n++
		}
		last := q.chunks[n-1]
		if len(batch) == 0 {
			q.chunks[n-1] = append(last, End)
			mark = false
			filled = filled || len(q.chunks[n-1]) == cap(last)
			continue
		}
		m := min(cap(last)-len(last), len(batch))
		q.chunks[n-1] = append(last, batch[:m]...)
		batch = batch[m:]
		filled = filled || len(q.chunks[n-1]) == cap(last)
	}
	q.mu.Unlock()
	if waited {
		q.stallTime.Add(int64(time.Since(since)))
	}
	if filled {
		q.wakeWriter()
	}
}

func (q *Spool) wakeWriter() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Take returns every queued chunk (appending to dst) and whether the queue is closed. The
// caller gives the chunks back with Recycle once written.
func (q *Spool) Take(dst [][]metrics.Sample) ([][]metrics.Sample, bool) {
	q.mu.Lock()
	dst = append(dst, q.chunks...)
	clear(q.chunks)
	q.chunks = q.chunks[:0]
	closed := q.closed
	q.mu.Unlock()
	return dst, closed
}

// Recycle gives written chunks back: they no longer count against the bound, and a few are kept
// for reuse. A Put waiting for room goes on.
func (q *Spool) Recycle(chunks [][]metrics.Sample) {
	q.mu.Lock()
	for _, c := range chunks {
		q.live--
		if len(q.free) < q.limit {
			q.free = append(q.free, c[:0])
		}
	}
	q.mu.Unlock()
	q.room.Broadcast()
}

// Len returns how many chunks are queued or held by the writer (the spool's memory, in chunks of
// 4,096 samples) and the most it may hold.
func (q *Spool) Len() (chunks, limit int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.live, q.limit
}

// Stalls returns how many Puts found the spool full and waited for the writer, and how long they
// waited in all. Safe for concurrent use.
func (q *Spool) Stalls() (n uint64, waited time.Duration) {
	return q.stalls.Load(), time.Duration(q.stallTime.Load())
}

// Close marks the end: the writer drains what is left and stops when Take reports closed.
func (q *Spool) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.wakeWriter()
}
