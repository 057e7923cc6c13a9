package httpstep

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// monoBase anchors the monotonic timestamps of request tracing; monoBaseWall is its wall time
// in Unix ns, so that a sample's time is derived from a mono() reading already taken (wall =
// monoBaseWall + mono) instead of reading the clock again: one reading per phase boundary,
// shared by the trace, the latency and the sample. Sample times are thus on the monotonic
// timeline of the process, unmoved by a wall-clock step during the run.
var (
	monoBase     = time.Now()
	monoBaseWall = monoBase.UnixNano()
)

func mono() int64 { return int64(time.Since(monoBase)) }

// errStepTimeout is the cancel cause of a request that ran past its step's timeout.
var errStepTimeout = errors.New("step timeout")

// traceTimes are the httptrace events of the request in flight, in mono() ns. They are atomics
// because the transport may call the hooks from its own goroutines (dial, write loop).
//
// gotConn != 0 after a round trip means the request had a connection and its write began: it
// left the machine and is an http_reqs sample, answered or not. A request that failed before
// (dial refused, DNS, too many open files, TLS handshake) never did.
type traceTimes struct {
	getConn, connectStart, connectDone, tlsStart, tlsDone, gotConn, wrote, firstByte atomic.Int64
	// attemptOut is the VU's bytes written when the current attempt got its connection; a
	// resend by net/http compares it with the bytes written since (see httpState.gotConn).
	attemptOut atomic.Int64
}

func (t *traceTimes) reset() {
	for _, a := range []*atomic.Int64{&t.getConn, &t.connectStart, &t.connectDone, &t.tlsStart, &t.tlsDone, &t.gotConn, &t.wrote, &t.firstByte, &t.attemptOut} {
		a.Store(0)
	}
}

// inflight is the VU's request context on the net/http path, with its cancel function and the
// deadline of the request in flight, read by the VU's timeout timer. One context serves every
// request until a step timeout (or the hard context) cancels it: a context per request cost an
// allocation and, worse, a lock and a map insert and delete on the run's hard context, shared by
// every VU (context.WithCancelCause registers each child with its parent).
type inflight struct {
	ctx      context.Context
	cancel   context.CancelCauseFunc
	deadline atomic.Int64 // mono() ns of the request in flight; 0 between requests
}

// inflight returns the VU's live request context, making a new one after a cancel.
func (h *httpState) inflight() *inflight {
	if p := h.cur.Load(); p != nil && p.ctx.Err() == nil {
		return p
	}
	p := &inflight{}
	p.ctx, p.cancel = context.WithCancelCause(h.ctx)
	h.cur.Store(p)
	return p
}

// dropInflight cancels the VU's request context (a new activation, or the VU leaving), so that
// the hard context it hangs from forgets it.
func (h *httpState) dropInflight() {
	if p := h.cur.Swap(nil); p != nil {
		p.cancel(nil)
	}
}

// httpState is a VU's HTTP machinery: one client (transport, keep-alive connections) per target
// like a real user's browser, one cookie jar, the request trace and reusable buffers. Owned by
// the VU goroutine except the atomics.
type httpState struct {
	vu      step.VU
	rt      *plan.Runtime  // the VU's runtime values (vu.Runtime(), fixed for the VU's life)
	targets []*step.Target // the run's targets, by index
	jar     http.CookieJar
	clients []*http.Client // by target index; built on first use
	in, out atomic.Int64   // bytes read and written on the VU's connections
	times   traceTimes
	trace   *httptrace.ClientTrace
	ctx     context.Context // the VU's hard context carrying the trace

	timer *time.Timer // per-request timeout, reused: never a timer per request
	cur   atomic.Pointer[inflight]

	fast fastState // the HTTP/1.1 fast path for http:// and https:// (fasthttp.go)
	h2   h2State   // the HTTP/2 connections of the targets whose server chose h2 (h2.go)

	// h2clients are the net/http clients of the targets whose server chose HTTP/2, for URLs
	// with user info (fasttls.go), by target index; handoff is the connection the fast path
	// negotiated h2 on, to handoffAddr, waiting for the VU's HTTP/2 client (h2.go) or the
	// dial of one of those net/http clients.
	h2clients   []*http.Client
	handoffMu   sync.Mutex // guards handoff and handoffAddr: taken on the transport's dial goroutine
	handoff     *tls.Conn
	handoffAddr string

	// readErr is the last read error on one of the VU's net/http connections: the cause of a
	// failed attempt that the transport then resends.
	readErr  atomic.Pointer[error]
	resendMu sync.Mutex // guards resends: written by the trace hook, drained by send
	resends  []string   // error kinds of the attempts net/http resent during the request in flight

	tr     *step.Trace // the VU's trace context (vu.Trace()); nil when the run traces nothing
	hdr    http.Header // request headers, refilled per request
	urlBuf []byte
	body   []byte // response body when a check or capture needs it

	gz       *gzip.Reader // reused for gzip bodies that a check or capture reads (decode)
	unzipped []byte       // their decoded bytes
}

