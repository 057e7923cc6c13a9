package prometheus

import (
	"encoding/hex"
	"math"
	"slices"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/loadplan/loadplan/metrics"
)

// Exemplar label names: what Grafana's "trace_id" data link and Tempo look for.
const (
	traceIDLabel = "trace_id"
	spanIDLabel  = "span_id"
)

// exemplars keeps, for one histogram series, the latest sampled trace of each classic bucket
// (the last slot is +Inf): the aggregator hands over the latest sampled TraceSpan of each delta
// (metrics.Series.Exemplar), which lands in the bucket its value falls in. A scrape exposes each
// as the exemplar of its classic bucket and all of them as the native histogram's exemplars, so
// a latency panel has a trace to link to at every height, not only at the last request's.
//
// It holds at most len(Buckets)+1 spans per series, whatever the run's length. The trendVec's
// mutex guards it.
type exemplars struct {
	n      int                // slots set
	latest []metrics.Exemplar // len(Buckets)+1 once the first exemplar comes, nil before
}

// keep records e (Value in the sample's unit, scaled to the exposed one by scale) in its bucket
// unless that bucket holds a later one.
func (x *exemplars) keep(e *metrics.Exemplar, scale float64) {
	if e.Span == nil || e.Span.TraceID == ([16]byte{}) {
		return // no valid trace to link to
	}
	if x.latest == nil {
		x.latest = make([]metrics.Exemplar, len(Buckets)+1)
	}
	v := e.Value * scale
	i := sort.SearchFloat64s(Buckets, v) // the first bucket whose upper bound is ≥ v: le is inclusive
	slot := &x.latest[i]
	if slot.Span != nil && slot.Time > e.Time {
		return
	}
	if slot.Span == nil {
		x.n++
	}
	*slot = metrics.Exemplar{Span: e.Span, Value: v, Time: e.Time}
}

// dto renders the kept exemplars, one slot per classic bucket (nil where none); nil when there
// are none.
func (x *exemplars) dto() []*dto.Exemplar {
	if x.n == 0 {
		return nil
	}
	out := make([]*dto.Exemplar, len(x.latest))
	for i := range x.latest {
		e := &x.latest[i]
		if e.Span == nil {
			continue
		}
		out[i] = &dto.Exemplar{
			Label: []*dto.LabelPair{
				{Name: proto.String(traceIDLabel), Value: proto.String(hex.EncodeToString(e.Span.TraceID[:]))},
				{Name: proto.String(spanIDLabel), Value: proto.String(hex.EncodeToString(e.Span.SpanID[:]))},
			},
			Value:     proto.Float64(e.Value),
			Timestamp: timestamppb.New(time.Unix(0, e.Time)),
		}
	}
	return out
}

// attachExemplars puts ex (from exemplars.dto) on h's classic buckets — an exemplar past the last
// bound on an explicit +Inf bucket, as client_golang's own histograms do — and, sorted by time,
// in the native histogram's exemplars.
func attachExemplars(h *dto.Histogram, ex []*dto.Exemplar) {
	if ex == nil || h == nil {
		return
	}
	var native []*dto.Exemplar
	for i, e := range ex {
		if e == nil {
			continue
		}
		native = append(native, e)
		if i < len(h.Bucket) {
			h.Bucket[i].Exemplar = e
			continue
		}
		h.Bucket = append(h.Bucket, &dto.Bucket{
			UpperBound: proto.Float64(math.Inf(1)), CumulativeCount: proto.Uint64(h.GetSampleCount()), Exemplar: e,
		})
	}
	slices.SortFunc(native, func(a, b *dto.Exemplar) int {
		return a.GetTimestamp().AsTime().Compare(b.GetTimestamp().AsTime())
	})
	h.Exemplars = native
}
