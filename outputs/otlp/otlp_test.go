package otlp

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"go.uber.org/goleak"

	"github.com/loadplan/loadplan/internal/otlptest"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// TestMain fails the package's tests when a goroutine started by the output outlives Stop.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const secret = "Bearer s3cr3t-t0ken"

var (
	getTags = &metrics.Tags{Scenario: "rest", Step: "quote", Target: "api", Method: "GET", URL: "/api/stocks/${data.symbols.symbol}", Group: "http"}
	wsTags  = &metrics.Tags{Scenario: "stream", Step: "osc", Target: "api", Method: "WS", URL: "/ws", Group: "ws"}
	itTags  = &metrics.Tags{Scenario: "rest"}
)

// logs collects what the output warns about.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *logs) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// traced makes the duration sample of request n of iteration it (its trace), sampled or not.
func traced(m metrics.Metric, tags *metrics.Tags, it, n int, sampled bool, status int, errKind string) metrics.Sample {
	ts := &metrics.TraceSpan{Sampled: sampled, Start: int64(1_700_000_000_000_000_000 + n*1_000_000), Error: errKind,
		Phases: [6]float32{0.5, 1, 0, 0.25, 3, 0.25}}
	binary.BigEndian.PutUint64(ts.TraceID[:8], uint64(it+1))
	binary.BigEndian.PutUint64(ts.TraceID[8:], 0xabcdef)
	binary.BigEndian.PutUint64(ts.SpanID[:], uint64(1000+n))
	binary.BigEndian.PutUint64(ts.Parent[:], uint64(500+it))
	return metrics.Sample{Metric: m, Time: ts.Start + 5_000_000, Value: 5, Tags: tags, Status: status, Span: ts}
}

// root makes the iteration_duration sample of iteration it, carrying its root span.
func root(it int, sampled bool) metrics.Sample {
	ts := &metrics.TraceSpan{Sampled: sampled, Start: 1_600_000_000_000_000_000}
	binary.BigEndian.PutUint64(ts.TraceID[:8], uint64(it+1))
	binary.BigEndian.PutUint64(ts.TraceID[8:], 0xabcdef)
	binary.BigEndian.PutUint64(ts.SpanID[:], uint64(500+it))
	return metrics.Sample{Metric: metrics.IterationDuration, Time: ts.Start + 50_000_000, Value: 50, Tags: itTags, Span: ts}
}

