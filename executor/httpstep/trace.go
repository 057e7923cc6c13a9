package httpstep

import (
	"time"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/metrics"
)

// reqTrace is the trace context of the request in flight: its span id and sampled flag; on says
// that loadplan's trace header went with it (not one the plan set itself).
type reqTrace struct {
	id      [8]byte
	sampled bool
	on      bool
}

// startTrace gives the request about to be sent its span (a new one per request: every redirect
// hop is a request of its own) and sets its trace headers into the VU's header map. The header
// values live in the VU's buffers (step.Trace.Inject): no allocation per request. A request of
// a plan that set the header itself carries the plan's, and no span of loadplan's.
func (h *httpState) startTrace(c *step.TraceConf) reqTrace {
	if h.tr == nil {
		return reqTrace{}
	}
	var r reqTrace
	if c.Header != "" {
		r.id, r.sampled = h.tr.NewSpan(c)
		r.on = true
	}
	h.tr.Inject(h.hdr, c, r.id, r.sampled)
	return r
}

// phases returns the request's timing phases in ms from the VU's trace times, as its timing
// samples give them: blocked, connecting, tls_handshaking, sending, waiting, receiving (0 for a
// phase that did not happen, or did not end: a failed request has only the phases it reached).
func (h *httpState) phases(end int64) [6]float64 {
	t := &h.times
	span := func(a, b int64) float64 {
		if a == 0 || b < a {
			return 0
		}
		return step.Millis(time.Duration(b - a))
	}
	getConn, gotConn, first := t.getConn.Load(), t.gotConn.Load(), t.firstByte.Load()
	blockedEnd := t.connectStart.Load()
	if blockedEnd == 0 {
		blockedEnd = gotConn
	}
	wrote := t.wrote.Load()
	return [6]float64{span(getConn, blockedEnd), span(t.connectStart.Load(), t.connectDone.Load()),
		span(t.tlsStart.Load(), t.tlsDone.Load()), span(gotConn, wrote), span(wrote, first), span(first, end)}
}

// emitSpan records a count sample of 1 that carries a request's trace span (nil for none).
func (h *httpState) emitSpan(at int64, m metrics.Metric, tags *metrics.Tags, status int, label string, ts *metrics.TraceSpan) {
	h.vu.Emit(metrics.Sample{Metric: m, Time: monoBaseWall + at, Value: 1, Tags: tags, Status: status, Label: label, Span: ts})
}
