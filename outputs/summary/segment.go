package summary

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// SegmentVersion is the version of the segment summary format.
const SegmentVersion = 1

// SegmentSummary is a mergeable summary of one execution segment's run (an executor.Segment): every series with its histogram
// encoded exactly, and every threshold's scoped state, so that `loadplan merge` judges the
// thresholds over the whole fleet as if one instance had run it all.
type SegmentSummary struct {
	Version int       `json:"version"`
	Segment string    `json:"segment"` // "2/4"
	Title   string    `json:"title,omitempty"`
	Start   time.Time `json:"start"`
	// ScheduledStart is the instant the fleet agreed to start at (--start-at, the rendezvous, the
	// claim folder), on this segment's clock; zero without one. Start after it means the segment
	// started late; merge reports it and lines the segments up by it (internal/fleet.Align).
	ScheduledStart time.Time          `json:"scheduled_start,omitzero"`
	End            time.Time          `json:"end"`
	Stages         []metrics.Span     `json:"stages,omitempty"`
	Series         []SeriesJSON       `json:"series"`
	Thresholds     []StateJSON        `json:"thresholds,omitempty"`
	Dropped        []Drop             `json:"dropped,omitempty"`
	Notes          []string           `json:"notes,omitempty"`
	Interrupted    bool               `json:"interrupted,omitempty"`
	Saturated      bool               `json:"saturated,omitempty"`
	Extra          map[string]float64 `json:"extra,omitempty"`
	// Timeline is the segment's per-interval figures (the report's charts); Plan its plan's
	// name, Variables the plan's variables as shown (a sensitive one's value is never written),
	// Loadplan the version of the loadplan that ran it. Absent in summaries of older versions.
	Timeline  *Timeline  `json:"timeline,omitempty"`
	Plan      string     `json:"plan,omitempty"`
	Variables []Variable `json:"variables,omitempty"`
	Loadplan  string     `json:"loadplan_version,omitempty"`
}

// Variable is a plan variable as a summary shows it: Value is plan.Hidden when Sensitive.
type Variable struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// TagsJSON is metrics.Tags in JSON.
type TagsJSON struct {
	Scenario string `json:"scenario,omitempty"`
	Step     string `json:"step,omitempty"`
	Target   string `json:"target,omitempty"`
	Method   string `json:"method,omitempty"`
	URL      string `json:"url,omitempty"`
	Group    string `json:"group,omitempty"`
	Task     string `json:"task,omitempty"`
}

// SeriesJSON is a metrics.Series in JSON; the histogram is metrics.Histogram's exact encoding.
type SeriesJSON struct {
	Metric string           `json:"metric"`
	Tags   *TagsJSON        `json:"tags,omitempty"`
	Status int              `json:"status,omitempty"`
	Label  string           `json:"label,omitempty"`
	Count  uint64           `json:"count"`
	Sum    float64          `json:"sum"`
	Trues  uint64           `json:"trues,omitempty"`
	Last   float64          `json:"last"`
	Min    float64          `json:"min"`
	Max    float64          `json:"max"`
	First  int64            `json:"first"`
	End    int64            `json:"end"`
	Hist   *metrics.Encoded `json:"hist,omitempty"`
	// Unanswered: requests without a response in a latency threshold's state (metrics.Series).
	Unanswered uint64 `json:"unanswered,omitempty"`
}

// StateJSON is a metrics.ThresholdState in JSON; buckets are keyed by Unix second.
type StateJSON struct {
	Name    string                `json:"name"`
	Total   *SeriesJSON           `json:"total,omitempty"`
	Buckets map[string]SeriesJSON `json:"buckets,omitempty"`
}

// EncodeSeries converts a series to JSON form.
func EncodeSeries(s *metrics.Series) SeriesJSON {
	out := SeriesJSON{Metric: s.Key.Metric.String(), Status: s.Key.Status, Label: s.Key.Label, Count: s.Count,
		Sum: s.Sum, Trues: s.Trues, Last: s.Last, Min: s.Min, Max: s.Max, First: s.First, End: s.End, Unanswered: s.Unanswered}
	if t := s.Key.Tags; t != nil {
		out.Tags = &TagsJSON{t.Scenario, t.Step, t.Target, t.Method, t.URL, t.Group, t.Task}
	}
	if s.Hist != nil {
		e := s.Hist.Encode()
		out.Hist = &e
	}
	return out
}