func newOutput(t *testing.T, cfg Config, l *logs) *Output {
	t.Helper()
	o, err := New(cfg, outputs.Options{PlanName: "stress", SegmentName: "2/4", Logf: l.logf})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestExportsExactlyTheSampledSpans: of a mix of sampled, unsampled and untraced samples, the
// receiver gets one span per sampled request and per sampled iteration root, with the ids the
// requests carried, the attributes (timing phases among them) and status, and the headers on
// every export.
func TestExportsExactlyTheSampledSpans(t *testing.T) {
	rcv := otlptest.New(t, otlptest.Accept)
	var l logs
	o := newOutput(t, Config{Endpoint: rcv.URL, Headers: map[string]string{"Authorization": secret}, Run: "run-1",
		Servers: map[string]Server{"api": {Address: "127.0.0.1", Port: 8000}}, BatchSize: 7, Version: "v9"}, &l)
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[[8]byte]metrics.Sample{}
	n := 0
	for it := range 40 {
		sampled := it%3 == 0
		var batch []metrics.Sample
		for range 5 {
			n++
			s := traced(metrics.HTTPReqDuration, getTags, it, n, sampled, 200, "")
			switch n % 7 {
			case 1:
				s.Status = 503
			case 2:
				s = traced(metrics.WSConnecting, wsTags, it, n, sampled, 0, "")
			case 3: // no response: the span is on the errors sample
				s.Metric, s.Value, s.Label, s.Status, s.Span.Error = metrics.Errors, 1, "timeout", 0, "timeout"
			case 4:
				s.Status = 404
			}
			batch = append(batch, s,
				metrics.Sample{Metric: metrics.HTTPReqs, Time: s.Time, Value: 1, Tags: getTags},                     // untraced
				metrics.Sample{Metric: metrics.HTTPReqWaiting, Time: s.Time, Value: 3, Tags: getTags, Span: s.Span}) // a span elsewhere: ignored
			if sampled {
				want[s.Span.SpanID] = s
			}
		}
		r := root(it, sampled)
		batch = append(batch, r)
		if sampled {
			want[r.Span.SpanID] = r
		}
		o.Emit(batch)
	}
	if err := o.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	got := rcv.Spans()
	if bad := rcv.Bad(); len(bad) > 0 {
		t.Fatalf("receiver could not decode: %v", bad)
	}
	if len(got) != len(want) || o.Exported() != uint64(len(want)) || o.Dropped() != 0 {
		t.Fatalf("receiver got %d spans, output exported %d dropped %d; want %d", len(got), o.Exported(), o.Dropped(), len(want))
	}
	for _, s := range got {
		w, ok := want[s.SpanID]
		if !ok {
			t.Fatalf("span %x was not a sampled one", s.SpanID)
		}
		delete(want, s.SpanID)
		if s.TraceID != w.Span.TraceID || s.Start != uint64(w.Span.Start) || s.End != uint64(w.Time) || s.Flags&1 != 1 {
			t.Errorf("span %x: trace %x start %d end %d flags %x; want trace %x start %d end %d, sampled",
				s.SpanID, s.TraceID, s.Start, s.End, s.Flags, w.Span.TraceID, w.Span.Start, w.Time)
		}
		for k, v := range map[string]string{"service.name": "loadplan", "service.version": "v9", "loadplan.plan": "stress",
			"loadplan.run": "run-1", "loadplan.segment": "2/4"} {
			if s.Resource[k] != v {
				t.Errorf("span %x: resource %s = %q, want %q", s.SpanID, k, s.Resource[k], v)
			}
		}
		if w.Metric == metrics.IterationDuration {
			if s.Parent != ([8]byte{}) || s.Kind != tracepb.Span_SPAN_KIND_INTERNAL || s.Name != "iteration rest" {
				t.Errorf("root %x: parent %x kind %v name %q", s.SpanID, s.Parent, s.Kind, s.Name)
			}
			continue
		}
		checkRequestSpan(t, s, w)
	}
	for _, h := range rcv.Headers() {
		if h.Get("Authorization") != secret {
			t.Errorf("an export came without the header: %q", h.Get("Authorization"))
		}
	}
	if strings.Contains(l.all(), "s3cr3t") {
		t.Errorf("a secret was logged: %s", l.all())
	}
}

// checkRequestSpan compares a request's span with the sample it came from.
func checkRequestSpan(t *testing.T, s otlptest.Span, w metrics.Sample) {
	t.Helper()
	if s.Parent != w.Span.Parent || s.Kind != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("span %x: parent %x kind %v; want parent %x, client", s.SpanID, s.Parent, s.Kind, w.Span.Parent)
	}
	wantName, method := "GET /api/stocks/${data.symbols.symbol}", "GET"
	if w.Metric == metrics.WSConnecting {
		wantName = "WS /ws"
	}
	wantAttrs := map[string]string{"http.request.method": method, "url.template": w.Tags.URL, "server.address": "127.0.0.1",
		"server.port": "8000", "loadplan.scenario": w.Tags.Scenario, "loadplan.step": w.Tags.Step, "loadplan.target": "api",
	}
	wantStatus, errType := tracepb.Status_STATUS_CODE_UNSET, ""
	if w.Status != 0 {
		wantAttrs["http.response.status_code"] = fmt.Sprint(w.Status)
	}
	switch {
	case w.Span.Error != "":
		wantStatus, errType = tracepb.Status_STATUS_CODE_ERROR, w.Span.Error
	case w.Status >= 400: // the conventions' rule for a client span: 4xx too
		wantStatus, errType = tracepb.Status_STATUS_CODE_ERROR, fmt.Sprint(w.Status)
	}
	if errType != "" {
		wantAttrs["error.type"] = errType
	}
	if s.Name != wantName || s.Status != wantStatus {
		t.Errorf("span %x: name %q status %v; want %q %v", s.SpanID, s.Name, s.Status, wantName, wantStatus)
	}
	for k, v := range wantAttrs {
		if s.Attrs[k] != v {
			t.Errorf("span %x: %s = %q, want %q", s.SpanID, k, s.Attrs[k], v)
		}
	}
	if _, ok := s.Attrs["error.type"]; ok && errType == "" {
		t.Errorf("span %x: error.type %q on a success", s.SpanID, s.Attrs["error.type"])
	}
	// Phases 0.5, 1, 0, 0.25, 3, 0.25 ms: an attribute each but TLS's, which did not occur.
	for p, v := range map[string]string{"blocked": "0.5", "connecting": "1", "sending": "0.25", "waiting": "3", "receiving": "0.25"} {
		if s.Attrs["loadplan."+p+"_ms"] != v {
			t.Errorf("span %x: loadplan.%s_ms = %q, want %s", s.SpanID, p, s.Attrs["loadplan."+p+"_ms"], v)
		}
	}
	if v, ok := s.Attrs["loadplan.tls_handshaking_ms"]; ok {
		t.Errorf("span %x: a phase that did not occur has an attribute: %s", s.SpanID, v)
	}
}

