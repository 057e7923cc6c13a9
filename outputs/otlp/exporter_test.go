package otlp

import (
	"bytes"
	"context"
	"encoding/binary"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/loadplan/loadplan/internal/otlptest"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// reference is otlptracehttp configured as the output configured it before it had its own
// exporter: the reference the differential tests hold exporter to.
func reference(t testing.TB, endpoint string) sdktrace.SpanExporter {
	t.Helper()
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(endpoint),
		otlptracehttp.WithTimeout(5*time.Second), otlptracehttp.WithCompression(otlptracehttp.NoCompression),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exp.Shutdown(context.Background()) })
	return exp
}

// pair is our exporter and the reference, each posting to its own loopback receiver.
type pair struct {
	ours, ref       sdktrace.SpanExporter
	oursRcv, refRcv *otlptest.Receiver
}

func newPair(t testing.TB) *pair {
	p := &pair{oursRcv: otlptest.New(t, otlptest.Accept), refRcv: otlptest.New(t, otlptest.Accept)}
	exp, err := newExporter(p.oursRcv.URL+TracesPath, map[string]string{"Authorization": secret}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exp.Shutdown(context.Background()) })
	p.ours, p.ref = exp, reference(t, p.refRcv.URL+TracesPath)
	return p
}

// check exports spans through both and fails unless the receivers decoded equal requests (the
// resources sorted: otlptracehttp orders them as a map does), or both exporters failed.
func (p *pair) check(t testing.TB, spans []sdktrace.ReadOnlySpan) {
	t.Helper()
	errOurs := p.ours.ExportSpans(context.Background(), spans)
	errRef := p.ref.ExportSpans(context.Background(), spans)
	if (errOurs == nil) != (errRef == nil) {
		t.Fatalf("ours: %v; otlptracehttp: %v", errOurs, errRef)
	}
	if errOurs != nil {
		return // both refused to encode it (a string that is not UTF-8)
	}
	a, b := p.oursRcv.Exports(), p.refRcv.Exports()
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("receivers got %d and %d requests", len(a), len(b))
	}
	got, want := sorted(a[len(a)-1]), sorted(b[len(b)-1])
	if !proto.Equal(got, want) {
		t.Fatalf("ours:\n%s\notlptracehttp:\n%s", prototext.Format(got), prototext.Format(want))
	}
}

func sorted(m *coltracepb.ExportTraceServiceRequest) *coltracepb.ExportTraceServiceRequest {
	m = proto.Clone(m).(*coltracepb.ExportTraceServiceRequest)
	key := func(i int) []byte {
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(m.ResourceSpans[i].Resource)
		return b
	}
	sort.SliceStable(m.ResourceSpans, func(i, j int) bool { return bytes.Compare(key(i), key(j)) < 0 })
	return m
}

// spansTable is what the output exports (sampled and failed http requests with every attribute,
// a WebSocket handshake, an error without a response, a root span, and a span without parent
// whose tags are missing), then spans the output never makes but the converter handles: every
// attribute type, events, links, a trace state, status Ok, other resources and scopes.
func spansTable(t testing.TB) []sdktrace.ReadOnlySpan {
	o, err := New(Config{Endpoint: "http://127.0.0.1:1", Run: "run-7", Version: "v1.2.3"},
		outputs.Options{PlanName: "stress", SegmentName: "1/2"})
	if err != nil {
		t.Fatal(err)
	}
	bld := newBuilder(o.resource(), map[string]Server{"api": {Address: "127.0.0.1", Port: 8000}, "noport": {Address: "h"}})
	var recs []record
	add := func(s metrics.Sample, root bool) {
		recs = append(recs, record{span: *s.Span, tags: s.Tags, end: s.Time, dur: s.Value, status: s.Status, root: root})
	}
	add(traced(metrics.HTTPReqDuration, getTags, 0, 1, true, 200, ""), false)
	add(traced(metrics.HTTPReqDuration, getTags, 0, 2, true, 503, ""), false)
	add(traced(metrics.HTTPReqDuration, getTags, 0, 3, true, 404, ""), false)
	add(traced(metrics.Errors, getTags, 0, 4, true, 0, "timeout"), false)
	add(traced(metrics.WSConnecting, wsTags, 1, 5, true, 101, ""), false)
	odd := traced(metrics.HTTPReqDuration, &metrics.Tags{Scenario: "s", Step: "x", Target: "noport", Method: "BREW", Task: "t"}, 2, 6, true, 418, "")
	odd.Span.Parent = [8]byte{}
	odd.Time = odd.Span.Start - 1 // ends before it starts: the duration decides
	add(odd, false)
	untagged := traced(metrics.HTTPReqDuration, nil, 3, 7, true, 0, "eof")
	untagged.Tags = nil
	add(untagged, false)
	add(root(0, true), true)
	spans := append([]sdktrace.ReadOnlySpan(nil), bld.spans(recs)...)

	col := &collector{}
	res := resource.NewWithAttributes("https://schema/1", attribute.String("service.name", "other"), attribute.Int("n", 3))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(col), sdktrace.WithResource(res))
	tr := tp.Tracer("scope-a", trace.WithInstrumentationVersion("1.0"), trace.WithSchemaURL("https://schema/2"),
		trace.WithInstrumentationAttributes(attribute.Bool("b", true)))
	every := []attribute.KeyValue{attribute.Bool("bool", true), attribute.Int64("int", -42), attribute.Float64("float", 2.5),
		attribute.String("string", "é"), attribute.BoolSlice("bools", []bool{true, false}), attribute.Int64Slice("ints", []int64{1, -2}),
		attribute.Float64Slice("floats", []float64{0.5}), attribute.StringSlice("strings", []string{"a", ""}),
		attribute.StringSlice("empty", nil), attribute.Key("bytes").ByteSlice([]byte{0, 255}),
		attribute.Key("slice").Slice(attribute.IntValue(1), attribute.StringValue("x"), attribute.SliceValue(attribute.BoolValue(false))),
		attribute.Key("map").Map(attribute.Int("a", 1), attribute.Key("m").Map(attribute.Float64("f", 1.5))),
		{Key: "unset"}}
	ts, _ := trace.ParseTraceState("k=v,x=y")
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceState: ts,
		TraceFlags: trace.FlagsSampled})
	link := trace.Link{SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{3}, SpanID: trace.SpanID{4},
		TraceFlags: trace.FlagsSampled, Remote: true}), Attributes: every[:2]}
	_, sp := tr.Start(trace.ContextWithSpanContext(context.Background(), parent), "every type",
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(every...), trace.WithLinks(link))
	sp.AddEvent("ev", trace.WithAttributes(every...), trace.WithTimestamp(time.Unix(5, 6)))
	sp.AddEvent("bare", trace.WithTimestamp(time.Unix(7, 0)))
	sp.SetStatus(codes.Ok, "")
	sp.End()
	_, sp = tp.Tracer("scope-b").Start(context.Background(), "server", trace.WithSpanKind(trace.SpanKindServer))
	sp.End()
	_, sp = tr.Start(context.Background(), "consumer", trace.WithSpanKind(trace.SpanKindConsumer))
	sp.End()
	_, sp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(col), sdktrace.WithResource(resource.Empty())).
		Tracer("").Start(context.Background(), "no resource, no scope")
	sp.End()
	if len(col.spans) != 4 {
		t.Fatalf("%d spans of other tracers recorded, want 4", len(col.spans))
	}
	return append(spans, col.spans...)
}