// Interner hands out one *metrics.Tags per distinct tag set, so decoded series of equal tags
// share a key and merge. It is not safe for concurrent use.
type Interner map[metrics.Tags]*metrics.Tags

// Decode converts a JSON series back, interning its tags in in.
func (j SeriesJSON) Decode(in Interner) (*metrics.Series, error) {
	m, ok := metrics.ByName(j.Metric)
	if !ok {
		return nil, fmt.Errorf("unknown metric %q", j.Metric)
	}
	s := &metrics.Series{Key: metrics.Key{Metric: m, Status: j.Status, Label: j.Label}, Count: j.Count, Sum: j.Sum,
		Trues: j.Trues, Last: j.Last, Min: j.Min, Max: j.Max, First: j.First, End: j.End, Unanswered: j.Unanswered}
	if j.Tags != nil {
		t := metrics.Tags{Scenario: j.Tags.Scenario, Step: j.Tags.Step, Target: j.Tags.Target, Method: j.Tags.Method, URL: j.Tags.URL, Group: j.Tags.Group, Task: j.Tags.Task}
		p := in[t]
		if p == nil {
			p = &t
			in[t] = p
		}
		s.Key.Tags = p
	}
	if j.Hist != nil {
		s.Hist = j.Hist.Decode()
		if s.Hist.Count != s.Count && m.Kind() == metrics.Trend {
			return nil, fmt.Errorf("%s: histogram holds %d values, series %d", j.Metric, s.Hist.Count, s.Count)
		}
	}
	return s, nil
}

// BuildSegment assembles the segment summary of a run.
func BuildSegment(r *Report, stages []metrics.Span, states []metrics.ThresholdState) *SegmentSummary {
	seg := &SegmentSummary{Version: SegmentVersion, Segment: r.Segment, Title: r.Title, Start: r.Start, End: r.End,
		Stages: stages, Dropped: r.Dropped, Notes: append(append([]string(nil), r.Unreachable...), r.Notes...),
		Timeline: r.Timeline}
	if r.Plan != nil {
		for _, v := range r.Plan.Variables {
			val := v.Value
			if v.Sensitive || val == plan.Hidden {
				val = plan.Hidden
			}
			seg.Variables = append(seg.Variables, Variable{Name: v.Name, Value: val, Sensitive: v.Sensitive || val == plan.Hidden})
		}
	}
	for _, s := range r.Series {
		seg.Series = append(seg.Series, EncodeSeries(s))
	}
	for _, st := range states {
		sj := StateJSON{Name: st.Name}
		if st.Total != nil && st.Total.Count > 0 {
			t := EncodeSeries(st.Total)
			sj.Total = &t
		}
		if len(st.Buckets) > 0 {
			sj.Buckets = make(map[string]SeriesJSON, len(st.Buckets))
			for sec, b := range st.Buckets {
				sj.Buckets[fmt.Sprint(sec)] = EncodeSeries(b)
			}
		}
		seg.Thresholds = append(seg.Thresholds, sj)
	}
	return seg
}

// WriteSegment writes seg as JSON.
func WriteSegment(w io.Writer, seg *SegmentSummary) error {
	return json.NewEncoder(w).Encode(seg)
}

// ReadSegment reads a segment summary.
func ReadSegment(r io.Reader) (*SegmentSummary, error) {
	var seg SegmentSummary
	dec := json.NewDecoder(r)
	if err := dec.Decode(&seg); err != nil {
		return nil, fmt.Errorf("not a loadplan segment summary: %w", err)
	}
	if seg.Version != SegmentVersion {
		return nil, fmt.Errorf("segment summary version %d, this loadplan reads version %d", seg.Version, SegmentVersion)
	}
	return &seg, nil
}

