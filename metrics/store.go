package metrics

import (
	"sort"
	"sync"
)

// Key identifies a series: a metric with one tag set. It is comparable and hashes without
// allocating, because Tags is a shared pointer.
type Key struct {
	Metric Metric
	Tags   *Tags
	Status int
	Label  string
}

// KeyOf returns the series key of s.
func KeyOf(s *Sample) Key { return Key{s.Metric, s.Tags, s.Status, s.Label} }

// Tag returns the value of a static or dynamic tag of the series.
func (k Key) Tag(name string) (string, bool) {
	s := Sample{Metric: k.Metric, Tags: k.Tags, Status: k.Status, Label: k.Label}
	return s.Tag(name)
}

// Matches reports whether every tag of the selector sel has the wanted value on the series (a
// threshold's `{scenario=rest,step=quote}`); an empty selector matches every series.
func (k Key) Matches(sel map[string]string) bool {
	for name, want := range sel {
		got, ok := k.Tag(name)
		if !ok || got != want {
			return false
		}
	}
	return true
}

// Series aggregates every sample of one Key. Which fields mean something depends on the kind:
// Count and Sum always (a counter's total is Sum); Trues for rates (samples with a non-zero value);
// Last for gauges; Hist for trends.
type Series struct {
	Key   Key
	Count uint64
	Sum   float64
	Trues uint64
	Last  float64
	Min   float64 // gauges: lowest value seen
	Max   float64 // gauges: highest value seen
	First int64   // time of the first sample, Unix ns
	End   int64   // time of the last sample, Unix ns
	Hist  *Histogram
	// Unanswered counts, in a threshold's state of an Unanswerable timing metric, the requests
	// that got no response (HTTPReqUnanswered samples matching the threshold's selector): they
	// hold no value, and Condition.Observe ranks them above every answered request.
	Unanswered uint64
	// Exemplar is the slowest sample with a sampled Span (the later one on a tie; trends only),
	// for exemplars: the tail is what a latency panel's exemplars must lead to, and a
	// latest-wins rule lost a slow request's trace to any faster one of the same delta.
	Exemplar Exemplar
}

// Add folds one sample into the series.
func (s *Series) Add(x *Sample) {
	if s.Count == 0 {
		s.First = x.Time
		s.Min, s.Max = x.Value, x.Value
	}
	if x.Time > s.End {
		s.End = x.Time
	}
	s.Count++
	s.Sum += x.Value
	if x.Value != 0 {
		s.Trues++
	}
	s.Last = x.Value
	if x.Value < s.Min {
		s.Min = x.Value
	}
	if x.Value > s.Max {
		s.Max = x.Value
	}
	if x.Span != nil && x.Span.Sampled && s.Exemplar.below(x.Value, x.Time) {
		s.Exemplar = Exemplar{Span: x.Span, Value: x.Value, Time: x.Time}
	}
	if s.Key.Metric.Kind() == Trend {
		if s.Hist == nil {
			s.Hist = &Histogram{}
		}
		s.Hist.Record(x.Value)
	}
}

// Merge folds o into s (same metric). Gauges keep the later Last.
func (s *Series) Merge(o *Series) {
	s.Unanswered += o.Unanswered
	if o.Count == 0 {
		return
	}
	if s.Count == 0 {
		s.First, s.Min, s.Max, s.Last = o.First, o.Min, o.Max, o.Last
	} else {
		if o.First < s.First {
			s.First = o.First
		}
		if o.Min < s.Min {
			s.Min = o.Min
		}
		if o.Max > s.Max {
			s.Max = o.Max
		}
	}
	if o.End >= s.End {
		s.End = o.End
		s.Last = o.Last
	}
	if o.Exemplar.Span != nil && s.Exemplar.below(o.Exemplar.Value, o.Exemplar.Time) {
		s.Exemplar = o.Exemplar
	}
	s.Count += o.Count
	s.Sum += o.Sum
	s.Trues += o.Trues
	if o.Hist != nil {
		if s.Hist == nil {
			s.Hist = &Histogram{}
		}
		s.Hist.Merge(o.Hist)
	}
}

