package httpstep

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/internal/h1"
	"github.com/loadplan/loadplan/internal/jsonpath"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// response is what one hop left for checks and captures. body aliases the VU's buffer.
type response struct {
	status  int
	header  http.Header
	cookies []*http.Cookie
	body    []byte
	bodyLen int64 // the body's length, read whole or not (Locust's content size)
	service time.Duration
	end     int64 // mono() when the response ended (or the request failed): its samples' time
	err     error
	kind    string // error kind when err != nil
	// sent: the request had a connection and its write began, so it is an http_reqs sample.
	sent bool
	// interrupted: the hard context (end of graceful_stop, abort, second Ctrl-C) cut it.
	interrupted bool
	// span is the trace span of a traced request that got no response, for its errors sample
	// (a response's is on its http_req_duration sample); nil otherwise.
	span *metrics.TraceSpan
}

// errInterrupted ends an iteration whose request the hard context cut.
var errInterrupted = errors.New("interrupted")

// do runs one HTTP step: the request, its redirects (each hop a counted request), checks
// and captures. A returned error ends the iteration (missing capture, template failure); a
// failed request is data in its samples, not an error.
//
// Accounting: every request that left the machine is one http_reqs sample; every request
// attempted is one http_req_failed sample (so a dead target fails a rate gate although none of
// its attempts is a request); a failure is one errors sample with its cause — the iteration it
// ends (a capture the failed request could not give) adds none.
func (h *httpState) do(ctx context.Context, hs *httpStep) error {
	u, err := h.buildURL(hs)
	if err != nil {
		return templateError("url", err)
	}
	body, err := h.buildBody(hs)
	if err != nil {
		return templateError("body", err)
	}
	if err := h.fillHeader(hs); err != nil {
		return templateError("header", err)
	}
	method := hs.method
	ps := hs.ps
	var res response
	planCookie := h.hdr["Cookie"] // the client adds the jar's cookies to the header per hop
	for hop := 0; ; hop++ {
		if hop > 0 {
			if planCookie != nil {
				h.hdr["Cookie"] = planCookie
			} else {
				delete(h.hdr, "Cookie")
			}
		}
		res = h.send(ctx, hs, method, u, body)
		if hs.debug != nil {
			hs.debug.Exchange(&step.HTTPExchange{Scenario: hs.tags.Scenario, Step: hs.tags.Step, Method: method, URL: u, Header: h.hdr,
				Body: body, Status: res.status, RespHeader: res.header, RespBody: res.body, Err: res.err})
		}
		if res.interrupted {
			if res.sent { // cut on the wire: a request that failed, without a latency
				now := res.end
				h.emitAt(now, metrics.HTTPReqFailed, 1, hs.tags, res.status, "")
				h.emitSpan(now, metrics.Errors, hs.tags, res.status, "interrupted", res.span)
			}
			return errInterrupted
		}
		h.noteConn(hs.target, res.err) // the VU's backoff and the target's reachability
		if res.err != nil || !ps.FollowRedirects || !isRedirect(res.status) {
			break
		}
		loc := res.header.Get("Location")
		next, err := u.Parse(loc)
		if loc == "" || err != nil {
			break
		}
		if hop >= ps.MaxRedirects {
			res.err, res.kind = errTooManyRedirects, "too many redirects"
			break
		}
		h.emitAt(res.end, metrics.HTTPReqFailed, 0, hs.tags, res.status, "")
		if res.status == http.StatusSeeOther || ((res.status == http.StatusMovedPermanently || res.status == http.StatusFound) && method == http.MethodPost) {
			method, body = http.MethodGet, nil
			delete(h.hdr, "Content-Type")
		}
		if next.Host != u.Host {
			delete(h.hdr, "Authorization")
			delete(h.hdr, "Cookie")
		}
		u = next
	}
	now := res.end // checks are judged on the response that just ended: the same reading
	failed := res.err != nil
	if failed {
		h.emitSpan(now, metrics.Errors, hs.tags, res.status, res.kind, res.span)
	}
	// k6's expected_response: the status decides http_req_failed, a failed check counts in
	// checks only (unless fail_on_check)
	statusOK := plan.StatusExpected(hs.expected, res.status)
	if err := h.decode(hs, &res); err != nil {
		// a body that says gzip and is not: the checks reading it fail, as on a browser
		res.body = nil
		h.emitAt(now, metrics.Errors, 1, hs.tags, res.status, "gzip")
	}
	var doc jsonpath.Doc
	for _, c := range hs.checks {
		// a request that got no response fails every check, as the status it has (0) would
		ok := res.err == nil && c.eval(&res, &doc)
		b := 0.0
		if ok {
			b = 1
		} else if ps.FailOnCheck {
			failed = true
		}
		h.emitAt(now, metrics.Checks, b, hs.tags, 0, c.pc.Name)
	}
	if !statusOK {
		failed = true
	}
	f := 0.0
	if failed {
		f = 1
	}
	h.emitAt(now, metrics.HTTPReqFailed, f, hs.tags, res.status, "")
	for _, c := range ps.Captures {
		val, ok := "", false
		if res.err == nil {
			val, ok = h.captureHTTP(c, &res, &doc, u)
		}
		if ok {
			h.rt.Captures[c.Name] = val
		} else if c.Required {
			// After a failed request the missing capture is its consequence: the request's
			// errors sample already counts this failure.
			return &step.Error{Label: "capture " + c.Name + " missing", Reported: res.err != nil}
		}
	}
	return nil
}

