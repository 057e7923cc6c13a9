package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Request is one request. Header holds the headers to send besides Host, User-Agent (sent as
// "Go-http-client/1.1" when Header has none, as net/http does) and Content-Length.
type Request struct {
	Method   string
	Addr     string // host:port to dial
	Host     string // Host header (the URL's host)
	URI      string // request target: path and query, e.g. "/api/items?id=1"
	Header   http.Header
	Body     []byte // nil for none
	Deadline time.Time
	// TLS, when set, is the configuration of an https request: the connection is
	// tls.Client(conn, TLS) and is reused only by requests with the same *tls.Config. Its
	// ServerName must be set (or InsecureSkipVerify); NextProtos decides ALPN, and a server
	// choosing "h2" ends Do with an *H2Error handing the connection over.
	TLS *tls.Config
	// Lean leaves Response.Header with only Set-Cookie, Location and Content-Encoding, the
	// fields a client acts on; the framing fields are read into fixed fields and every other field is checked and
	// skipped. For callers that read no header: a header map per response costs more than the
	// rest of the head (see the package doc).
	Lean bool
	// Start is the Clock reading the caller took when the request began (Trace.GetConn); 0
	// reads the Clock. One reading per phase boundary, shared by every consumer.
	Start int64
}

// Response is the response to a Request. Header is owned by the Client and reused by the next
// request; Body is the caller's buffer, appended to only when Do is asked to keep the body.
type Response struct {
	Status int
	Proto  string // "HTTP/1.1" or "HTTP/1.0"
	Header http.Header
	Body   []byte
	// BodyLen is the length of the body read (decoded from chunks), kept or not: the content
	// size Locust's files report.
	BodyLen int64
}

// Trace receives the phase timestamps of one round trip, from the Client's Clock. A zero value
// means the phase did not happen (no dial on a reused connection). GotConn is set once the
// request has its connection, just before it is written: a failed request with GotConn 0 never
// left the machine (refused dial, invalid header, abort before the connection).
// TLSStart and TLSDone bracket the TLS handshake of a new https connection. Done is when the
// response's last byte was read: the one reading the caller uses as the request's end.
type Trace struct {
	GetConn, ConnectStart, ConnectDone, TLSStart, TLSDone, GotConn, Wrote, FirstByte, Done int64
}

// Client is one keep-alive connection to whatever address the last request went to.
type Client struct {
	// Dial opens a connection; nil uses a net.Dialer with a 30 s timeout.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Clock returns a monotonic time in ns for Trace; nil uses time since the Client's first use.
	Clock func() int64
	// ReadBufferSize is the size of the connection's read buffer (default 2048). Longer header
	// lines are still read.
	ReadBufferSize int
	// IdleProbe: a connection idle for longer is checked before reuse (a peek that never waits),
	// so that one the server closed meanwhile is replaced before anything is written to it.
	// Default 500 ms.
	IdleProbe time.Duration

	mu      sync.Mutex // guards conn and aborted against Abort from another goroutine
	conn    net.Conn   // raw, or the *tls.Conn over it
	aborted bool

	raw    net.Conn      // the dialled connection under conn, probed when idle
	addr   string        // address conn is connected to
	tlsCfg *tls.Config   // conn's TLS configuration, nil for plain TCP
	br     *bufio.Reader // reads w
	w      wire
	wbuf   []byte
	line   []byte // scratch for header lines longer than the read buffer
	last   int64  // Clock time the last response ended
	header http.Header
	te     []string // the Transfer-Encoding values frame took out of header, reused (response.go)
	fixed  fields   // the framing fields of a Lean head, their slices reused (response.go)
	base   time.Time
}

// ErrAborted is returned by Do after Abort.
var ErrAborted = errors.New("h1: aborted")

// errInvalidHeader is a header name or value that would break the request framing.
var errInvalidHeader = errors.New("h1: invalid header field (CR, LF or NUL)")

func (c *Client) now() int64 {
	if c.Clock != nil {
		return c.Clock()
	}
	if c.base.IsZero() {
		c.base = time.Now()
	}
	return int64(time.Since(c.base))
}

// Abort makes the request in flight, and every later one, fail at once with ErrAborted. It is
// safe from any goroutine (the executor calls it when the run's hard context ends).
func (c *Client) Abort() {
	c.mu.Lock()
	c.aborted = true
	if c.conn != nil {
		_ = c.conn.SetDeadline(time.Unix(1, 0))
	}
	c.mu.Unlock()
}

// Reset clears an earlier Abort, for a Client reused in a new activation.
func (c *Client) Reset() {
	c.mu.Lock()
	c.aborted = false
	c.mu.Unlock()
}

// Close closes the connection (a user leaving, or an idle connection let go).
func (c *Client) Close() error {
	c.mu.Lock()
	conn := c.conn
	c.conn = nil
	c.mu.Unlock()
	if conn != nil {
		return conn.Close()
	}
	return nil
}

// Do sends req and reads the response into resp. keepBody appends the body to resp.Body;
// otherwise it is read and dropped. tr (may be nil) receives the phase timestamps. ctx is used
// only to dial; cancel in-flight requests with Abort and bound them with req.Deadline.
func (c *Client) Do(ctx context.Context, req *Request, resp *Response, keepBody bool, tr *Trace) error {
	var scratch Trace
	if tr == nil {
		tr = &scratch
	}
	start := req.Start
	if start == 0 {
		start = c.now()
	}
	*tr = Trace{GetConn: start}
	if err := c.writeRequest(req); err != nil {
		return err
	}
	ready, err := c.connect(ctx, req, tr)
	if err != nil {
		return err
	}
	if ready {
		// Nothing happened since GetConn but rendering the request, which is part of sending
		// it: one clock reading serves both boundaries (the sending phase starts at GetConn).
		tr.GotConn = start
	} else {
		tr.GotConn = c.now()
	}
	if err := c.roundTrip(req, resp, keepBody, tr); err != nil {
		c.Close()
		if c.isAborted() {
			return ErrAborted
		}
		// No resend, ever: a request written to a reused connection that the server then
		// resets or closes is one failed request with its cause. net/http (and k6 on top of it)
		// silently resends an idempotent one on a new connection, so the server counts two
		// requests where the client reports one; a load tester must report what it sent. The
		// idle probe in connect replaces most connections the server closed before anything
		// is written to them, which is the case a resend would have hidden.
		return err
	}
	return nil
}

func (c *Client) isAborted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.aborted
}