// Clone returns a deep copy.
func (s *Series) Clone() *Series {
	c := *s
	if s.Hist != nil {
		c.Hist = s.Hist.Clone()
	}
	return &c
}

// Store aggregates samples into one Series per Key. Memory grows with the number of distinct tag
// sets, never with the number of samples.
//
// One goroutine writes (the fan-out loop calls Add); any goroutine may read through Snapshot or
// Each. mu guards series; the writer takes it once per batch, so VUs never contend on it.
type Store struct {
	mu     sync.Mutex
	series map[Key]*Series
}

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{series: make(map[Key]*Series)} }

// Add folds a batch of samples into the store.
func (st *Store) Add(batch []Sample) {
	// A batch comes from one VU, so consecutive samples of a metric mostly share a key: the last
	// series of each metric is checked before the map, which skips hashing the key's string.
	var recent [numMetrics]*Series
	st.mu.Lock()
	for i := range batch {
		x := &batch[i]
		s := recent[x.Metric%numMetrics]
		if s == nil || s.Key.Tags != x.Tags || s.Key.Metric != x.Metric || s.Key.Status != x.Status || s.Key.Label != x.Label {
			k := KeyOf(x)
			s = st.series[k]
			if s == nil {
				s = &Series{Key: k}
				st.series[k] = s
			}
			recent[x.Metric%numMetrics] = s
		}
		s.Add(x)
	}
	st.mu.Unlock()
}

// MergeSeries folds a whole series into the store (used to combine distributed summaries).
func (st *Store) MergeSeries(o *Series) {
	st.mu.Lock()
	st.mergeLocked(o)
	st.mu.Unlock()
}

// mergeLocked folds o into its series of the store, made on first use; st.mu is held.
func (st *Store) mergeLocked(o *Series) {
	s := st.series[o.Key]
	if s == nil {
		s = &Series{Key: o.Key}
		st.series[o.Key] = s
	}
	s.Merge(o)
}

// Snapshot returns deep copies of every series, sorted by metric then tags, for readers that must
// not hold the lock (summary, progress, exporters).
func (st *Store) Snapshot() []*Series {
	st.mu.Lock()
	out := make([]*Series, 0, len(st.series))
	for _, s := range st.series {
		out = append(out, s.Clone())
	}
	st.mu.Unlock()
	SortSeries(out)
	return out
}

// SortSeries orders series by metric, then scenario, step, method, URL, status and label.
func SortSeries(ss []*Series) {
	sort.Slice(ss, func(i, j int) bool { return lessKey(ss[i].Key, ss[j].Key) })
}

func lessKey(a, b Key) bool {
	if a.Metric != b.Metric {
		return a.Metric < b.Metric
	}
	ta, tb := a.Tags, b.Tags
	if ta == nil {
		ta = &Tags{}
	}
	if tb == nil {
		tb = &Tags{}
	}
	for _, p := range [][2]string{{ta.Scenario, tb.Scenario}, {ta.Step, tb.Step}, {ta.Method, tb.Method}, {ta.URL, tb.URL}, {ta.Target, tb.Target}} {
		if p[0] != p[1] {
			return p[0] < p[1]
		}
	}
	if a.Status != b.Status {
		return a.Status < b.Status
	}
	return a.Label < b.Label
}

// Combine merges every series of metric m whose key passes keep (nil keeps all) into one.
func Combine(ss []*Series, m Metric, keep func(Key) bool) *Series {
	out := &Series{Key: Key{Metric: m}}
	for _, s := range ss {
		if s.Key.Metric == m && (keep == nil || keep(s.Key)) {
			out.Merge(s)
		}
	}
	return out
}
