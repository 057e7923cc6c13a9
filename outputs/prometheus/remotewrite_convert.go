package prometheus

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"

	// The remote-write 1.0 messages, generated from our own remote.proto (written from the
	// protocol's spec): the prometheus/prometheus module's prompb would bring gogo protobuf and
	// requirements that move ours (k8s, x/net); client_golang/exp/api/remote is untagged and
	// written for remote write 2.0.
	"github.com/loadplan/loadplan/internal/prompb"
)

// rwWrite is one WriteRequest of a snapshot, kept unencoded until sent: its native histograms
// apart, so that they can be left out when the receiver does not take them.
type rwWrite struct {
	series []*prompb.TimeSeries // one sample each: counters, gauges, classic _bucket/_sum/_count
	hists  []*prompb.TimeSeries // one native histogram each
	meta   []*prompb.MetricMetadata
}

// request is the WriteRequest to send.
func (w *rwWrite) request(native bool) *prompb.WriteRequest {
	ts := w.series
	if native && len(w.hists) > 0 {
		ts = append(slices.Clip(w.series), w.hists...)
	}
	return &prompb.WriteRequest{Timeseries: ts, Metadata: w.meta}
}

// points is how many samples and histograms the request carries: what its loss drops.
func (w *rwWrite) points(native bool) int {
	if native {
		return len(w.series) + len(w.hists)
	}
	return len(w.series)
}

// rwSeries is one converted series; hist when it carries a native histogram.
type rwSeries struct {
	ts   *prompb.TimeSeries
	hist bool
}

// splitWrites converts gathered families to remote-write series stamped at ts (ms) and cuts
// them into writes of at most per series; the metadata goes with the first. seen is the
// exemplars' dedup state (see fresh); nil sends every exemplar.
func splitWrites(families []*dto.MetricFamily, ts int64, per int, seen map[string]int64) []*rwWrite {
	all, meta := convert(families, ts)
	if seen != nil {
		for _, s := range all {
			s.ts.Exemplars = fresh(seen, s.ts)
		}
	}
	var out []*rwWrite
	for len(all) > 0 {
		n := min(per, len(all))
		w := &rwWrite{}
		for _, s := range all[:n] {
			if s.hist {
				w.hists = append(w.hists, s.ts)
			} else {
				w.series = append(w.series, s.ts)
			}
		}
		if len(out) == 0 {
			w.meta = meta
		}
		out = append(out, w)
		all = all[n:]
	}
	return out
}

// convert turns families into series as a Prometheus scrape ingests them: the family's name as
// __name__, the metric's labels without the empty ones (an empty label is no label), sorted;
// counters, gauges and untyped values as one sample; a histogram as _bucket{le} (cumulative, up
// to +Inf), _sum and _count, plus, when it has native buckets, the native histogram under the
// family's own name; exemplars on the series a scrape puts them on.
func convert(families []*dto.MetricFamily, ts int64) ([]rwSeries, []*prompb.MetricMetadata) {
	var out []rwSeries
	var meta []*prompb.MetricMetadata
	sample := func(name string, base []*prompb.Label, extra *prompb.Label, v float64, ex *dto.Exemplar) {
		s := &prompb.TimeSeries{Labels: withName(name, base, extra), Samples: []*prompb.Sample{{Value: v, Timestamp: ts}}}
		if ex != nil {
			s.Exemplars = []*prompb.Exemplar{exemplar(ex, ts)}
		}
		out = append(out, rwSeries{ts: s})
	}
	for _, f := range families {
		name := f.GetName()
		meta = append(meta, &prompb.MetricMetadata{Type: metaType(f.GetType()), MetricFamilyName: name, Help: f.GetHelp(), Unit: f.GetUnit()})
		for _, m := range f.GetMetric() {
			base := labels(m.GetLabel())
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				sample(name, base, nil, m.GetCounter().GetValue(), m.GetCounter().GetExemplar())
			case dto.MetricType_GAUGE:
				sample(name, base, nil, m.GetGauge().GetValue(), nil)
			case dto.MetricType_UNTYPED:
				sample(name, base, nil, m.GetUntyped().GetValue(), nil)
			case dto.MetricType_SUMMARY:
				sm := m.GetSummary()
				for _, q := range sm.GetQuantile() {
					sample(name, base, &prompb.Label{Name: "quantile", Value: formatFloat(q.GetQuantile())}, q.GetValue(), nil)
				}
				sample(name+"_sum", base, nil, sm.GetSampleSum(), nil)
				sample(name+"_count", base, nil, float64(sm.GetSampleCount()), nil)
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				count := float64(h.GetSampleCount())
				if h.SampleCountFloat != nil {
					count = h.GetSampleCountFloat()
				}
				inf := false
				for _, b := range h.GetBucket() {
					c := float64(b.GetCumulativeCount())
					if b.CumulativeCountFloat != nil {
						c = b.GetCumulativeCountFloat()
					}
					inf = inf || math.IsInf(b.GetUpperBound(), 1)
					sample(name+"_bucket", base, &prompb.Label{Name: "le", Value: formatFloat(b.GetUpperBound())}, c, b.GetExemplar())
				}
				if !inf {
					sample(name+"_bucket", base, &prompb.Label{Name: "le", Value: "+Inf"}, count, nil)
				}
				sample(name+"_sum", base, nil, h.GetSampleSum(), nil)
				sample(name+"_count", base, nil, count, nil)
				if isNative(h) {
					s := &prompb.TimeSeries{Labels: withName(name, base, nil), Histograms: []*prompb.Histogram{nativeOf(h, ts)}}
					for _, ex := range h.GetExemplars() {
						s.Exemplars = append(s.Exemplars, exemplar(ex, ts))
					}
					out = append(out, rwSeries{ts: s, hist: true})
				}
			}
		}
	}
	return out, meta
}

