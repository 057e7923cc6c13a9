// Package otlp exports a client span for every sampled traced request of a run to an
// OpenTelemetry collector (Tempo, Alloy, the Collector, Grafana Cloud) over OTLP/HTTP, so that
// a backend's spans (children of the span id a request's traceparent carried) hang under the
// load generator's own. The OpenTelemetry Go SDK builds the spans; the transport is this
// package's own (exporter.go, convert.go).
//
// It is configured by a plan's `tracing { otlp_endpoint = … }`, not by an `output` block: package
// run builds it (New) when the endpoint is set and feeds it like any output. What it exports:
//
//   - one span of kind client per sampled request: the executor hangs its metrics.TraceSpan on
//     the request's duration sample (http_req_duration, or ws_connecting for a WebSocket
//     handshake), or on its errors (ws_errors) sample when no response came. Its trace and span
//     id are exactly the traceparent's, its parent the iteration's root span, its name
//     "METHOD url-template", its timing phases attributes (loadplan.waiting_ms, …);
//   - one span of kind internal per sampled iteration whose iteration_duration sample carries the
//     iteration's TraceSpan (its root span: SpanID the root's id, Start the iteration's start),
//     so that the trace has a root. When the executor hangs none there, no root is exported and
//     the request spans name a parent the backend never receives.
//
// The export path never slows a VU nor the outputs' fan-out: Emit copies the few fields a span
// needs into a bounded queue (QueueSize, dropping the oldest beyond it) and returns; one writer
// goroutine builds the SDK spans and exports them in batches of BatchSize, every FlushInterval or
// as soon as a batch is full, each export bounded by ExportTimeout and never retried (a failed
// batch is dropped, then the writer backs off for a second). Every dropped span is counted
// (Dropped, which the summary reports) and warned about. Stop exports what is queued within
// FlushTimeout (or until its ctx ends: a second Ctrl-C) and counts what is left as dropped.
//
// Why not the SDK's BatchSpanProcessor: it is bounded and non-blocking too, but its drop count is
// not observable, and creating spans on the fan-out goroutine would cost it the SDK's per-span
// allocations; here the fan-out copies a small struct and the writer pays for the rest.
//
// Why not the SDK's otlptracehttp exporter: it imports the collector's service package
// (go.opentelemetry.io/proto/otlp/collector/trace/v1), whose gRPC definitions bring grpc and
// grpc-gateway into the binary. Measured (go build -trimpath -ldflags='-s -w' ./cmd/loadplan):
// 25.15 MB with otlptracehttp, 18.25 MB with this package's exporter (-27%), and no grpc
// package left. The exporter converts the SDK's spans to the trace/v1 messages and posts a
// TracesData, whose field 1 (resource_spans) is ExportTraceServiceRequest's, so the bytes are
// the same request; the options are those otlptracehttp had (uncompressed, not retried, one
// timeout per export, the configured headers, no OTEL_* variable read). A differential test and
// fuzz target (FuzzExporterMatchesOTLPTraceHTTP) hold the decoded requests equal to
// otlptracehttp's. Its CPU, in paired runs on a shared 2-core machine: BenchmarkExporter (the
// transport alone, 512 spans to a loopback server that only reads) 0.70 of otlptracehttp's per
// span (median of 6 pairs, 0.66-0.78; 8.4 against 12.0 µs), 18 allocations a span against 45;
// BenchmarkExport (the whole writer's cost with a decoding receiver in the same process) is
// within noise, 1.03 of before (median of 7 pairs, 0.95-1.27; 32 and 31 µs a span), 110
// allocations a span against 132: the SDK's span building and the receiver's decoding dominate
// it. Half of the exporter's CPU left is proto.Marshal.
package otlp

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// Defaults for a Config that leaves them out.
const (
	DefaultBatchSize     = 512
	DefaultQueueSize     = 8192
	DefaultFlushInterval = time.Second
	DefaultExportTimeout = 5 * time.Second
	DefaultFlushTimeout  = 5 * time.Second
	// TracesPath is appended to an endpoint given without a path (http://collector:4318), as the
	// OTEL_EXPORTER_OTLP_ENDPOINT convention does.
	TracesPath = "/v1/traces"
	warnEvery  = 10 * time.Second
	backoff    = time.Second
)

