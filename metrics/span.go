package metrics

// TraceSpan is the trace context of one traced request (a plan's `tracing` block): the W3C trace and
// span ids its traceparent header carried, whether the trace was sampled, and what a client span
// needs beyond the request's own samples. The executor allocates one only for a request that is
// sampled or failed, and hangs it on that request's duration sample (http_req_duration, or
// ws_connecting for a WebSocket handshake; errors or ws_errors when no response came), and one
// for an iteration in which a sampled request's span was made, on its iteration_duration
// sample: the trace's root span (SpanID the root's id, Parent zero, Start the iteration's
// start), which outputs/otlp exports as its requests' parent. Every other sample has a nil Span,
// so tracing off costs one nil pointer per sample.
type TraceSpan struct {
	TraceID [16]byte // the iteration's trace id (a fresh trace per iteration)
	SpanID  [8]byte  // this request's span id, the parent-id of its traceparent header
	Parent  [8]byte  // the iteration's root span id; zero when the iteration has none
	Sampled bool     // the traceparent's sampled flag (decided once per iteration)
	Start   int64    // Unix ns when the request began (before any connecting)
	// Error is the request's error kind (as the errors sample's label), "" when it got a response.
	Error string
	// Phases are the request's timing phases in milliseconds, as its timing samples: blocked,
	// connecting, tls_handshaking, sending, waiting, receiving (0 for a phase that did not occur).
	Phases [6]float32
}

// Exemplar is one sampled, traced measurement of a series, for outputs that attach exemplars
// (Prometheus): the slowest one a series saw (Series.Exemplar).
type Exemplar struct {
	Span  *TraceSpan // nil when the series saw no sampled traced sample
	Value float64    // the sample's value, in its unit
	Time  int64      // Unix ns of the sample
}

// below reports whether a sampled measurement of value v at time t replaces e: e holds none, or
// a faster one, or an as fast but earlier one.
func (e *Exemplar) below(v float64, t int64) bool {
	return e.Span == nil || v > e.Value || (v == e.Value && t >= e.Time)
}
