package metrics

import "testing"

// TestSeriesExemplarKeepsTheSlowest: within a series (one aggregation delta), the exemplar is the
// slowest sampled sample, the later one on a tie, whatever the order of Add and Merge; unsampled
// spans and samples without one never replace it. A latest-wins rule lost a tail request's trace
// to any faster sampled request of the same 250 ms: at load, a p99 outlier then left no exemplar
// at all (TestTraceE2ETailRequestKeepsItsExemplar, outputs/integration).
func TestSeriesExemplarKeepsTheSlowest(t *testing.T) {
	sampled := func(n byte) *TraceSpan { s := &TraceSpan{Sampled: true}; s.TraceID[0] = n; return s }
	slow, fast, tie := sampled(1), sampled(2), sampled(3)
	unsampled := &TraceSpan{}
	unsampled.TraceID[0] = 4
	key := Key{Metric: HTTPReqDuration}
	var a Series
	a.Key = key
	for _, x := range []Sample{
		{Metric: HTTPReqDuration, Time: 10, Value: 3, Span: sampled(5)},
		{Metric: HTTPReqDuration, Time: 20, Value: 300, Span: slow},
		{Metric: HTTPReqDuration, Time: 30, Value: 4, Span: fast},         // later, faster: not kept
		{Metric: HTTPReqDuration, Time: 40, Value: 900, Span: unsampled},  // unsampled: never
		{Metric: HTTPReqDuration, Time: 50, Value: 1000},                  // no span
		{Metric: HTTPReqDuration, Time: 15, Value: 300, Span: sampled(6)}, // a tie, earlier: not kept
	} {
		a.Add(&x)
	}
	if a.Exemplar.Span != slow || a.Exemplar.Value != 300 || a.Exemplar.Time != 20 {
		t.Fatalf("exemplar %+v, want the slowest sampled (300 at 20)", a.Exemplar)
	}
	// Merge: a faster series does not replace it, a tie that is later does, a slower one does.
	var b Series
	b.Key = key
	b.Add(&Sample{Metric: HTTPReqDuration, Time: 60, Value: 5, Span: fast})
	a.Merge(&b)
	if a.Exemplar.Span != slow {
		t.Fatalf("merging a faster series replaced the exemplar: %+v", a.Exemplar)
	}
	var c Series
	c.Key = key
	c.Add(&Sample{Metric: HTTPReqDuration, Time: 70, Value: 300, Span: tie})
	a.Merge(&c)
	if a.Exemplar.Span != tie {
		t.Fatalf("merging a later tie: %+v, want it", a.Exemplar)
	}
	// Merging into an empty series, and an empty one into it, keeps what there is.
	var d Series
	d.Key = key
	d.Merge(&a)
	a.Merge(&Series{Key: key})
	if d.Exemplar.Span != tie || a.Exemplar.Span != tie {
		t.Fatalf("exemplars %+v and %+v, want the tie's both", d.Exemplar, a.Exemplar)
	}
}
