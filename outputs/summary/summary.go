// Package summary is the output that aggregates every sample of a run into a metrics.Store and,
// at the end, renders what happened: the terminal summary, k6's summary-export JSON, JUnit XML
// for CI, and the mergeable segment summary that `loadplan merge` combines.
package summary

import (
	"context"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// Summary is an outputs.Output that aggregates into a Store: an outputs.SeriesOutput, fed by the
// Manager with the deltas VUs folded where they made the samples (EmitSeries), so that no sample
// crosses the Manager's loop for it. Emit and EmitSeries run on the Manager's goroutine; the
// Store may be read from any goroutine (the progress line does).
type Summary struct {
	store *metrics.Store
	tl    timelineStore
}

// New returns an empty Summary.
func New() *Summary { return &Summary{store: metrics.NewStore()} }

// Name implements outputs.Output.
func (s *Summary) Name() string { return "summary" }

// Start implements outputs.Output; the summary needs nothing started.
func (s *Summary) Start(context.Context) error { return nil }

// Emit folds a batch of samples into the store, for callers that feed samples directly; the
// Manager calls EmitSeries instead.
func (s *Summary) Emit(batch []metrics.Sample) {
	s.store.Add(batch)
	// The timeline buckets aggregates by their last sample: one series per sample keeps each
	// sample in its own second.
	one := make([]*metrics.Series, len(batch))
	for i := range batch {
		one[i] = &metrics.Series{Key: metrics.KeyOf(&batch[i])}
		one[i].Add(&batch[i])
	}
	s.tl.addAll(one)
}

// EmitSeries folds the aggregator's deltas into the store (outputs.SeriesOutput).
func (s *Summary) EmitSeries(deltas []*metrics.Series) {
	s.store.MergeAll(deltas)
	s.tl.addAll(deltas)
}

// Stop implements outputs.Output; the store is final once the Manager stopped.
func (s *Summary) Stop(context.Context) error { return nil }

// Timeline returns a copy of the run's per-interval figures so far; safe from any goroutine.
func (s *Summary) Timeline() *Timeline { return s.tl.snapshot() }

// Store returns the aggregation store.
func (s *Summary) Store() *metrics.Store { return s.store }

// Drop is an output's count of data it dropped under pressure (outputs.Dropper).
type Drop struct {
	Output string
	Count  uint64
}

// Report is everything the end-of-run renderings show. Package run assembles it after the Manager
// stopped; merge, from the segments.
type Report struct {
	Plan       *plan.Plan // for scenario and step order; may be nil (rows are then sorted by name)
	Title      string     // e.g. the plan file
	Segment    string     // "2/4" for a segment run, "" otherwise
	Start, End time.Time
	Series     []*metrics.Series // a Store snapshot
	Verdicts   []metrics.Verdict
	Dropped    []Drop
	Notes      []string // saturation, interruption, abort, ...: shown as warnings
	// Incomplete names each result file that could not be written completely (the message of its
	// outputs.FileError). The run failed for it (exit 1); JUnit shows it as a failed test case,
	// so that a CI dashboard says why when every threshold passed.
	Incomplete []string
	// Unreachable says when a target could not be reached ("target unreachable since 0:08:
	// connection refused"): shown first, under the heading, since every figure depends on it.
	Unreachable []string
	// Timeline is the run's figures per interval (the charts'); nil when unknown.
	Timeline *Timeline
	// Stages are the load's stage spans from the run's start, for the charts' boundaries.
	Stages []metrics.Span
	// View is written under the summary export's "loadplan" key when not nil: the web view
	// (internal/webview.View), which this package cannot name (webview builds on it).
	View any
	// Color marks ✓ green and ✗ red in WriteText: the caller sets it for a terminal only (not
	// in a pipe, with NO_COLOR or with --no-color).
	Color bool
	// TrendStats are the latency columns of WriteText (--summary-trend-stats); nil for the
	// default min, avg, med, p(90), p(95), p(99), max.
	TrendStats []TrendStat
	// Share is true for one segment's run: its verdicts are of its share, the fleet's are
	// merge's, so the summary shows them as judged by merge (merge's own Report leaves it false).
	Share bool
}

// Duration is the run's length, at least a millisecond so that rates stay finite. Without a start
// or an end (a run that failed early) it is the span of the samples.
func (r *Report) Duration() time.Duration {
	start, end := r.Start, r.End
	if start.IsZero() || end.IsZero() {
		var first, last int64
		for _, s := range r.Series {
			if s.Count > 0 && (first == 0 || s.First < first) {
				first = s.First
			}
			last = max(last, s.End)
		}
		start, end = time.Unix(0, first), time.Unix(0, last)
	}
	d := end.Sub(start)
	if d < time.Millisecond {
		d = time.Millisecond
	}
	return d
}

// Total merges every series of metric m (all tag sets) into one.
func (r *Report) Total(m metrics.Metric) *metrics.Series { return metrics.Combine(r.Series, m, nil) }

// rowKey groups series into the rows of the summary tables: one per step tag set.
type rowKey = metrics.Tags

// row is one table row: every series of one step.
type row struct {
	tags   rowKey
	series map[metrics.Metric]*metrics.Series // merged across status and label
	order  int
}

func (rw *row) get(m metrics.Metric) *metrics.Series {
	if s := rw.series[m]; s != nil {
		return s
	}
	return &metrics.Series{Key: metrics.Key{Metric: m}}
}

// rows groups the report's step-level series by tag set, in plan order when the plan is known.
func (r *Report) rows() []*row {
	order := planOrder(r.Plan)
	byTags := map[rowKey]*row{}
	var out []*row
	for _, s := range r.Series {
		if s.Key.Tags == nil || s.Key.Tags.Step == "" {
			continue
		}
		k := *s.Key.Tags
		rw := byTags[k]
		if rw == nil {
			o, ok := order[k]
			if !ok {
				o = len(order) + len(out)
			}
			rw = &row{tags: k, series: map[metrics.Metric]*metrics.Series{}, order: o}
			byTags[k] = rw
			out = append(out, rw)
		}
		dst := rw.series[s.Key.Metric]
		if dst == nil {
			dst = &metrics.Series{Key: metrics.Key{Metric: s.Key.Metric}}
			rw.series[s.Key.Metric] = dst
		}
		dst.Merge(s)
	}
	sortRows(out)
	return out
}

func sortRows(rs []*row) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && lessRow(rs[j], rs[j-1]); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

func lessRow(a, b *row) bool {
	if a.order != b.order {
		return a.order < b.order
	}
	if a.tags.Scenario != b.tags.Scenario {
		return a.tags.Scenario < b.tags.Scenario
	}
	return a.tags.Step < b.tags.Step
}

// planOrder numbers every step tag set of the plan in source order.
func planOrder(p *plan.Plan) map[rowKey]int {
	order := map[rowKey]int{}
	if p == nil {
		return order
	}
	add := func(t *metrics.Tags) {
		if t != nil {
			if _, ok := order[*t]; !ok {
				order[*t] = len(order)
			}
		}
	}
	for _, sc := range p.Scenarios {
		// setup, steps, each task's, teardown, repeats' bodies: the order the VU meets them
		sc.Walk(func(st *plan.Step) {
			switch {
			case st.HTTP != nil:
				add(st.HTTP.Tags)
			case st.WebSocket != nil:
				add(st.WebSocket.Tags)
				for _, ws := range st.WebSocket.Steps {
					add(ws.Tags)
				}
			}
		})
	}
	return order
}

// isWS reports whether a row belongs to a WebSocket step.
func (rw *row) isWS() bool {
	if rw.tags.Group == "ws" || rw.tags.Method == "WS" {
		return true
	}
	for m := range rw.series {
		if m.IsWebSocket() {
			return true
		}
	}
	return false
}