type redirectError struct{}

func (redirectError) Error() string { return "too many redirects" }

var errTooManyRedirects error = redirectError{}

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// send makes one request and emits its samples: http_reqs when the request left the machine
// (it had a connection and its write began), the timing samples only when a response came
// (a refused, reset, timed-out or cut request has no latency, so a p95 gate cannot pass on
// failures), bytes when any moved. Each attempt net/http resent before this one is emitted as
// a failed request of its own. The first request of an open-model iteration carries the
// iteration's schedule lag in http_req_duration. http:// and https:// requests take the
// HTTP/1.1 fast path (fasthttp.go); HTTP/2 targets and the rest go through net/http.
func (h *httpState) send(ctx context.Context, hs *httpStep, method string, u *url.URL, body []byte) response {
	inBefore, outBefore := h.in.Load(), h.out.Load()
	var rtr reqTrace
	if hs.trace != nil { // tracing off costs this check
		rtr = h.startTrace(hs.trace)
	}
	var (
		res        response
		err, cause error
		start, end int64
		resends    []string // only net/http resends behind our back; the fast path never does
	)
	if f := &h.fast; !hs.proxied && f.useFast(u, hs.target) {
		start = mono()
		if rtr.on && hs.debug != nil {
			h.tr.Own(h.hdr, hs.trace) // a debugger may keep the header
		}
		res, err = h.roundTripFast(hs, method, u, body, start)
		end = res.end
		if h2, ok := err.(*h1.H2Error); ok {
			// The server chose HTTP/2: nothing was sent; net/http sends the request on the
			// connection just negotiated, and serves this target for this VU from now on.
			if rtr.on {
				h.tr.Own(h.hdr, hs.trace) // HPACK keeps header strings
			}
			ft := f.trace
			h.handOver(hs.target, f.addr, h2.Conn)
			res, cause, _, end, err = h.roundTripStd(hs, method, u, body)
			resends = h.takeResends()
			h.keepDialPhases(&ft)
		}
	} else {
		if rtr.on {
			h.tr.Own(h.hdr, hs.trace) // net/http and HTTP/2 may keep header strings (HPACK)
		}
		res, cause, start, end, err = h.roundTripStd(hs, method, u, body)
		resends = h.takeResends()
	}
	t := &h.times
	res.sent = t.gotConn.Load() != 0
	if err != nil {
		res.err = err
		if ctx.Err() != nil {
			res.interrupted, res.kind = true, "interrupted"
		} else {
			res.kind = errorKind(err, cause)
		}
	}
	res.service = time.Duration(end - start)
	res.end = end
	dur := res.service + h.vu.TakeLag()

	now := end // the end-of-response reading is the samples' time
	tags, st := hs.tags, res.status
	for _, kind := range resends {
		h.emitAt(now, metrics.HTTPReqs, 1, tags, 0, "")
		h.emitAt(now, metrics.HTTPReqFailed, 1, tags, 0, "")
		h.emitAt(now, metrics.Errors, 1, tags, 0, kind)
		h.emitAt(now, metrics.HTTPReqUnanswered, 1, tags, 0, "")
	}
	if res.sent {
		h.emitAt(now, metrics.HTTPReqs, 1, tags, st, "")
	}
	if err != nil && !res.interrupted {
		// No latency, but not forgotten: a latency threshold ranks it above every response, so a
		// p(95) gate cannot pass against a target that stopped answering. A request an interrupt
		// cut was cut by us, not left unanswered by the server.
		h.emitAt(now, metrics.HTTPReqUnanswered, 1, tags, st, "")
	}
	var ph [6]float64
	if err == nil || rtr.on {
		ph = h.phases(end)
	}
	var ts *metrics.TraceSpan // the request's span when it is traced and sampled or failed
	if rtr.on && (rtr.sampled || err != nil || !plan.StatusExpected(hs.expected, st)) {
		var p32 [6]float32
		for i, v := range ph {
			p32[i] = float32(v)
		}
		ts = h.tr.Span(rtr.id, rtr.sampled, monoBaseWall+start, res.kind, p32)
	}
	if err == nil {
		h.vu.Emit(metrics.Sample{Metric: metrics.HTTPReqDuration, Time: monoBaseWall + now, Value: step.Millis(dur), Tags: tags,
			Status: st, Span: ts})
		h.emitAt(now, metrics.HTTPReqServiceTime, step.Millis(res.service), tags, st, "")
		h.emitAt(now, metrics.HTTPReqBlocked, ph[0], tags, st, "")
		h.emitAt(now, metrics.HTTPReqConnecting, ph[1], tags, st, "")
		h.emitAt(now, metrics.HTTPReqTLSHandshaking, ph[2], tags, st, "")
		h.emitAt(now, metrics.HTTPReqSending, ph[3], tags, st, "")
		h.emitAt(now, metrics.HTTPReqWaiting, ph[4], tags, st, "")
		h.emitAt(now, metrics.HTTPReqReceiving, ph[5], tags, st, "")
	} else {
		res.span = ts // no response: do hangs it on the request's errors sample
	}
	sent, recv := h.out.Load()-outBefore, h.in.Load()-inBefore
	if res.sent || sent > 0 || recv > 0 {
		h.emitAt(now, metrics.DataSent, float64(sent), tags, st, "")
		h.vu.Emit(metrics.Sample{Metric: metrics.DataReceived, Time: monoBaseWall + now, Value: float64(recv),
			Tags: tags, Status: st, BodyBytes: uint32(min(res.bodyLen, math.MaxUint32))})
	}
	return res
}