// newState makes a VU's HTTP state when the VU is created (Kind.NewState).
func newState(vu step.VU, targets []*step.Target) step.State {
	h := &httpState{vu: vu, rt: vu.Runtime(), targets: targets, tr: vu.Trace()}
	h.jar = newTrackedJar()
	h.clients = make([]*http.Client, len(targets))
	h.hdr = make(http.Header, 8)
	mark := func(a *atomic.Int64) { a.CompareAndSwap(0, mono()) }
	h.trace = &httptrace.ClientTrace{
		GetConn:              func(string) { mark(&h.times.getConn) },
		ConnectStart:         func(string, string) { mark(&h.times.connectStart) },
		ConnectDone:          func(string, string, error) { h.times.connectDone.Store(mono()) },
		TLSHandshakeStart:    func() { mark(&h.times.tlsStart) },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { h.times.tlsDone.Store(mono()) },
		GotConn:              func(httptrace.GotConnInfo) { h.gotConn() },
		WroteRequest:         func(httptrace.WroteRequestInfo) { mark(&h.times.wrote) },
		GotFirstResponseByte: func() { mark(&h.times.firstByte) },
	}
	h.timer = time.AfterFunc(time.Hour, h.onTimeout)
	h.timer.Stop()
	return h
}

// Begin binds the trace to the VU's hard context for one activation.
func (h *httpState) Begin(hard context.Context) {
	h.dropInflight() // it hangs from the previous activation's hard context
	h.ctx = httptrace.WithClientTrace(hard, h.trace)
	h.fast.bind(len(h.targets), hard)
	h.bindH2(hard)
}

// gotConn is the GotConn hook. net/http resends an idempotent request whose reused connection
// the server closed or reset before answering (and HTTP/2 one refused by the server), within the
// same client.Do and without telling anyone; GotConn fires once per attempt. A second GotConn
// in one request therefore means the previous attempt failed: if it wrote any byte, it was a
// request of its own that left the machine, and send counts it as a failed http_reqs with its
// cause. The timing phases restart with the new attempt.
func (h *httpState) gotConn() {
	t := &h.times
	now, out := mono(), h.out.Load()
	if t.gotConn.Load() != 0 && out > t.attemptOut.Load() {
		kind := "connection lost"
		if p := h.readErr.Load(); p != nil {
			kind = errorKind(*p, nil)
		}
		h.resendMu.Lock()
		h.resends = append(h.resends, kind)
		h.resendMu.Unlock()
	}
	t.attemptOut.Store(out)
	t.wrote.Store(0)
	t.firstByte.Store(0)
	t.gotConn.Store(now)
}

// takeResends returns and clears the kinds of the attempts resent during the last request.
func (h *httpState) takeResends() []string {
	h.resendMu.Lock()
	defer h.resendMu.Unlock()
	if len(h.resends) == 0 {
		return nil
	}
	out := append([]string(nil), h.resends...)
	h.resends = h.resends[:0]
	return out
}

// onTimeout runs on the timer's goroutine: it cancels the request in flight if its deadline has
// passed (a late fire meant for an earlier request finds a later deadline and does nothing).
func (h *httpState) onTimeout() {
	if p := h.cur.Load(); p != nil {
		if d := p.deadline.Load(); d != 0 && mono() >= d {
			p.cancel(errStepTimeout)
		}
	}
}

// End closes the VU's idle connections (a user leaving); its cookie jar stays.
func (h *httpState) End() {
	h.fast.close()
	h.closeH2()
	h.dropInflight()
	for _, cs := range [][]*http.Client{h.clients, h.h2clients} {
		for _, c := range cs {
			if c != nil {
				c.CloseIdleConnections()
			}
		}
	}
	h.handoffMu.Lock()
	if h.handoff != nil {
		h.handoff.Close()
		h.handoff = nil
	}
	h.handoffMu.Unlock()
}

