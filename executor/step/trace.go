package step

import (
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"unsafe"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// The header names a traced request carries, in http.Header's canonical form.
const (
	HeaderTraceparent = "Traceparent" // W3C Trace Context
	HeaderB3          = "B3"          // Zipkin's single header
	HeaderBaggage     = "Baggage"     // W3C Baggage
)

// TraceConf is a step's tracing, compiled once from the tracing block that applies to its target
// (plan.Plan.TracingFor); a step whose requests carry no trace context has a nil one.
type TraceConf struct {
	Header   string  // HeaderTraceparent or HeaderB3; "" when the step sets that header itself
	Sampling float64 // a request is sampled when its iteration's draw is below it
	// Baggage is the baggage header's value, constant for the step ("" for none, or when the
	// step sets a baggage header itself).
	Baggage string
}

// CompileTrace returns the tracing of a step named stepName of scenario, sent with headers (the
// target's and the step's), under the tracing block tr (nil: off). A header the plan sets itself
// wins: the propagator's header (or baggage) is then not added, and the step's requests carry no
// span of loadplan's, since their trace is not loadplan's.
func CompileTrace(tr *plan.Tracing, run, scenario, stepName string, headers []plan.KV) *TraceConf {
	if !tr.On() {
		return nil
	}
	c := &TraceConf{Header: HeaderTraceparent, Sampling: tr.Sampling}
	if tr.Propagator == plan.PropagatorB3 {
		c.Header = HeaderB3
	}
	userBaggage := false
	for _, kv := range headers {
		switch http.CanonicalHeaderKey(kv.Name) {
		case c.Header:
			c.Header = ""
		case HeaderBaggage:
			userBaggage = true
		}
	}
	if !userBaggage {
		var items []string
		for _, b := range tr.Baggage {
			v := map[string]string{"run": run, "scenario": scenario, "step": stepName}[b]
			// W3C baggage values are percent-encoded; PathEscape leaves none of , ; " \ or space
			items = append(items, "loadplan."+b+"="+url.PathEscape(v))
		}
		c.Baggage = strings.Join(items, ",")
	}
	if c.Header == "" && c.Baggage == "" {
		return nil
	}
	return c
}

// Trace is a VU's trace context: the current iteration's trace id, root span id and sampling
// draw (Begin makes them, once per iteration and for setup and teardown), and the per-VU random
// source and buffers its requests' headers are formatted into. Owned by the VU goroutine.
//
// What it costs, measured on the shared 2-core machine: BenchmarkTraceRequest (a new trace, a
// span, traceparent and baggage into a header map) 180–310 ns and no allocation; a request of
// the HTTP/1.1 fast path against an in-process loopback server (executor's
// BenchmarkTracingPaired, off and on in alternating chunks, 6 runs, the server's CPU included)
// costs 1.012× the process CPU with w3c at sampling 0.1 (1.001–1.035), 1.038× (1.007–1.051) with
// baggage's ~60 more bytes per request, against 0.997× (0.985–1.009) off against off; no
// allocation per unsampled request, one TraceSpan per sampled or failed one
// (TestTracingAllocations).
type Trace struct {
	TraceID [16]byte
	Root    [8]byte // the iteration's root span id: the parent of its requests' spans
	draw    float64 // uniform in [0,1): the iteration is sampled at sampling s when draw < s
	// spans says a sampled request's span was made in the current trace (RootSpan).
	spans bool
	rng   *rand.Rand
	// buf holds the header value of the request in flight; val is the one-element value slice
	// the request's header map gets, reused so that a request costs no allocation (Inject).
	buf [68]byte
	val []string
	bag []string
}

// NewTrace makes a VU's trace context with its own random source, a PCG seeded from the system's
// (crypto/rand): 128 bits of state per VU, so that trace ids are unique across VUs, processes and
// the segments of a fleet. Not ChaCha8: its block refills were a third of BenchmarkTraceRequest's
// CPU, and trace ids need uniqueness, not secrecy.
func NewTrace() *Trace {
	var seed [16]byte
	_, _ = crand.Read(seed[:]) // crypto/rand.Read does not fail
	src := rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:]))
	t := &Trace{rng: rand.New(src), val: make([]string, 1), bag: make([]string, 1)}
	t.Begin()
	return t
}

// Begin starts a new trace: a fresh trace id (never all zero, which W3C forbids), a root span id
// and the sampling draw.
func (t *Trace) Begin() {
	for {
		hi, lo := t.rng.Uint64(), t.rng.Uint64()
		if hi|lo != 0 {
			binary.BigEndian.PutUint64(t.TraceID[:8], hi)
			binary.BigEndian.PutUint64(t.TraceID[8:], lo)
			break
		}
	}
	binary.BigEndian.PutUint64(t.Root[:], t.spanID())
	t.draw = t.rng.Float64()
	t.spans = false
}