// fresh returns the exemplars of s newer than the last one sent for its series, and notes the
// newest. A scrape shows a series' latest exemplar until a newer one replaces it; sent again
// every interval, it would be a duplicate that a receiver may count against the write
// (Mimir's out-of-order exemplars).
func fresh(seen map[string]int64, s *prompb.TimeSeries) []*prompb.Exemplar {
	if len(s.Exemplars) == 0 {
		return nil
	}
	var key strings.Builder
	for _, l := range s.Labels {
		key.WriteString(l.Name)
		key.WriteByte(0xff)
		key.WriteString(l.Value)
		key.WriteByte(0xff)
	}
	k := key.String()
	last, out := seen[k], s.Exemplars[:0]
	newest := last
	for _, e := range s.Exemplars {
		if e.Timestamp > last {
			out = append(out, e)
			newest = max(newest, e.Timestamp)
		}
	}
	seen[k] = newest
	if len(out) == 0 {
		return nil
	}
	return out
}

// labels converts a metric's labels, leaving out the empty ones.
func labels(pairs []*dto.LabelPair) []*prompb.Label {
	out := make([]*prompb.Label, 0, len(pairs))
	for _, p := range pairs {
		if p.GetValue() != "" {
			out = append(out, &prompb.Label{Name: p.GetName(), Value: p.GetValue()})
		}
	}
	return out
}

// withName returns base with __name__ and extra (le, quantile), sorted by name as remote write
// requires.
func withName(name string, base []*prompb.Label, extra *prompb.Label) []*prompb.Label {
	out := make([]*prompb.Label, 0, len(base)+2)
	out = append(out, &prompb.Label{Name: "__name__", Value: name})
	out = append(out, base...)
	if extra != nil {
		out = append(out, extra)
	}
	slices.SortFunc(out, func(a, b *prompb.Label) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// isNative says whether a histogram has native buckets, as Prometheus's protobuf parser decides.
func isNative(h *dto.Histogram) bool {
	return len(h.GetPositiveSpan()) > 0 || len(h.GetNegativeSpan()) > 0 || h.GetZeroThreshold() > 0 || h.GetZeroCount() > 0 ||
		h.GetZeroCountFloat() > 0
}

// nativeOf converts the native part of h (integer or float counts).
func nativeOf(h *dto.Histogram, ts int64) *prompb.Histogram {
	out := &prompb.Histogram{
		Sum: h.GetSampleSum(), Schema: h.GetSchema(), ZeroThreshold: h.GetZeroThreshold(),
		PositiveSpans: spans(h.GetPositiveSpan()), NegativeSpans: spans(h.GetNegativeSpan()), Timestamp: ts,
	}
	if h.SampleCountFloat != nil || len(h.GetPositiveCount()) > 0 || len(h.GetNegativeCount()) > 0 {
		out.Count = &prompb.Histogram_CountFloat{CountFloat: h.GetSampleCountFloat()}
		out.ZeroCount = &prompb.Histogram_ZeroCountFloat{ZeroCountFloat: h.GetZeroCountFloat()}
		out.PositiveCounts, out.NegativeCounts = h.GetPositiveCount(), h.GetNegativeCount()
		return out
	}
	out.Count = &prompb.Histogram_CountInt{CountInt: h.GetSampleCount()}
	out.ZeroCount = &prompb.Histogram_ZeroCountInt{ZeroCountInt: h.GetZeroCount()}
	out.PositiveDeltas, out.NegativeDeltas = h.GetPositiveDelta(), h.GetNegativeDelta()
	return out
}

func spans(in []*dto.BucketSpan) []*prompb.BucketSpan {
	out := make([]*prompb.BucketSpan, len(in))
	for i, s := range in {
		out[i] = &prompb.BucketSpan{Offset: s.GetOffset(), Length: s.GetLength()}
	}
	return out
}

// exemplar converts e, stamped at its own time or, without one, at ts.
func exemplar(e *dto.Exemplar, ts int64) *prompb.Exemplar {
	out := &prompb.Exemplar{Labels: labels(e.GetLabel()), Value: e.GetValue(), Timestamp: ts}
	if e.Timestamp != nil {
		out.Timestamp = e.GetTimestamp().AsTime().UnixMilli()
	}
	return out
}

func metaType(t dto.MetricType) prompb.MetricMetadata_MetricType {
	switch t {
	case dto.MetricType_COUNTER:
		return prompb.MetricMetadata_COUNTER
	case dto.MetricType_GAUGE:
		return prompb.MetricMetadata_GAUGE
	case dto.MetricType_SUMMARY:
		return prompb.MetricMetadata_SUMMARY
	case dto.MetricType_HISTOGRAM:
		return prompb.MetricMetadata_HISTOGRAM
	case dto.MetricType_GAUGE_HISTOGRAM:
		return prompb.MetricMetadata_GAUGEHISTOGRAM
	}
	return prompb.MetricMetadata_UNKNOWN
}

// formatFloat renders an le or quantile value as Prometheus does when it ingests one (its
// formatOpenMetricsFloat): "1.0", "0.25", "+Inf", so that remote-written buckets are the
// scraped ones.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	b := strconv.AppendFloat(nil, f, 'g', -1, 64)
	if !bytes.ContainsAny(b, "e.") {
		b = append(b, '.', '0')
	}
	return string(b)
}