// connect makes sure a connection to req.Addr is open; ready reports that it was, recently
// used, so that it cost neither a probe nor a dial.
func (c *Client) connect(ctx context.Context, req *Request, tr *Trace) (ready bool, err error) {
	c.mu.Lock()
	if c.aborted {
		c.mu.Unlock()
		return false, ErrAborted
	}
	probe := c.IdleProbe
	if probe <= 0 {
		probe = 500 * time.Millisecond
	}
	if c.conn != nil && c.addr == req.Addr && c.tlsCfg == req.TLS && c.br.Buffered() == 0 {
		// Under mu, so that an Abort cannot be overwritten by this deadline. The deadline is set
		// before the probe: an expired one from the previous request would fail the peek.
		conn := c.conn
		err := conn.SetDeadline(req.Deadline)
		c.mu.Unlock()
		if err == nil && tr.GetConn-c.last < int64(probe) {
			return true, nil
		}
		if err == nil && Alive(c.raw) {
			return false, nil // probed: the probe's time is the request's blocked phase
		}
		c.Close()
	} else {
		stale := c.conn != nil
		c.mu.Unlock()
		if stale {
			c.Close() // another address, or unexpected bytes from the server: start afresh
		}
	}
	dial := c.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		dial = d.DialContext
	}
	tr.ConnectStart = c.now()
	dctx := ctx
	if !req.Deadline.IsZero() {
		var cancel context.CancelFunc
		dctx, cancel = context.WithDeadline(ctx, req.Deadline)
		defer cancel()
	}
	raw, err := dial(dctx, "tcp", req.Addr)
	tr.ConnectDone = c.now()
	if err != nil {
		return false, err
	}
	if err := raw.SetDeadline(req.Deadline); err != nil {
		raw.Close()
		return false, err
	}
	conn := raw
	if req.TLS != nil {
		tr.TLSStart = tr.ConnectDone
		conn, err = handshake(dctx, raw, req.TLS)
		tr.TLSDone = c.now()
		if err != nil {
			return false, err
		}
	}
	c.mu.Lock()
	if c.aborted {
		c.mu.Unlock()
		conn.Close()
		return false, ErrAborted
	}
	c.conn = conn
	c.mu.Unlock()
	c.raw, c.addr, c.tlsCfg = raw, req.Addr, req.TLS
	size := c.ReadBufferSize
	if size <= 0 {
		size = 2048
	}
	c.w.reset(conn, raw, req.TLS != nil, c.now)
	if c.br == nil || c.br.Size() != max(size, 16) {
		c.br = bufio.NewReaderSize(&c.w, size)
	} else {
		c.br.Reset(&c.w)
	}
	return false, nil
}

// writeRequest renders the request into c.wbuf.
func (c *Client) writeRequest(req *Request) error {
	b := append(c.wbuf[:0], req.Method...)
	b = append(b, ' ')
	if req.URI == "" {
		b = append(b, '/')
	} else {
		b = append(b, req.URI...)
	}
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, req.Host...)
	b = append(b, "\r\n"...)
	if _, ok := req.Header["User-Agent"]; !ok {
		b = append(b, "User-Agent: Go-http-client/1.1\r\n"...)
	}
	for k, vs := range req.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue // framing is ours, as in net/http
		}
		if !validField(k) {
			return errInvalidHeader
		}
		for _, v := range vs {
			if !validField(v) {
				return errInvalidHeader
			}
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	if req.Body != nil && (len(req.Body) > 0 || needsLength(req.Method)) {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(req.Body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, req.Body...)
	c.wbuf = b
	return nil
}

// roundTrip writes the rendered request and reads the response.
func (c *Client) roundTrip(req *Request, resp *Response, keepBody bool, tr *Trace) error {
	if c.w.rc != nil {
		// Plain TCP: the first read writes the request and waits for the response (wire).
		c.w.out, c.w.wrote = c.wbuf, 0
		_, err := c.br.Peek(1)
		tr.Wrote = c.w.wrote
		if err != nil {
			return err
		}
	} else {
		if _, err := c.conn.Write(c.wbuf); err != nil {
			return err
		}
		tr.Wrote = c.now()
		if _, err := c.br.Peek(1); err != nil {
			return err
		}
	}
	tr.FirstByte = c.now()
	closeAfter, err := c.readResponse(req, resp, keepBody)
	if err != nil {
		return err
	}
	c.last = c.now()
	tr.Done = c.last
	if closeAfter {
		c.Close()
	}
	return nil
}

// needsLength reports whether an empty body is still announced with Content-Length: 0.
func needsLength(method string) bool { return method == "POST" || method == "PUT" || method == "PATCH" }

// validField rejects what would let a value split the request: CR, LF and NUL.
func validField(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\r', '\n', 0:
			return false
		}
	}
	return true
}

// ProtocolError is a response that does not follow HTTP/1.1.
type ProtocolError struct{ What string }

func (e *ProtocolError) Error() string { return "h1: malformed response: " + e.What }

func protoErr(format string, args ...any) error {
	return &ProtocolError{What: fmt.Sprintf(format, args...)}
}
