package otlp

import (
	"context"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/loadplan/loadplan/metrics"
)

// The attributes loadplan adds to the semantic conventions' (its namespace, so that TraceQL can
// select a scenario or step: {span.loadplan.step = "quote"}).
const (
	attrScenario = attribute.Key("loadplan.scenario")
	attrStep     = attribute.Key("loadplan.step")
	attrTarget   = attribute.Key("loadplan.target")
	attrTask     = attribute.Key("loadplan.task")
	attrPlan     = attribute.Key("loadplan.plan")
	attrRun      = attribute.Key("loadplan.run")
	attrSegment  = attribute.Key("loadplan.segment")
)

// phases names TraceSpan.Phases, in their order in a request, as the timing metrics do without
// their http_req_ prefix.
var phases = [6]string{"blocked", "connecting", "tls_handshaking", "sending", "waiting", "receiving"}

// phaseAttrs are the span attributes that carry each phase's duration in milliseconds, for
// TraceQL queries ({span.loadplan.waiting_ms > 200}). Attributes, not span events: an event per
// phase doubled the cost of a span (BenchmarkExport: 250 allocations and 55 µs a span with
// events, 132 and 28 µs without, receiver included), and that CPU is the load generator's.
var phaseAttrs = func() (out [6]attribute.Key) {
	for i, p := range phases {
		out[i] = attribute.Key("loadplan." + p + "_ms")
	}
	return out
}()

// builder turns records into the SDK's ReadOnlySpans with exactly the ids the requests carried:
// the supported seam for chosen ids is the tracer provider's IDGenerator, which reads them from
// the context each span is started with. It is owned by the writer goroutine.
type builder struct {
	tracer  trace.Tracer
	col     *collector
	servers map[string]Server
}

func newBuilder(res *resource.Resource, servers map[string]Server) *builder {
	col := &collector{}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithIDGenerator(chosenIDs{}),
		sdktrace.WithSampler(sdktrace.AlwaysSample()), // only sampled requests become records
		sdktrace.WithSpanProcessor(col),
		sdktrace.WithResource(res),
	)
	return &builder{tracer: tp.Tracer("github.com/loadplan/loadplan/outputs/otlp"), col: col, servers: servers}
}

// resource describes the load generator: service.name "loadplan", the plan, the run, the segment.
// It is built from the Config alone: no OTEL_RESOURCE_ATTRIBUTES of the environment is read.
func (o *Output) resource() *resource.Resource {
	attrs := []attribute.KeyValue{
		semconv.ServiceName("loadplan"),
		semconv.TelemetrySDKName("opentelemetry"),
		semconv.TelemetrySDKLanguageGo,
		semconv.TelemetrySDKVersion(sdk.Version()),
	}
	if o.cfg.Version != "" {
		attrs = append(attrs, semconv.ServiceVersion(o.cfg.Version))
	}
	if o.plan != "" {
		attrs = append(attrs, attrPlan.String(o.plan))
	}
	if o.cfg.Run != "" {
		attrs = append(attrs, attrRun.String(o.cfg.Run))
	}
	if o.segment != "" {
		attrs = append(attrs, attrSegment.String(o.segment))
	}
	return resource.NewWithAttributes(semconv.SchemaURL, attrs...)
}

// spans returns the spans of recs. The slice is reused by the next call: the exporter is done
// with it when ExportSpans returns.
func (b *builder) spans(recs []record) []sdktrace.ReadOnlySpan {
	clear(b.col.spans)
	b.col.spans = b.col.spans[:0]
	for i := range recs {
		b.one(&recs[i])
	}
	return b.col.spans
}