// roundTripStd makes one request through the VU's net/http client (HTTP/2, URLs with user
// info, the fast path switched off): the VU's request context (inflight) carries the trace and
// the step timeout's cancel cause. cause is that context's cancel cause (errStepTimeout for a
// step timeout).
func (h *httpState) roundTripStd(hs *httpStep, method string, u *url.URL, body []byte) (res response, cause error, start, end int64, err error) {
	if h.useH2(hs.target, u) {
		return h.roundTripH2(hs, method, u, body) // the VU's own HTTP/2 client (h2.go)
	}
	client := h.client(hs.target)
	p := h.inflight()
	h.times.reset()
	h.readErr.Store(nil)
	req, err := newRequest(p.ctx, method, u, h.hdr, body)
	if err != nil {
		now := mono()
		return res, nil, now, now, err
	}
	start = mono()
	p.deadline.Store(start + int64(hs.timeout))
	h.timer.Reset(hs.timeout)
	var resp *http.Response
	if u.User == nil {
		// The transport itself, with the jar done here as http.Client does it: the client's
		// header copier, URL clone and error wrapping cost four allocations per request, for
		// redirects that do() follows itself. User info in the URL needs the client (basic auth).
		h.addCookies(u)
		if resp, err = client.Transport.RoundTrip(req); err == nil {
			h.storeCookies(u, resp.Header)
		}
	} else {
		resp, err = client.Do(req)
	}
	if err == nil {
		res.bodyLen, err = h.readBody(resp.Body, hs.needBody)
		resp.Body.Close()
		res.status, res.header = resp.StatusCode, resp.Header
		if len(hs.ps.Captures) > 0 {
			res.cookies = resp.Cookies()
		}
	}
	end = mono()
	h.timer.Stop()
	p.deadline.Store(0)
	if hs.needBody {
		res.body = h.body
	}
	return res, context.Cause(p.ctx), start, end, err
}

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