// Config is what the output needs: the plan's tracing block's endpoint and headers, and what the
// spans say about the run.
type Config struct {
	// Endpoint is the OTLP/HTTP traces URL (http://127.0.0.1:4318/v1/traces); without a path,
	// TracesPath is used. It is never shown with its user info.
	Endpoint string
	// EndpointSecret says Endpoint came from a secret (env()): messages never show it at all.
	EndpointSecret bool
	// Headers go with every export (an Authorization or X-Scope-OrgID): secrets, never logged.
	Headers map[string]string
	// Run identifies the run (the loadplan.run resource attribute, as in the baggage), "" for none.
	Run string
	// Servers maps a target name to the host (and port) of its base URL, for server.address
	// and server.port; a target left out (a secret base URL) gets neither.
	Servers map[string]Server
	// Version is loadplan's version (service.version), "" for none.
	Version string

	BatchSize     int           // spans per export; 0 means DefaultBatchSize
	QueueSize     int           // spans waiting at most; 0 means DefaultQueueSize
	FlushInterval time.Duration // 0 means DefaultFlushInterval
	ExportTimeout time.Duration // one export's bound; 0 means DefaultExportTimeout
	FlushTimeout  time.Duration // Stop's bound on the final flush; 0 means DefaultFlushTimeout
}

// Server is where a target's requests go, for the server.address and server.port attributes.
type Server struct {
	Address string
	Port    int // 0 when unknown
}

// Output is the OTLP span exporter. Create it with New.
type Output struct {
	cfg      Config
	endpoint string // with TracesPath added when it had no path
	shown    string // endpoint for messages: no user info
	secrets  []string
	plan     string
	segment  string
	logf     func(string, ...any)

	qmu   sync.Mutex // guards queue; held by Emit and the writer only to append or take
	queue []record
	full  chan struct{} // capacity 1: a batch is waiting

	dropped  atomic.Uint64
	exported atomic.Uint64

	exporter *exporter
	build    *builder // the writer goroutine's
	stopping chan struct{}
	done     chan struct{} // closed when the writer ended
	cancel   context.CancelFunc
	lastWarn time.Time // writer goroutine only
}

// record is what Emit keeps of one span-carrying sample: a copy, so that nothing of the batch is
// retained.
type record struct {
	span   metrics.TraceSpan
	tags   *metrics.Tags
	end    int64 // Unix ns: the sample's time, when the request (or iteration) ended
	dur    float64
	status int
	root   bool // an iteration's root span (from iteration_duration)
}

// New checks cfg. Nothing is contacted before Start.
func New(cfg Config, opts outputs.Options) (*Output, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		shown := strconv.Quote(outputs.RedactURL(cfg.Endpoint))
		if cfg.EndpointSecret {
			shown = "(secret)"
		}
		return nil, fmt.Errorf("otlp: otlp_endpoint %s: want an http(s) URL such as http://127.0.0.1:4318/v1/traces", shown)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = TracesPath
	}
	shown := *u
	shown.User = nil
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	cfg.QueueSize = max(cfg.QueueSize, cfg.BatchSize)
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.ExportTimeout <= 0 {
		cfg.ExportTimeout = DefaultExportTimeout
	}
	if cfg.FlushTimeout <= 0 {
		cfg.FlushTimeout = DefaultFlushTimeout
	}
	o := &Output{cfg: cfg, endpoint: u.String(), shown: shown.String(), plan: opts.PlanName,
		segment: opts.SegmentName, logf: opts.Logf, full: make(chan struct{}, 1),
		stopping: make(chan struct{}), done: make(chan struct{})}
	if o.logf == nil {
		o.logf = func(string, ...any) {}
	}
	for _, v := range cfg.Headers {
		if v != "" {
			o.secrets = append(o.secrets, v)
		}
	}
	if p, ok := u.User.Password(); ok && p != "" {
		o.secrets = append(o.secrets, p)
	}
	if cfg.EndpointSecret {
		o.shown = "(secret endpoint)"
		o.secrets = append(o.secrets, cfg.Endpoint, o.endpoint, u.Host)
	}
	// The longest first, so that a secret containing another is replaced whole.
	sort.Slice(o.secrets, func(i, j int) bool { return len(o.secrets[i]) > len(o.secrets[j]) })
	return o, nil
}