// TestExporterMatchesOTLPTraceHTTP: the table's spans, exported at once and one by one, reach
// the receiver as the same message through exporter as through otlptracehttp.
func TestExporterMatchesOTLPTraceHTTP(t *testing.T) {
	p := newPair(t)
	spans := spansTable(t)
	p.check(t, spans)
	for _, s := range spans {
		p.check(t, []sdktrace.ReadOnlySpan{s})
	}
	if n := len(p.oursRcv.Spans()); n != 2*len(spans) {
		t.Errorf("receiver got %d spans, want %d", n, 2*len(spans))
	}
	for _, h := range p.oursRcv.Headers() {
		if h.Get("Authorization") != secret || h.Get("Content-Type") != "application/x-protobuf" || h.Get("Content-Encoding") != "" {
			t.Errorf("headers %v", h)
		}
	}
	if bad := p.oursRcv.Bad(); len(bad) > 0 {
		t.Errorf("receiver could not decode: %v", bad)
	}
}

// FuzzExporterMatchesOTLPTraceHTTP: a span the output builds from any record (ids, times,
// status, tags, phases, root or not) and resource reaches the receiver as the same message
// through exporter as through otlptracehttp.
func FuzzExporterMatchesOTLPTraceHTTP(f *testing.F) {
	f.Add([]byte("0123456789abcdef"), uint64(7), uint64(9), int64(1_700_000_000_000_000_000), int64(5_000_000), 5.0, 200, "",
		"GET", "/api/${x}", "rest", "quote", "api", "", float32(1.5), false, "stress")
	f.Add([]byte{}, uint64(0), uint64(0), int64(-1), int64(-5), -1.0, 0, "timeout", "WS", "", "", "", "", "t", float32(0), true, "")
	f.Add([]byte("x"), uint64(1), uint64(0), int64(0), int64(0), 0.0, 503, "", "BREW", "\xff", "é", "s", "noport", "", float32(-2), false, "p")
	p := newPair(f)
	f.Fuzz(func(t *testing.T, tid []byte, sid, parent uint64, start, dur int64, value float64, status int, errKind,
		method, url, scenario, step, target, task string, phase float32, root bool, plan string) {
		o, err := New(Config{Endpoint: "http://127.0.0.1:1", Run: task, Version: step}, outputs.Options{PlanName: plan})
		if err != nil {
			t.Fatal(err)
		}
		bld := newBuilder(o.resource(), map[string]Server{"api": {Address: "127.0.0.1", Port: 8000}, "noport": {Address: url}})
		r := record{tags: &metrics.Tags{Method: method, URL: url, Scenario: scenario, Step: step, Target: target, Task: task},
			end: start + dur, dur: value, status: status, root: root}
		copy(r.span.TraceID[:], tid)
		binary.BigEndian.PutUint64(r.span.SpanID[:], sid)
		binary.BigEndian.PutUint64(r.span.Parent[:], parent)
		r.span.Start, r.span.Error, r.span.Sampled = start, errKind, true
		for i := range r.span.Phases {
			r.span.Phases[i] = phase * float32(i)
		}
		p.check(t, bld.spans([]record{r}))
	})
}