// TestEndpointWithoutPath: a collector's base URL gets /v1/traces, as OTEL_EXPORTER_OTLP_ENDPOINT
// would; a URL that is not http(s) is refused without showing its password.
func TestEndpointWithoutPath(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:4318":            "http://127.0.0.1:4318/v1/traces",
		"http://127.0.0.1:4318/":           "http://127.0.0.1:4318/v1/traces",
		"https://tempo:443/otlp/v1/traces": "https://tempo:443/otlp/v1/traces",
	} {
		o, err := New(Config{Endpoint: in}, outputs.Options{})
		if err != nil || o.endpoint != want {
			t.Errorf("%s: endpoint %q, %v; want %q", in, o.endpoint, err, want)
		}
	}
	_, err := New(Config{Endpoint: "ftp://u:hunter2@host/x"}, outputs.Options{})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("ftp endpoint: %v", err)
	}
}

// sampledBatch is n sampled request samples, each its own trace.
func sampledBatch(from, n int) []metrics.Sample {
	out := make([]metrics.Sample, n)
	for i := range out {
		out[i] = traced(metrics.HTTPReqDuration, getTags, from+i, from+i, true, 200, "")
	}
	return out
}

// TestQueueDropsOldest: past QueueSize the oldest records go, counted; the collector then gets
// exactly the newest QueueSize.
func TestQueueDropsOldest(t *testing.T) {
	rcv := otlptest.New(t, otlptest.Accept)
	var l logs
	o := newOutput(t, Config{Endpoint: rcv.URL, QueueSize: 10, BatchSize: 4}, &l)
	// Emit before Start: no writer drains the queue yet, so its bound alone decides.
	o.Emit(sampledBatch(0, 25))
	if o.Dropped() != 15 {
		t.Fatalf("dropped %d, want 15", o.Dropped())
	}
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.Stop(context.Background())
	got := rcv.Spans()
	if len(got) != 10 || o.Exported() != 10 || o.Dropped() != 15 {
		t.Fatalf("receiver got %d, exported %d, dropped %d; want 10, 10, 15", len(got), o.Exported(), o.Dropped())
	}
	for _, s := range got {
		if id := binary.BigEndian.Uint64(s.SpanID[:]); id < 1015 {
			t.Errorf("span %d exported: an old one, which the bound should have dropped", id)
		}
	}
	if !strings.Contains(l.all(), "15 spans were dropped") {
		t.Errorf("no warning of the drops: %q", l.all())
	}
}

// TestDeadCollector: a port that refuses and a receiver that answers 503 or never answers take
// no span; every sampled span is counted as dropped and warned about, Emit never waited, and
// Stop returns within its bound.
func TestDeadCollector(t *testing.T) {
	for _, mode := range []string{"refused", "503", "hang"} {
		t.Run(mode, func(t *testing.T) {
			var endpoint string
			var rcv *otlptest.Receiver
			switch mode {
			case "refused":
				endpoint = otlptest.RefusingURL(t)
			case "503":
				rcv = otlptest.New(t, otlptest.Refuse)
			case "hang":
				rcv = otlptest.New(t, otlptest.Hang)
			}
			if rcv != nil {
				endpoint = rcv.URL
			}
			// A refusing or failing collector answers at once: bounds far longer than that keep
			// the test from depending on the machine's speed. A hanging one is cut by the bounds.
			bound := 20 * time.Second
			if mode == "hang" {
				bound = 200 * time.Millisecond
			}
			var l logs
			o := newOutput(t, Config{Endpoint: endpoint, EndpointSecret: mode == "refused", Headers: map[string]string{"Authorization": secret},
				BatchSize: 50, QueueSize: 200, ExportTimeout: bound, FlushTimeout: bound}, &l)
			if err := o.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			const total = 1000
			for i := 0; i < total; i += 100 {
				o.Emit(sampledBatch(i, 100)) // returns at once however stuck the writer is
			}
			o.Stop(context.Background())
			if o.Exported() != 0 || o.Dropped() != total {
				t.Fatalf("exported %d, dropped %d; want 0, %d", o.Exported(), o.Dropped(), total)
			}
			if rcv != nil && len(rcv.Spans()) != 0 {
				t.Errorf("receiver recorded %d spans; want none", len(rcv.Spans()))
			}
			if mode == "503" && rcv.Requests.Load() == 0 {
				t.Errorf("the failing receiver was never tried")
			}
			if !strings.Contains(l.all(), fmt.Sprintf("%d spans were dropped", total)) || strings.Contains(l.all(), "s3cr3t") {
				t.Errorf("warnings: %q", l.all())
			}
			if host := strings.TrimPrefix(strings.TrimSuffix(endpoint, "/v1/traces"), "http://"); mode == "refused" &&
				(strings.Contains(l.all(), host) || !strings.Contains(l.all(), "refused")) {
				t.Errorf("a secret endpoint was shown, or the cause was not: %q", l.all())
			}
		})
	}
}

