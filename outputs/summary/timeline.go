package summary

import (
	"math"
	"math/bits"
	"sort"
	"sync"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// TimelineMaxBuckets bounds a Timeline: when a run spans more buckets than this, the width
// doubles (pairs of buckets merge, exactly), so a timeline holds at most this many buckets per
// step whatever the run's length: 1 s buckets up to 10 minutes, 2 s up to 20, 8 s for an
// 80-minute soak. With a bucket's cell at most ~1 KB (its coarse latency histogram spans at
// most ~20 octaves of 16 counts), a timeline stays under steps × 600 KB, and its JSON form
// (zero counts written as 0) far less in practice.
const TimelineMaxBuckets = 600

// Timeline is the run's figures per interval, per step: what the over-time charts of the web
// UI and the HTML report draw. It is mergeable exactly (counts add, latency histograms merge
// bucket for bucket), so segment summaries carry it and `loadplan merge` combines it.
//
// Bucket i covers [(First+i)·Width, (First+i+1)·Width) in Unix nanoseconds: buckets are aligned
// to the Unix epoch, so two segments' timelines merge without shifting. An aggregate delta is
// placed in the bucket of its last sample (the Manager drains every 250 ms, so a figure lands at
// most about half a second late).
type Timeline struct {
	Width   int64             `json:"width_ns"`
	First   int64             `json:"first"`
	Buckets []*TimelineBucket `json:"buckets"`
}

// TimelineBucket is one interval: the run-level figures and one cell per step that had samples.
type TimelineBucket struct {
	VUs        float64         `json:"vus,omitempty"` // the most active VUs seen in the interval
	Iterations float64         `json:"iterations,omitempty"`
	Dropped    float64         `json:"dropped,omitempty"` // dropped_iterations
	Cells      []*TimelineCell `json:"cells,omitempty"`
}

// TimelineCell is one step's figures in one interval. For a WebSocket step, Reqs counts its
// expects and Fails the failed ones; Lat holds the expect, ping or connect times.
type TimelineCell struct {
	Scenario string      `json:"scenario"`
	Step     string      `json:"step"`
	WS       bool        `json:"ws,omitempty"`
	Reqs     uint64      `json:"reqs,omitempty"`
	Fails    uint64      `json:"fails,omitempty"`
	Sessions uint64      `json:"sessions,omitempty"`
	Frames   uint64      `json:"frames,omitempty"` // WebSocket messages sent and received
	Bytes    uint64      `json:"bytes,omitempty"`  // data_received
	Lat      *CoarseHist `json:"lat,omitempty"`
}

// At returns the start of bucket i.
func (t *Timeline) At(i int) time.Time { return time.Unix(0, (t.First+int64(i))*t.Width) }

// cell returns the bucket's cell of a step, made on first use.
func (b *TimelineBucket) cell(scenario, step string) *TimelineCell {
	for _, c := range b.Cells { // a bucket holds a few steps: a scan beats a map
		if c.Scenario == scenario && c.Step == step {
			return c
		}
	}
	c := &TimelineCell{Scenario: scenario, Step: step}
	b.Cells = append(b.Cells, c)
	return c
}

func (c *TimelineCell) merge(o *TimelineCell) {
	c.WS = c.WS || o.WS
	c.Reqs += o.Reqs
	c.Fails += o.Fails
	c.Sessions += o.Sessions
	c.Frames += o.Frames
	c.Bytes += o.Bytes
	if o.Lat != nil {
		if c.Lat == nil {
			c.Lat = &CoarseHist{}
		}
		c.Lat.Merge(o.Lat)
	}
}

func (b *TimelineBucket) merge(o *TimelineBucket, sumVUs bool) {
	if sumVUs { // segments side by side: the fleet's VUs are the sum
		b.VUs += o.VUs
	} else {
		b.VUs = math.Max(b.VUs, o.VUs)
	}
	b.Iterations += o.Iterations
	b.Dropped += o.Dropped
	for _, c := range o.Cells {
		b.cell(c.Scenario, c.Step).merge(c)
	}
}

// bucket returns the bucket holding time ns, coarsening the timeline when it would span more
// than TimelineMaxBuckets.
func (t *Timeline) bucket(ns int64) *TimelineBucket {
	if t.Width == 0 {
		t.Width = int64(time.Second)
	}
	idx := ns / t.Width
	if len(t.Buckets) == 0 {
		t.First = idx
	}
	for {
		lo, hi := min(t.First, idx), max(t.First+int64(len(t.Buckets))-1, idx)
		if len(t.Buckets) == 0 || hi-lo+1 <= TimelineMaxBuckets {
			break
		}
		t.coarsen()
		idx = ns / t.Width
	}
	if len(t.Buckets) == 0 {
		t.First = idx
	}
	if idx < t.First { // a late delta from before the first bucket: grow to the left
		grow := make([]*TimelineBucket, t.First-idx, int64(len(t.Buckets))+t.First-idx)
		t.Buckets = append(grow, t.Buckets...)
		t.First = idx
	}
	for int64(len(t.Buckets)) <= idx-t.First {
		t.Buckets = append(t.Buckets, nil)
	}
	b := t.Buckets[idx-t.First]
	if b == nil {
		b = &TimelineBucket{}
		t.Buckets[idx-t.First] = b
	}
	return b
}

// coarsen doubles the width, merging buckets in pairs.
func (t *Timeline) coarsen() {
	t.Width *= 2
	first := floorDiv(t.First, 2)
	var out []*TimelineBucket
	for i, b := range t.Buckets {
		j := int(floorDiv(t.First+int64(i), 2) - first)
		for len(out) <= j {
			out = append(out, nil)
		}
		if b == nil {
			continue
		}
		if out[j] == nil {
			out[j] = &TimelineBucket{}
		}
		out[j].merge(b, false)
	}
	t.First, t.Buckets = first, out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// add folds one aggregate (a delta or a merged series) into the timeline.
func (t *Timeline) add(s *metrics.Series) {
	if s.Count == 0 && s.Sum == 0 {
		return
	}
	m := s.Key.Metric
	tags := s.Key.Tags
	b := t.bucket(s.End)
	switch m {
	case metrics.VUs:
		b.VUs = math.Max(b.VUs, s.Max)
		return
	case metrics.Iterations:
		b.Iterations += s.Sum
		return
	case metrics.DroppedIterations:
		b.Dropped += s.Sum
		return
	}
	if tags == nil || tags.Step == "" {
		return
	}
	var c *TimelineCell
	get := func() *TimelineCell {
		if c == nil {
			c = b.cell(tags.Scenario, tags.Step)
		}
		return c
	}
	switch m {
	case metrics.HTTPReqs:
		get().Reqs += uint64(s.Sum)
	case metrics.HTTPReqFailed:
		get().Fails += s.Trues
	case metrics.DataReceived:
		get().Bytes += uint64(s.Sum)
	case metrics.WSExpectFailed:
		get().WS = true
		c.Reqs += s.Count
		c.Fails += s.Trues
	case metrics.WSSessions:
		get().WS = true
		c.Sessions += uint64(s.Sum)
	case metrics.WSMsgsSent, metrics.WSMsgsReceived:
		get().WS = true
		c.Frames += uint64(s.Sum)
	}
	switch m {
	case metrics.HTTPReqDuration, metrics.WSExpectDuration, metrics.WSPing, metrics.WSConnecting:
		if s.Hist != nil && s.Hist.Count > 0 {
			get()
			if m.IsWebSocket() {
				c.WS = true
			}
			if c.Lat == nil {
				c.Lat = &CoarseHist{}
			}
			c.Lat.AddHistogram(s.Hist)
		}
	}
}

// Merge folds o (another segment's timeline) into t: the wider width wins, VUs add up.
func (t *Timeline) Merge(o *Timeline) {
	if o == nil || len(o.Buckets) == 0 {
		return
	}
	o = o.Clone()
	if t.Width == 0 {
		t.Width = o.Width
	}
	for t.Width < o.Width {
		t.coarsen()
	}
	for o.Width < t.Width {
		o.coarsen()
	}
	for i, b := range o.Buckets {
		if b != nil {
			t.bucket((o.First+int64(i))*o.Width).merge(b, true)
		}
	}
}

// Clone returns a deep copy.
func (t *Timeline) Clone() *Timeline {
	if t == nil {
		return nil
	}
	c := &Timeline{Width: t.Width, First: t.First, Buckets: make([]*TimelineBucket, len(t.Buckets))}
	for i, b := range t.Buckets {
		if b == nil {
			continue
		}
		nb := &TimelineBucket{}
		nb.merge(b, false)
		c.Buckets[i] = nb
	}
	return c
}

// Steps lists the timeline's steps (scenario, step), sorted, with whether each is WebSocket.
func (t *Timeline) Steps() []TimelineCell {
	seen := map[[2]string]int{}
	var out []TimelineCell
	for _, b := range t.Buckets {
		if b == nil {
			continue
		}
		for _, c := range b.Cells {
			k := [2]string{c.Scenario, c.Step}
			if i, ok := seen[k]; ok {
				out[i].WS = out[i].WS || c.WS
				continue
			}
			seen[k] = len(out)
			out = append(out, TimelineCell{Scenario: c.Scenario, Step: c.Step, WS: c.WS})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Scenario != out[j].Scenario {
			return out[i].Scenario < out[j].Scenario
		}
		return out[i].Step < out[j].Step
	})
	return out
}

// timelineStore is the Summary's timeline: the Manager's goroutine adds, any goroutine
// snapshots. mu guards tl.
type timelineStore struct {
	mu sync.Mutex
	tl Timeline
}

func (ts *timelineStore) addAll(deltas []*metrics.Series) {
	ts.mu.Lock()
	for _, d := range deltas {
		ts.tl.add(d)
	}
	ts.mu.Unlock()
}

func (ts *timelineStore) snapshot() *Timeline {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.tl.Clone()
}

// CoarseHist is a small mergeable latency histogram for the per-interval percentiles of the
// charts: 16 buckets per power of two (a quantile within 1/32, about 3%, of a recorded value),
// made from metrics.Histogram's buckets, which nest in its own (128 per power of two), so that
// converting loses nothing a chart can show and merging stays exact. metrics.Histogram's
// precision would cost ~10 KB per step and second; this one ~1 KB at most, which is what keeps a
// long run's timeline bounded (TimelineMaxBuckets).
type CoarseHist struct {
	Lo     int      `json:"lo"`
	Counts []uint64 `json:"n"`
	Count  uint64   `json:"count"`
	Sum    float64  `json:"sum"`
	Min    float64  `json:"min"`
	Max    float64  `json:"max"`
}

const coarseSub = 16

// coarseBucket returns the bucket of x thousandths.
func coarseBucket(x uint64) int {
	if x < coarseSub {
		return int(x)
	}
	e := bits.Len64(x) - 5 // leaves 5 significant bits, mantissa in [16,32)
	return (e+1)*coarseSub + int(x>>uint(e)) - coarseSub
}

// coarseMid returns the middle of bucket i, in thousandths.
func coarseMid(i int) float64 {
	if i < coarseSub {
		return float64(i)
	}
	e := i/coarseSub - 1
	m := uint64(i%coarseSub + coarseSub)
	return float64(m<<uint(e)) + float64(uint64(1)<<uint(e))/2
}

func (h *CoarseHist) addN(i int, n uint64) {
	if len(h.Counts) == 0 {
		h.Counts = make([]uint64, 1, 8)
		h.Lo = i
	}
	if i < h.Lo {
		grow := h.Lo - i
		c := make([]uint64, len(h.Counts)+grow)
		copy(c[grow:], h.Counts)
		h.Counts, h.Lo = c, i
	}
	if j := i - h.Lo; j >= len(h.Counts) {
		h.Counts = append(h.Counts, make([]uint64, j-len(h.Counts)+1)...)
	}
	h.Counts[i-h.Lo] += n
}

func (h *CoarseHist) stats(count uint64, sum, lo, hi float64) {
	if h.Count == 0 || lo < h.Min {
		h.Min = lo
	}
	if h.Count == 0 || hi > h.Max {
		h.Max = hi
	}
	h.Count += count
	h.Sum += sum
}

// AddHistogram folds every value of o into h.
func (h *CoarseHist) AddHistogram(o *metrics.Histogram) {
	if o == nil || o.Count == 0 {
		return
	}
	o.Ranges(func(lo, _ float64, n uint64) {
		h.addN(coarseBucket(uint64(lo*1000+0.5)), n)
	})
	h.stats(o.Count, o.Sum, o.Min, o.Max)
}

// Merge adds every value of o to h.
func (h *CoarseHist) Merge(o *CoarseHist) {
	if o == nil || o.Count == 0 {
		return
	}
	for j, n := range o.Counts {
		if n != 0 {
			h.addN(o.Lo+j, n)
		}
	}
	h.stats(o.Count, o.Sum, o.Min, o.Max)
}

// Quantile returns the value at quantile q by nearest rank, clamped to the exact min and max;
// NaN when h is empty.
func (h *CoarseHist) Quantile(q float64) float64 {
	if h == nil || h.Count == 0 {
		return math.NaN()
	}
	rank := uint64(math.Ceil(q * float64(h.Count)))
	rank = min(max(rank, 1), h.Count)
	var seen uint64
	for j, n := range h.Counts {
		seen += n
		if seen >= rank {
			return math.Min(math.Max(coarseMid(h.Lo+j)/1000, h.Min), h.Max)
		}
	}
	return h.Max
}