// Merged is the fleet-wide combination of segment summaries.
type Merged struct {
	Store      *metrics.Store
	Start, End time.Time
	Stages     []metrics.Span // the first segment's (every segment runs the same stages)
	States     []metrics.ThresholdState
	Dropped    []Drop
	Notes      []string
	Segments   []string
	Timeline   *Timeline  // the segments' timelines merged; nil when none had one
	Plan       string     // the first segment's plan name
	Variables  []Variable // the first segment's
	Version    string     // the first segment's loadplan version
}

// Merge combines segment summaries exactly: series merge bucket for bucket, threshold states
// merge by threshold name, the run spans from the earliest start to the latest end.
func Merge(segs []*SegmentSummary) (*Merged, error) {
	in := Interner{}
	m := &Merged{Store: metrics.NewStore()}
	drops := map[string]uint64{}
	gauges := map[metrics.Key]*metrics.Series{}
	var order []string
	seen := map[string]bool{}
	for i, seg := range segs {
		if seg.Segment != "" && seen[seg.Segment] {
			return nil, fmt.Errorf("segment %s given twice", seg.Segment)
		}
		seen[seg.Segment] = true
		m.Segments = append(m.Segments, seg.Segment)
		if i == 0 || seg.Start.Before(m.Start) {
			m.Start = seg.Start
		}
		if seg.End.After(m.End) {
			m.End = seg.End
		}
		if m.Stages == nil {
			m.Stages = seg.Stages
		}
		if seg.Timeline != nil {
			if m.Timeline == nil {
				m.Timeline = &Timeline{}
			}
			m.Timeline.Merge(seg.Timeline)
		}
		if m.Plan == "" && m.Variables == nil && m.Version == "" {
			m.Plan, m.Variables, m.Version = seg.Plan, seg.Variables, seg.Loadplan
		}
		for _, sj := range seg.Series {
			s, err := sj.Decode(in)
			if err != nil {
				return nil, fmt.Errorf("segment %s: %w", seg.Segment, err)
			}
			if s.Key.Metric.Kind() == metrics.Gauge {
				addGauge(gauges, s)
				continue
			}
			m.Store.MergeSeries(s)
		}
		for _, tj := range seg.Thresholds {
			st := metrics.ThresholdState{Name: tj.Name}
			if tj.Total != nil {
				s, err := tj.Total.Decode(in)
				if err != nil {
					return nil, fmt.Errorf("segment %s: threshold %s: %w", seg.Segment, tj.Name, err)
				}
				st.Total = s
			}
			for k, bj := range tj.Buckets {
				var sec int64
				if _, err := fmt.Sscan(k, &sec); err != nil {
					return nil, fmt.Errorf("segment %s: threshold %s: bad bucket %q", seg.Segment, tj.Name, k)
				}
				b, err := bj.Decode(in)
				if err != nil {
					return nil, fmt.Errorf("segment %s: threshold %s: %w", seg.Segment, tj.Name, err)
				}
				if st.Buckets == nil {
					st.Buckets = map[int64]*metrics.Series{}
				}
				st.Buckets[sec] = b
			}
			m.States = append(m.States, st)
		}
		for _, d := range seg.Dropped {
			if _, ok := drops[d.Output]; !ok {
				order = append(order, d.Output)
			}
			drops[d.Output] += d.Count
		}
		for _, n := range seg.Notes {
			m.Notes = append(m.Notes, "segment "+seg.Segment+": "+n)
		}
	}
	for _, o := range order {
		m.Dropped = append(m.Dropped, Drop{Output: o, Count: drops[o]})
	}
	for _, g := range gauges {
		m.Store.MergeSeries(g)
	}
	return m, nil
}

// addGauge folds a gauge series of one segment into the fleet's: segments run side by side, so
// the fleet's VUs are the sum of its instances' (last, lowest and highest alike, as the segments
// run the same schedule), not the value of whichever instance reported last.
func addGauge(gauges map[metrics.Key]*metrics.Series, s *metrics.Series) {
	g := gauges[s.Key]
	if g == nil {
		gauges[s.Key] = s.Clone()
		return
	}
	g.Last += s.Last
	g.Min += s.Min
	g.Max += s.Max
	g.Count += s.Count
	g.Sum += s.Sum
	g.First = min(g.First, s.First)
	g.End = max(g.End, s.End)
}