// TestStopCutShort: a second Ctrl-C (Abort: Stop's context ends) cuts the final flush into a
// collector that never answers, however long the bounds; what was queued counts as dropped.
func TestStopCutShort(t *testing.T) {
	rcv := otlptest.New(t, otlptest.Hang)
	var l logs
	o := newOutput(t, Config{Endpoint: rcv.URL, ExportTimeout: time.Hour, FlushTimeout: time.Hour}, &l)
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.Emit(sampledBatch(0, 30))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o.Stop(ctx) // without the cut, an hour
	if o.Exported() != 0 || o.Dropped() != 30 || len(rcv.Spans()) != 0 {
		t.Errorf("exported %d, dropped %d, received %d; want 0, 30, 0", o.Exported(), o.Dropped(), len(rcv.Spans()))
	}
}

// BenchmarkEmit is the fan-out goroutine's cost per batch of 64 samples, one of them sampled.
func BenchmarkEmit(b *testing.B) {
	o, _ := New(Config{Endpoint: "http://127.0.0.1:1/v1/traces"}, outputs.Options{})
	batch := make([]metrics.Sample, 64)
	for i := range batch {
		batch[i] = metrics.Sample{Metric: metrics.HTTPReqDuration, Tags: getTags}
	}
	batch[10] = traced(metrics.HTTPReqDuration, getTags, 1, 1, true, 200, "")
	b.ReportAllocs()
	for b.Loop() {
		o.Emit(batch)
		o.queue = o.queue[:0] // what the writer's take does, without its copy
	}
}

// BenchmarkBuild is the writer's cost of making the SDK spans of one batch, per span: what a
// sampled request costs off the load's goroutines (plus its share of the export).
func BenchmarkBuild(b *testing.B) {
	o, _ := New(Config{Endpoint: "http://127.0.0.1:1/v1/traces"}, outputs.Options{PlanName: "bench"})
	bld := newBuilder(o.resource(), map[string]Server{"api": {Address: "127.0.0.1", Port: 8000}})
	recs := make([]record, 512)
	for i := range recs {
		s := traced(metrics.HTTPReqDuration, getTags, i, i, true, 200, "")
		recs[i] = record{span: *s.Span, tags: s.Tags, end: s.Time, dur: s.Value, status: s.Status}
	}
	b.ReportAllocs()
	for b.Loop() {
		bld.spans(recs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/span")
}

// BenchmarkExport is the whole cost of a span off the load's goroutines: built, transformed,
// encoded and posted (uncompressed) to a loopback receiver that decodes it, per span.
func BenchmarkExport(b *testing.B) {
	rcv := otlptest.New(b, otlptest.Accept)
	o, _ := New(Config{Endpoint: rcv.URL}, outputs.Options{PlanName: "bench"})
	if err := o.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	recs := make([]record, DefaultBatchSize)
	for i := range recs {
		s := traced(metrics.HTTPReqDuration, getTags, i, i, true, 200, "")
		recs[i] = record{span: *s.Span, tags: s.Tags, end: s.Time, dur: s.Value, status: s.Status}
	}
	b.ReportAllocs()
	for b.Loop() {
		if !o.export(context.Background(), recs) {
			b.Fatal("export failed")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/span")
	o.Stop(context.Background())
}
