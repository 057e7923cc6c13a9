package metrics

// Index maps the series of samples to an output's own per-series state (collectors, aggregates),
// made by resolve the first time a series is seen. Lookup avoids hashing on the hot path: samples
// without a label are found by their tag-set pointer (the previous one is remembered, since a batch
// comes from one VU), then by metric and a short list of statuses; only labelled samples (checks,
// errors) go through a map keyed by the whole Key.
//
// An Index is not safe for concurrent use; its owner serialises Lookup.
type Index[T any] struct {
	resolve  func(Key) T
	byTags   map[*Tags]*tagEntries[T]
	byKey    map[Key]T
	lastTags *Tags
	last     *tagEntries[T]
}

type tagEntries[T any] struct {
	byMetric [numMetrics][]statusEntry[T]
}

type statusEntry[T any] struct {
	status int
	v      T
}

// NewIndex returns an empty Index that makes the state of a new series with resolve.
func NewIndex[T any](resolve func(Key) T) *Index[T] {
	return &Index[T]{resolve: resolve, byTags: make(map[*Tags]*tagEntries[T]), byKey: make(map[Key]T)}
}

// Lookup returns the state of s's series, resolving it the first time.
func (ix *Index[T]) Lookup(s *Sample) T {
	if s.Label != "" || s.Metric >= numMetrics {
		k := KeyOf(s)
		v, ok := ix.byKey[k]
		if !ok {
			v = ix.resolve(k)
			ix.byKey[k] = v
		}
		return v
	}
	te := ix.last
	if s.Tags != ix.lastTags || te == nil {
		te = ix.byTags[s.Tags]
		if te == nil {
			te = &tagEntries[T]{}
			ix.byTags[s.Tags] = te
		}
		ix.lastTags, ix.last = s.Tags, te
	}
	list := te.byMetric[s.Metric]
	for i := range list {
		if list[i].status == s.Status {
			return list[i].v
		}
	}
	v := ix.resolve(KeyOf(s))
	te.byMetric[s.Metric] = append(list, statusEntry[T]{s.Status, v})
	return v
}
