package metrics

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Aggregator folds samples into series where they are made, on the VUs' goroutines, instead of
// in one central loop: each VU holds a Folder bound to one of a few shards, folds its batch into
// the shard's series (one lock per batch, not per sample), and the aggregator's owner drains the
// shards every interval into deltas, one merged Series per key, which the consumers (the
// summary's Store, Prometheus) fold in. Memory grows with shards × series, not with VUs or
// samples; no sample is copied or queued on the way.
//
// Nothing is lost: a sample folded before Drain is in that Drain's deltas, and the owner drains
// once more after the last VU flushed. Counts and sums are exact; a series' Sum may differ from
// a sample-by-sample sum in the last bits of a float64 (the addition order differs).
type Aggregator struct {
	shards []shard
	next   atomic.Uint32

	// Owned by the goroutine that calls Drain.
	deltas map[Key]*Series
	out    []*Series
}

// shard is the series of the VUs bound to it. mu guards every field: VUs fold under it once per
// batch, Drain takes it to move the dirty series out.
type shard struct {
	mu    sync.Mutex
	byKey map[Key]*Series
	dirty []*Series // series folded into since the last Drain
	_     [64]byte  // keeps two shards' locks off one cache line
}

// NewAggregator returns an Aggregator with shards shards; 0 picks two per CPU (at least 4), so
// that VUs flushing at once rarely meet on a lock.
func NewAggregator(shards int) *Aggregator {
	if shards <= 0 {
		shards = max(4, 2*runtime.GOMAXPROCS(0))
	}
	a := &Aggregator{shards: make([]shard, shards), deltas: make(map[Key]*Series)}
	for i := range a.shards {
		a.shards[i].byKey = make(map[Key]*Series)
	}
	return a
}

// Folder returns a Folder bound to the next shard, for one goroutine (a VU).
func (a *Aggregator) Folder() *Folder {
	i := a.next.Add(1) % uint32(len(a.shards))
	return &Folder{sh: &a.shards[i]}
}

// Folder folds one goroutine's batches into its shard. Its cache of series handles (the last
// series of each metric) stays valid for the whole run, since Drain empties a shard's series in
// place and never replaces them: a VU's step emits one tag set (Tags pointers are interned when
// the plan is compiled), so the handle of nearly every sample is found without hashing.
//
// A Folder is owned by one goroutine; it is not safe for concurrent use.
type Folder struct {
	sh     *shard
	recent [numMetrics]*Series
}

// Add folds batch into the shard. It does not retain batch.
func (f *Folder) Add(batch []Sample) {
	if len(batch) == 0 {
		return
	}
	sh := f.sh
	sh.mu.Lock()
	for i := range batch {
		x := &batch[i]
		if x.Metric >= numMetrics {
			continue // not a metric of the catalogue: nothing aggregates it (as in Store.Add)
		}
		s := f.recent[x.Metric]
		if s == nil || s.Key.Tags != x.Tags || s.Key.Status != x.Status || s.Key.Label != x.Label {
			k := KeyOf(x)
			s = sh.byKey[k]
			if s == nil {
				s = &Series{Key: k}
				sh.byKey[k] = s
			}
			f.recent[x.Metric] = s
		}
		if s.Count == 0 {
			sh.dirty = append(sh.dirty, s)
		}
		s.Add(x)
	}
	sh.mu.Unlock()
}

// Drain moves everything folded since the last Drain out of the shards and calls f once with the
// deltas: one Series per key, merged across shards, in no particular order. f must not retain
// the deltas or their histograms (they are reused); it copies or merges what it keeps. Drain is
// called from one goroutine at a time (the aggregator's owner); it does not call f when nothing
// was folded.
func (a *Aggregator) Drain(f func(deltas []*Series)) {
	a.out = a.out[:0]
	for i := range a.shards {
		sh := &a.shards[i]
		sh.mu.Lock()
		for _, s := range sh.dirty {
			d := a.deltas[s.Key]
			if d == nil {
				d = &Series{Key: s.Key}
				a.deltas[s.Key] = d
			}
			if d.Count == 0 {
				a.out = append(a.out, d)
			}
			d.Merge(s)
			s.reset()
		}
		sh.dirty = sh.dirty[:0]
		sh.mu.Unlock()
	}
	if len(a.out) == 0 {
		return
	}
	f(a.out)
	for _, d := range a.out {
		d.reset()
	}
}

// reset empties s in place, keeping its key and its histogram's storage.
func (s *Series) reset() {
	h := s.Hist
	*s = Series{Key: s.Key, Hist: h}
	if h != nil {
		h.Reset()
	}
}

// MergeAll folds deltas (an Aggregator's) into the store under one lock.
func (st *Store) MergeAll(deltas []*Series) {
	st.mu.Lock()
	for _, o := range deltas {
		st.mergeLocked(o)
	}
	st.mu.Unlock()
}

// Mask is a set of metrics, one bit each, for a consumer to say which metrics' samples it needs.
type Mask uint64

// AllMetrics is the Mask of every metric.
const AllMetrics Mask = 1<<numMetrics - 1

// MaskOf returns the Mask of ms.
func MaskOf(ms ...Metric) Mask {
	var m Mask
	for _, x := range ms {
		m |= 1 << x
	}
	return m
}

// Has reports whether m holds x.
func (m Mask) Has(x Metric) bool { return m&(1<<x) != 0 }

// AggregatingSink is a Sink that aggregates where samples are made: a producer (the executor's
// VUs) folds every batch with its own Folder, then pushes with PushRaw only the samples whose
// metric is in RawMetrics, for the consumers that need every sample (raw files, thresholds).
// Push still takes whole batches that were not folded.
type AggregatingSink interface {
	Sink
	// Folder returns a new Folder for one producing goroutine.
	Folder() *Folder
	// RawMetrics is the set of metrics whose every sample must still be pushed; fixed once the
	// sink is built.
	RawMetrics() Mask
	// PushRaw is Push for a batch already folded: only the per-sample consumers receive it.
	PushRaw(batch []Sample)
}