// Name returns "otlp".
func (o *Output) Name() string { return "otlp" }

// Endpoint returns the traces endpoint as it may be shown: without user info, or not at all when
// it came from a secret.
func (o *Output) Endpoint() string { return o.shown }

// Wants is the metrics whose samples may carry a span (outputs.SampleFilter): only their
// samples are pushed to this output.
func (o *Output) Wants() metrics.Mask {
	return metrics.MaskOf(metrics.HTTPReqDuration, metrics.WSConnecting, metrics.Errors, metrics.WSErrors,
		metrics.IterationDuration)
}

// Dropped returns the number of spans dropped: pushed out of the full queue, in a batch the
// collector did not take, or still queued when Stop's bound ran out.
func (o *Output) Dropped() uint64 { return o.dropped.Load() }

// Exported returns the number of spans the collector accepted.
func (o *Output) Exported() uint64 { return o.exported.Load() }

// Start makes the exporter and starts the writer. It contacts nothing: a collector that is down
// costs dropped spans and a warning, never the run.
func (o *Output) Start(ctx context.Context) error {
	// Uncompressed: gzip was 4.4% of the whole process's CPU at sampling 0.1 against a loopback
	// target (a third of the export's cost), CPU the load needs; the collector is usually near
	// (an Alloy or Collector beside the load). Not retried: a failed batch is counted, not
	// retried behind our back. No OTEL_EXPORTER_OTLP_* variable of the environment is read.
	exp, err := newExporter(o.endpoint, o.cfg.Headers, o.cfg.ExportTimeout)
	if err != nil {
		return fmt.Errorf("otlp: exporter for %s: %s", o.shown, o.scrub(err))
	}
	o.exporter = exp
	o.build = newBuilder(o.resource(), o.cfg.Servers)
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	o.cancel = cancel
	go o.writeLoop(wctx)
	return nil
}

// scrub keeps the headers' values and the endpoint's password out of an error message.
func (o *Output) scrub(err error) string {
	if err == nil {
		return "no answer"
	}
	s := err.Error()
	for _, v := range o.secrets {
		s = strings.ReplaceAll(s, v, "(secret)")
	}
	return s
}

// Emit queues a record of every sampled span in batch. It never waits for the network.
func (o *Output) Emit(batch []metrics.Sample) {
	locked, queued := false, 0
	for i := range batch {
		s := &batch[i]
		if s.Span == nil || !s.Span.Sampled {
			continue
		}
		r := record{span: *s.Span, tags: s.Tags, end: s.Time, dur: s.Value, status: s.Status}
		switch s.Metric {
		case metrics.HTTPReqDuration, metrics.WSConnecting:
		case metrics.Errors, metrics.WSErrors: // no response: the sample counts, its value is no time
			r.dur = 0
		case metrics.IterationDuration:
			r.root = true
		default:
			continue
		}
		if !locked {
			o.qmu.Lock()
			locked = true
		}
		o.queue = append(o.queue, r)
		queued = len(o.queue)
	}
	if !locked {
		return
	}
	if over := len(o.queue) - o.cfg.QueueSize; over > 0 {
		n := copy(o.queue, o.queue[over:])
		clear(o.queue[n:])
		o.queue = o.queue[:n]
		o.dropped.Add(uint64(over))
	}
	o.qmu.Unlock()
	if queued >= o.cfg.BatchSize {
		select {
		case o.full <- struct{}{}:
		default:
		}
	}
}

// take removes up to n records from the head of the queue.
func (o *Output) take(n int) []record {
	o.qmu.Lock()
	defer o.qmu.Unlock()
	n = min(n, len(o.queue))
	if n == 0 {
		return nil
	}
	b := append([]record(nil), o.queue[:n]...)
	m := copy(o.queue, o.queue[n:])
	clear(o.queue[m:])
	o.queue = o.queue[:m]
	return b
}

// queued returns how many records wait.
func (o *Output) queued() int {
	o.qmu.Lock()
	defer o.qmu.Unlock()
	return len(o.queue)
}
