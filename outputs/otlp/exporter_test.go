package otlp

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
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
	p.oursRcv.KeepExports, p.refRcv.KeepExports = true, true
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

// answering is a loopback collector that decodes every export, counts its spans, and answers
// with answer (given the request's span count and headers).
func answering(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, spans int)) (*httptest.Server, *atomic.Int64) {
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var msg coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(raw, &msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		n := 0
		for _, rs := range msg.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				n += len(ss.Spans)
			}
		}
		received.Add(int64(n))
		answer(w, r, n)
	}))
	t.Cleanup(srv.Close)
	return srv, &received
}

// TestPartialSuccess: a collector that takes each batch but rejects 3 of its spans: the output
// counts exactly the rejected ones as dropped, the rest as exported.
func TestPartialSuccess(t *testing.T) {
	var rejected atomic.Int64
	srv, received := answering(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		rej := min(n, 3)
		rejected.Add(int64(rej))
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{
			RejectedSpans: int64(rej), ErrorMessage: "span too old"}})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	})
	var l logs
	o := newOutput(t, Config{Endpoint: srv.URL, BatchSize: 10, QueueSize: 100}, &l)
	o.Emit(sampledBatch(0, 25))
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.Stop(context.Background())
	if received.Load() != 25 || rejected.Load() != 9 || o.Dropped() != 9 || o.Exported() != 16 {
		t.Fatalf("collector received %d, rejected %d; output dropped %d, exported %d; want 25, 9, 9, 16",
			received.Load(), rejected.Load(), o.Dropped(), o.Exported())
	}
	if !strings.Contains(l.all(), "rejected 3 spans: span too old") {
		t.Errorf("warnings: %q", l.all())
	}
}

// TestRefusedWithReason: a 400 whose body quotes the request's Authorization header: every span
// the collector saw is dropped, the warning gives the status and the body without the secret.
func TestRefusedWithReason(t *testing.T) {
	srv, received := answering(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Error(w, "unknown tenant for "+r.Header.Get("Authorization"), http.StatusBadRequest)
	})
	var l logs
	o := newOutput(t, Config{Endpoint: srv.URL, Headers: map[string]string{"Authorization": secret}, BatchSize: 10, QueueSize: 100}, &l)
	o.Emit(sampledBatch(0, 10))
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.Stop(context.Background())
	if received.Load() != 10 || o.Dropped() != 10 || o.Exported() != 0 {
		t.Fatalf("collector received %d; output dropped %d, exported %d; want 10, 10, 0", received.Load(), o.Dropped(), o.Exported())
	}
	if all := l.all(); !strings.Contains(all, "400 Bad Request: unknown tenant for (secret)") || strings.Contains(all, "s3cr3t") {
		t.Errorf("warnings: %q", all)
	}
}

// TestPartialSuccessDecoding: the hand-written decoder reads what the collector package encodes,
// and gives up on garbage without a panic.
func TestPartialSuccessDecoding(t *testing.T) {
	for _, want := range []*coltracepb.ExportTracePartialSuccess{nil, {}, {RejectedSpans: 7}, {ErrorMessage: "warn"},
		{RejectedSpans: 1 << 40, ErrorMessage: "é"}} {
		b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: want})
		n, msg := partialSuccess(b)
		if n != want.GetRejectedSpans() || msg != want.GetErrorMessage() {
			t.Errorf("%v: decoded %d %q", want, n, msg)
		}
	}
	for _, b := range [][]byte{{0x0a}, {0x0a, 5, 8}, {0xff}, {0x0a, 2, 0x08, 0xff}} {
		if n, msg := partialSuccess(b); n != 0 || msg != "" {
			t.Errorf("%x: decoded %d %q", b, n, msg)
		}
	}
}

// BenchmarkExporter is the transport alone, per span: a batch of the output's spans converted,
// encoded and posted to a loopback server that only reads the body, by exporter and by
// otlptracehttp in the same process.
func BenchmarkExporter(b *testing.B) {
	var bytesIn atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		bytesIn.Add(n)
	}))
	defer srv.Close()
	o, _ := New(Config{Endpoint: srv.URL}, outputs.Options{PlanName: "bench"})
	bld := newBuilder(o.resource(), map[string]Server{"api": {Address: "127.0.0.1", Port: 8000}})
	recs := make([]record, DefaultBatchSize)
	for i := range recs {
		s := traced(metrics.HTTPReqDuration, getTags, i, i, true, 200, "")
		recs[i] = record{span: *s.Span, tags: s.Tags, end: s.Time, dur: s.Value, status: s.Status}
	}
	spans := bld.spans(recs)
	ours, _ := newExporter(srv.URL+TracesPath, nil, 5*time.Second)
	defer ours.Shutdown(context.Background())
	for _, exp := range []struct {
		name string
		exp  sdktrace.SpanExporter
	}{{"ours", ours}, {"otlptracehttp", reference(b, srv.URL+TracesPath)}} {
		b.Run(exp.name, func(b *testing.B) {
			b.ReportAllocs()
			bytesIn.Store(0)
			for b.Loop() {
				if err := exp.exp.ExportSpans(context.Background(), spans); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(spans)), "ns/span")
			b.ReportMetric(float64(bytesIn.Load())/float64(b.N*len(spans)), "B/span-sent")
		})
	}
}

// TestEndpointParts: of an endpoint URL only the scheme, host and path are used, as by
// otlptracehttp: its user info is no Basic auth and its query is not sent.
func TestEndpointParts(t *testing.T) {
	var got atomic.Value
	srv, received := answering(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		got.Store(r.Method + " " + r.URL.RequestURI() + " auth=" + r.Header.Get("Authorization"))
	})
	var l logs
	o := newOutput(t, Config{Endpoint: strings.Replace(srv.URL, "http://", "http://u:pw@", 1) + "/tenant/v1/traces?k=v#f"}, &l)
	o.Emit(sampledBatch(0, 3))
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.Stop(context.Background())
	if received.Load() != 3 || o.Exported() != 3 || got.Load() != "POST /tenant/v1/traces auth=" {
		t.Errorf("collector received %d spans by %q; exported %d", received.Load(), got.Load(), o.Exported())
	}
}