// Sampled reports whether the current trace is sampled under c.
func (t *Trace) Sampled(c *TraceConf) bool { return t.draw < c.Sampling }

// spanID draws a span id, never zero.
func (t *Trace) spanID() uint64 {
	for {
		if id := t.rng.Uint64(); id != 0 {
			return id
		}
	}
}

// NewSpan draws the span id of one request of the current trace (each request, each redirect hop
// and each retry has its own) and says whether it is sampled under c.
func (t *Trace) NewSpan(c *TraceConf) (id [8]byte, sampled bool) {
	binary.BigEndian.PutUint64(id[:], t.spanID())
	return id, t.Sampled(c)
}

// Inject sets the trace headers of the request whose span is id into hdr. The traceparent (or
// b3) value aliases the VU's buffer: it is valid until the VU's next Inject, and hdr is the VU's
// own header map, refilled per request. Costs no allocation. A client that may keep the value
// beyond the request (HTTP/2's HPACK table) gets a copy: Own.
func (t *Trace) Inject(hdr http.Header, c *TraceConf, id [8]byte, sampled bool) {
	if c.Header != "" {
		n := t.format(c, id, sampled)
		t.val[0] = unsafe.String(&t.buf[0], n)
		hdr[c.Header] = t.val
	}
	if c.Baggage != "" {
		t.bag[0] = c.Baggage
		hdr[HeaderBaggage] = t.bag
	}
}

// Own replaces the trace header value Inject set into hdr by a copy of its own, for a request
// whose client may keep header strings beyond the request: HTTP/2's HPACK encoder keeps them in
// its dynamic table and would send a later request's value by index for an earlier one (net/http
// and the VU's HTTP/2 client; the HTTP/1.1 fast path writes the header and keeps nothing). One
// allocation, on paths that allocate per request anyway.
func (t *Trace) Own(hdr http.Header, c *TraceConf) {
	if c.Header != "" && len(hdr[c.Header]) == 1 {
		hdr[c.Header] = []string{strings.Clone(hdr[c.Header][0])}
	}
}

// HeaderValue returns the trace header's value as a string of its own (a WebSocket handshake,
// whose header map the handshake keeps).
func (t *Trace) HeaderValue(c *TraceConf, id [8]byte, sampled bool) string {
	n := t.format(c, id, sampled)
	return string(t.buf[:n])
}

// format writes the header value into t.buf and returns its length: W3C
// "00-TRACEID-SPANID-01" (flags 01 sampled, 00 not), or b3's "TRACEID-SPANID-1-PARENT".
func (t *Trace) format(c *TraceConf, id [8]byte, sampled bool) int {
	b := t.buf[:0]
	if c.Header == HeaderB3 {
		b = hex.AppendEncode(b, t.TraceID[:])
		b = append(b, '-')
		b = hex.AppendEncode(b, id[:])
		if sampled {
			b = append(b, "-1-"...)
		} else {
			b = append(b, "-0-"...)
		}
		b = hex.AppendEncode(b, t.Root[:])
		return len(b)
	}
	b = append(b, "00-"...)
	b = hex.AppendEncode(b, t.TraceID[:])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[:])
	if sampled {
		b = append(b, "-01"...)
	} else {
		b = append(b, "-00"...)
	}
	return len(b)
}

// Span returns the TraceSpan of a request of the current trace (allocated: only for a request
// that is sampled or failed). start is Unix ns; errKind the errors sample's label, "" for a
// response; phases in ms as the request's timing samples.
func (t *Trace) Span(id [8]byte, sampled bool, start int64, errKind string, phases [6]float32) *metrics.TraceSpan {
	t.spans = t.spans || sampled
	return &metrics.TraceSpan{TraceID: t.TraceID, SpanID: id, Parent: t.Root, Sampled: sampled, Start: start,
		Error: errKind, Phases: phases}
}

// RootSpan returns the current trace's root span, for its iteration's iteration_duration sample,
// when a sampled request's span was made in it (outputs/otlp exports it as the parent of those
// spans); nil otherwise, and on a nil Trace (tracing off). start is Unix ns when the iteration
// began.
func (t *Trace) RootSpan(start int64) *metrics.TraceSpan {
	if t == nil || !t.spans {
		return nil
	}
	return &metrics.TraceSpan{TraceID: t.TraceID, SpanID: t.Root, Sampled: true, Start: start}
}
