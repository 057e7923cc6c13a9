package wsstep

import (
	"net/http"
	"time"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/metrics"
)

// wsTrace is the trace context of one handshake: its span id and sampled flag; on says that
// loadplan's trace header went with it (not one the plan set itself).
type wsTrace struct {
	id      [8]byte
	sampled bool
	on      bool
	start   int64 // Unix ns when the handshake began
}

// startTrace gives a handshake its span (each handshake, a reconnect's too, is a request of its
// own) and sets its trace headers into h, the handshake's own header map.
func (w *wsVU) startTrace(h http.Header) wsTrace {
	c := w.traceConf
	if w.trace == nil {
		return wsTrace{}
	}
	t := wsTrace{start: time.Now().UnixNano()} // dial sets it again when the handshake begins
	if c.Header != "" {
		t.id, t.sampled = w.trace.NewSpan(c)
		t.on = true
		h.Set(c.Header, w.trace.HeaderValue(c, t.id, t.sampled))
	}
	if c.Baggage != "" {
		h.Set(step.HeaderBaggage, c.Baggage)
	}
	return t
}

// span is the handshake's TraceSpan for its ws_connecting sample (errKind "") or its ws_errors
// sample (errKind its label) when it is traced and sampled or failed; nil otherwise. A
// handshake's timing is one figure (ws_connecting), so its phases stay 0.
func (w *wsVU) span(t *wsTrace, errKind string) *metrics.TraceSpan {
	if !t.on || (!t.sampled && errKind == "") {
		return nil
	}
	return w.trace.Span(t.id, t.sampled, t.start, errKind, [6]float32{})
}