// client returns the VU's client for target index i, built on first use; the HTTP/2 one
// (fasttls.go) once the target's server chose h2 on the fast path.
func (h *httpState) client(i int) *http.Client {
	if f := h.fast.h2; f != nil && f[i] {
		return h.h2Client(i)
	}
	if c := h.clients[i]; c != nil {
		return c
	}
	d := newDialer()
	c := h.newClient(&http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return h.counted(c), nil
		},
		// a copy per transport: HTTP/2 setup writes NextProtos into it
		TLSClientConfig: h.targets[i].TLS.Clone(),
		Proxy:           proxyFunc(h.targets[i]),
	})
	h.clients[i] = c
	return c
}

// newDialer is the dialer of the VU's net/http clients.
func newDialer() *net.Dialer {
	return &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
}

// newClient completes tr, which only says how to dial, with what every net/http client of a VU
// shares (HTTP/2 through ALPN on TLS targets, pool sizes, timeouts) and wraps it in a client with
// the VU's cookie jar. Redirects are followed by the step (do) so that every hop is counted as
// a request.
func (h *httpState) newClient(tr *http.Transport) *http.Client {
	tr.ForceAttemptHTTP2 = true
	// Accept-Encoding is the step's (compression), sent and decoded alike on every path: the
	// transport's own gzip would decode bodies nobody reads and hide their size on the wire.
	tr.DisableCompression = true
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 8, 2
	tr.IdleConnTimeout, tr.TLSHandshakeTimeout = 90*time.Second, 10*time.Second
	return &http.Client{
		Transport:     tr,
		Jar:           h.jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// counted wraps a connection a VU's net/http client dialled so that its bytes and last read
// error are counted (countConn).
func (h *httpState) counted(c net.Conn) *countConn {
	return &countConn{Conn: c, in: &h.in, out: &h.out, readErr: &h.readErr}
}

// countConn counts the bytes a VU's connection carries (data_sent, data_received) and, when
// readErr is set, keeps the last read error (the cause of an attempt net/http resends).
type countConn struct {
	net.Conn
	in, out *atomic.Int64
	readErr *atomic.Pointer[error]
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	if err != nil && c.readErr != nil {
		e := err // a copy: &err would put err on the heap for every Read, not just the failed ones
		c.readErr.Store(&e)
	}
	return n, err
}

// Count adds bytes the fast path moved on the socket directly (h1.CountingConn): its plain
// requests are written, and their responses' first bytes read, below this wrapper.
func (c *countConn) Count(in, out int) {
	c.in.Add(int64(in))
	c.out.Add(int64(out))
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

// readBody reads the whole body, keeping it in h.body only when keep is set.
func (h *httpState) readBody(r io.Reader, keep bool) (int64, error) {
	if keep {
		h.body = h.body[:0]
		for {
			if len(h.body) == cap(h.body) {
				h.body = append(h.body, 0)[:len(h.body)]
			}
			n, err := r.Read(h.body[len(h.body):cap(h.body)])
			h.body = h.body[:len(h.body)+n]
			if err == io.EOF {
				return int64(len(h.body)), nil
			}
			if err != nil {
				return int64(len(h.body)), err
			}
		}
	}
	// io.Discard reads through a pooled buffer: no per-VU scratch memory for idle users.
	return io.Copy(io.Discard, r)
}

// errorKind classifies a transport error into a short, fixed label for the errors metric.
func errorKind(err, cause error) string {
	var dnsErr *net.DNSError
	var ne net.Error
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var h2e *h2Error
	switch {
	case errors.Is(cause, errStepTimeout):
		return "timeout"
	case errors.As(err, &h2e):
		return h2e.kind // stream refused, stream reset, goaway, protocol error
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		// the process (EMFILE) or the system (ENFILE) ran out of file descriptors: the request
		// never left the machine; raise `ulimit -n` or lower the VUs
		return "too many open files"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to host"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.As(err, &certErr), errors.As(err, &recErr):
		return "tls"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "request error"
}

// emitAt records one sample of the VU that ended at at, a mono() reading.
func (h *httpState) emitAt(at int64, m metrics.Metric, value float64, tags *metrics.Tags, status int, label string) {
	h.vu.Emit(metrics.Sample{Metric: m, Time: monoBaseWall + at, Value: value, Tags: tags, Status: status, Label: label})
}

// noteConn reports the outcome of one request to target index t to the VU (step.VU.ConnResult)
// for its backoff and the target's reachability: a response clears both, a connection failure
// counts in both, any other error (a reset or a timeout after connecting) in neither — the
// target was reached.
func (h *httpState) noteConn(t int, err error) {
	if err == nil {
		h.vu.ConnResult(t, true, "")
		return
	}
	if cause, ok := step.ConnCause(err); ok {
		h.vu.ConnResult(t, false, cause)
	}
}