// one starts and ends the span of r; the collector receives it.
func (b *builder) one(r *record) {
	ts := &r.span
	ctx := context.WithValue(context.Background(), idsKey{}, ids{trace: ts.TraceID, span: ts.SpanID})
	if ts.Parent != ([8]byte{}) {
		ctx = trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: ts.TraceID, SpanID: ts.Parent, TraceFlags: trace.FlagsSampled, Remote: true}))
	}
	start := time.Unix(0, ts.Start)
	// The sample's time is when the request ended; in the arrival-rate model its duration also
	// counts the wait for the VU, which happened before Start.
	end := time.Unix(0, r.end)
	if r.end < ts.Start {
		end = start.Add(time.Duration(r.dur * float64(time.Millisecond)))
	}
	t := r.tags
	if t == nil {
		t = &metrics.Tags{}
	}
	if r.root {
		name := "iteration " + t.Scenario
		attrs := []attribute.KeyValue{attrScenario.String(t.Scenario)}
		if t.Task != "" {
			name += " " + t.Task
			attrs = append(attrs, attrTask.String(t.Task))
		}
		_, sp := b.tracer.Start(ctx, name, trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindInternal),
			trace.WithAttributes(attrs...))
		sp.End(trace.WithTimestamp(end))
		return
	}

	attrs := make([]attribute.KeyValue, 0, 16)
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(method(t.Method)))
	if t.URL != "" {
		attrs = append(attrs, semconv.URLTemplate(t.URL))
	}
	if r.status != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(r.status))
	}
	if s, ok := b.servers[t.Target]; ok && s.Address != "" {
		attrs = append(attrs, semconv.ServerAddress(s.Address))
		if s.Port != 0 {
			attrs = append(attrs, semconv.ServerPort(s.Port))
		}
	}
	// The semantic conventions' rule for a client span: an error when no response came, or any
	// status from 400 up; error.type says which (the error kind, or the status code).
	errType := ts.Error
	if errType == "" && r.status >= 400 {
		errType = strconv.Itoa(r.status)
	}
	if errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	attrs = append(attrs, attrScenario.String(t.Scenario), attrStep.String(t.Step), attrTarget.String(t.Target))
	if t.Task != "" {
		attrs = append(attrs, attrTask.String(t.Task))
	}
	for i, ms := range ts.Phases {
		if ms > 0 {
			attrs = append(attrs, phaseAttrs[i].Float64(float64(ms)))
		}
	}
	name := t.Method
	if t.URL != "" {
		name += " " + t.URL
	}
	_, sp := b.tracer.Start(ctx, name, trace.WithTimestamp(start), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrs...))
	if errType != "" {
		sp.SetStatus(codes.Error, errType)
	}
	sp.End(trace.WithTimestamp(end))
}

// method is the http.request.method of a step's method tag: a WebSocket handshake is a GET, a
// method the conventions do not list is "_OTHER".
func method(m string) string {
	switch m {
	case "WS":
		return "GET"
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY":
		return m
	}
	return "_OTHER"
}

// idsKey is the context key of the ids a span is to be started with.
type idsKey struct{}

type ids struct {
	trace trace.TraceID
	span  trace.SpanID
}

// chosenIDs is the IDGenerator that returns the ids the context carries: those of the
// traceparent the request was sent with.
type chosenIDs struct{}

// NewIDs returns the trace and span id of ctx (a span without a parent: an iteration's root).
func (chosenIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	v, _ := ctx.Value(idsKey{}).(ids)
	return v.trace, v.span
}

// NewSpanID returns the span id of ctx (a request's span under its iteration's root).
func (chosenIDs) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	v, _ := ctx.Value(idsKey{}).(ids)
	return v.span
}

// collector is the span processor that hands each ended span to the builder: OnEnd runs
// synchronously in End, on the writer goroutine, so it needs no lock.
type collector struct {
	spans []sdktrace.ReadOnlySpan
}

func (c *collector) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (c *collector) OnEnd(s sdktrace.ReadOnlySpan)                   { c.spans = append(c.spans, s) }
func (c *collector) Shutdown(context.Context) error                  { return nil }
func (c *collector) ForceFlush(context.Context) error                { return nil }
