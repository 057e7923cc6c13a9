package prometheus

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/loadplan/loadplan/internal/prompb"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

func convFamilies() []*dto.MetricFamily {
	lp := func(n, v string) *dto.LabelPair { return &dto.LabelPair{Name: proto.String(n), Value: proto.String(v)} }
	ex := func(trace string, v float64, ms int64) *dto.Exemplar {
		return &dto.Exemplar{Label: []*dto.LabelPair{lp("trace_id", trace)}, Value: proto.Float64(v),
			Timestamp: timestamppb.New(time.UnixMilli(ms))}
	}
	return []*dto.MetricFamily{{
		Name: proto.String("c_total"), Help: proto.String("c"), Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Label: []*dto.LabelPair{lp("a", "x"), lp("b", "")},
			Counter: &dto.Counter{Value: proto.Float64(7), Exemplar: ex("aaaa", 1, 1000)}}},
	}, {
		Name: proto.String("h_seconds"), Help: proto.String("h"), Type: dto.MetricType_HISTOGRAM.Enum(),
		Metric: []*dto.Metric{{Label: []*dto.LabelPair{lp("a", "x")}, Histogram: &dto.Histogram{
			SampleCount: proto.Uint64(3), SampleSum: proto.Float64(1.5),
			Bucket: []*dto.Bucket{
				{UpperBound: proto.Float64(0.5), CumulativeCount: proto.Uint64(1)},
				{UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(2), Exemplar: ex("bbbb", 0.9, 1500)},
			},
			Schema: proto.Int32(3), ZeroThreshold: proto.Float64(1e-128), ZeroCount: proto.Uint64(0),
			PositiveSpan:  []*dto.BucketSpan{{Offset: proto.Int32(-8), Length: proto.Uint32(2)}},
			PositiveDelta: []int64{1, 1},
			Exemplars:     []*dto.Exemplar{ex("cccc", 0.4, 2000)},
		}}},
	}}
}

// TestRemoteWriteConvert: counters, classic buckets (with the +Inf a scrape adds), native
// histograms and exemplars become the series a Prometheus scrape would store; empty labels go.
func TestRemoteWriteConvert(t *testing.T) {
	seen := map[string]int64{}
	ws := splitWrites(convFamilies(), 5000, 1000, seen)
	if len(ws) != 1 {
		t.Fatalf("%d writes, want 1", len(ws))
	}
	got := map[string]*prompb.TimeSeries{}
	for _, s := range append(ws[0].series, ws[0].hists...) {
		key := ""
		for _, l := range s.Labels {
			key += l.Name + "=" + l.Value + " "
		}
		got[key] = s
	}
	want := map[string]float64{
		"__name__=c_total a=x ":                  7,
		"__name__=h_seconds_bucket a=x le=0.5 ":  1,
		"__name__=h_seconds_bucket a=x le=1.0 ":  2,
		"__name__=h_seconds_bucket a=x le=+Inf ": 3,
		"__name__=h_seconds_sum a=x ":            1.5,
		"__name__=h_seconds_count a=x ":          3,
		"__name__=h_seconds a=x ":                -1, // the native histogram
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", slices.Sorted(maps.Keys(got)), want)
	}
	for k, v := range want {
		s := got[k]
		switch {
		case s == nil:
			t.Errorf("no series %q among %v", k, slices.Sorted(maps.Keys(got)))
		case v == -1:
			h := s.Histograms[0]
			if h.GetCountInt() != 3 || h.Sum != 1.5 || h.Schema != 3 || h.Timestamp != 5000 ||
				len(h.PositiveSpans) != 1 || h.PositiveSpans[0].Offset != -8 || len(h.PositiveDeltas) != 2 {
				t.Errorf("native histogram %v", h)
			}
		case len(s.Samples) != 1 || s.Samples[0].Value != v || s.Samples[0].Timestamp != 5000:
			t.Errorf("%s: samples %v, want %v at 5000", k, s.Samples, v)
		}
	}
	for k, trace := range map[string]string{"__name__=c_total a=x ": "aaaa", "__name__=h_seconds_bucket a=x le=1.0 ": "bbbb",
		"__name__=h_seconds a=x ": "cccc"} {
		if s := got[k]; s == nil || len(s.Exemplars) != 1 || s.Exemplars[0].Labels[0].Value != trace {
			t.Errorf("%s: exemplars %v, want trace %s", k, s.GetExemplars(), trace)
		}
	}
	if len(ws[0].meta) != 2 || ws[0].meta[1].Type != prompb.MetricMetadata_HISTOGRAM {
		t.Errorf("metadata %v", ws[0].meta)
	}
	// The next snapshot holds the same exemplars: they are not sent again.
	for _, w := range splitWrites(convFamilies(), 6000, 1000, seen) {
		for _, s := range append(w.series, w.hists...) {
			if len(s.Exemplars) > 0 {
				t.Errorf("exemplar sent again: %v", s)
			}
		}
	}
	// Cut into writes of 3 series: the metadata goes with the first only.
	ws = splitWrites(convFamilies(), 5000, 3, nil)
	if len(ws) != 3 || ws[0].meta == nil || ws[1].meta != nil || ws[2].points(true) != 1 || ws[2].points(false) != 0 {
		t.Errorf("split into %d writes", len(ws))
	}
}

func TestRemoteWriteFormatFloat(t *testing.T) {
	for f, want := range map[float64]string{0.0005: "0.0005", 1: "1.0", 60: "60.0", 2.5: "2.5", 1e-128: "1e-128"} {
		if got := formatFloat(f); got != want {
			t.Errorf("formatFloat(%v) = %q, want %q", f, got, want)
		}
	}
}

// BenchmarkRemoteWriteSnapshot is the flusher's work per interval for a plan of 20 steps (one
// status each): gather the registry, convert, marshal and compress. ns/op is per snapshot; it
// runs on the flusher's goroutine, once per interval (5 s by default), never on a VU's.
func BenchmarkRemoteWriteSnapshot(b *testing.B) {
	rw, err := NewRemoteWrite(RemoteWriteConfig{URL: "http://127.0.0.1:1/api/v1/write", NativeHistograms: true}, outputs.Options{PlanName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	for step := range 20 {
		tags := &metrics.Tags{Scenario: "rest", Step: fmt.Sprint("step", step), Target: "api", Method: "GET",
			URL: fmt.Sprintf("/api/%d", step), Group: "http"}
		for i := range 100 {
			batch := benchRequest(i)
			for j := range batch {
				batch[j].Tags = tags
			}
			rw.Emit(batch)
		}
	}
	b.ReportAllocs()
	var bytes, series int
	for b.Loop() {
		families, err := rw.prom.Gatherer().Gather()
		if err != nil {
			b.Fatal(err)
		}
		bytes, series = 0, 0
		for _, w := range splitWrites(families, 1, rwSeriesPerWrite, map[string]int64{}) {
			body, err := encode(w, true)
			if err != nil {
				b.Fatal(err)
			}
			bytes += len(body)
			series += len(w.series) + len(w.hists)
		}
	}
	b.ReportMetric(float64(bytes), "bytes/write")
	b.ReportMetric(float64(series), "series")
}
