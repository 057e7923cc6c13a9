package httpstep

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/loadplan/loadplan/internal/h1"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2conn is one HTTP/2 connection of a VU, driven by the VU's goroutine: one stream at a time,
// as a VU makes one request at a time, written and read in the goroutine that asked for it. The
// frames and the header compression are x/net/http2's (Framer, hpack); only the client's state
// machine is ours: no read-loop goroutine, no goroutine, channels and context per request, no
// connection pool, and no retry — a request that the server refuses (REFUSED_STREAM, or a
// GOAWAY naming an earlier stream) is one failed request, as on the HTTP/1.1 fast path, where
// net/http's HTTP/2 client resends it unseen. Measured figures are in h2.go.
type h2conn struct {
	conn net.Conn
	addr string
	bw   *bufio.Writer
	fr   *http2.Framer
	hbuf bytes.Buffer
	henc *hpack.Encoder
	// lower caches the lowercase form of the plan's header names (HTTP/2 sends them lowercase).
	lower map[string]string

	nextID       uint32
	connWin      int64  // what we may still send on the connection
	peerInitWin  int64  // the server's SETTINGS_INITIAL_WINDOW_SIZE for new streams
	streamWin    int64  // what we may still send on the stream in flight
	maxFrame     uint32 // the server's SETTINGS_MAX_FRAME_SIZE
	connUnacked  int64  // DATA bytes received and not yet given back with a WINDOW_UPDATE
	streamUnackd int64

	br   *bufio.Reader
	last int64 // mono() when the last request ended: an idle connection is probed first

	goaway bool // the server sent GOAWAY: no new stream on this connection
	broken bool // an error, a timeout or an abort left the connection unusable

	mu      sync.Mutex // guards aborted, set from the hard context's goroutine
	aborted bool
}

// The windows this client opens: large, so that a response's DATA almost never waits for a
// WINDOW_UPDATE and one is written only after half of it was used.
const (
	h2RecvWindow = 1 << 30
	h2MaxHeaders = 10 << 20 // the response header list size net/http accepts
)

// errH2Aborted ends a request the run's hard context cut (send names it interrupted).
var errH2Aborted = errors.New("http2: request aborted")

// h2Error is a request that the server's HTTP/2 frames failed: a reset stream, a GOAWAY that
// left it unprocessed, a protocol error. kind is its label in the errors metric.
type h2Error struct {
	kind string
	code http2.ErrCode
}

func (e *h2Error) Error() string { return "http2: " + e.kind + " (" + e.code.String() + ")" }

// newH2conn starts HTTP/2 on conn, a TLS connection on which the server chose h2 and nothing
// was written: the client preface, our settings (no push, our windows) and the connection's
// window update go out with the first request.
func newH2conn(conn net.Conn, addr string) *h2conn {
	c := &h2conn{conn: conn, addr: addr, nextID: 1, connWin: 65535, peerInitWin: 65535, maxFrame: 16384,
		lower: make(map[string]string)}
	c.bw = bufio.NewWriterSize(conn, 4096)
	c.br = bufio.NewReaderSize(conn, 4096)
	c.fr = http2.NewFramer(c.bw, c.br)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = h2MaxHeaders
	c.fr.SetReuseFrames()
	c.henc = hpack.NewEncoder(&c.hbuf)
	c.bw.WriteString(http2.ClientPreface)
	c.fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2RecvWindow},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: h2MaxHeaders})
	c.fr.WriteWindowUpdate(0, h2RecvWindow-65535)
	return c
}

// h2IdleProbe is how long a connection may stay idle before it is probed (h1.Alive) ahead of
// a request: as internal/h1's IdleProbe on the fast path. Bytes on an idle HTTP/2 connection are
// almost always the server's GOAWAY before its close; a request written there would be lost, so
// the connection is replaced before anything is written to it.
const h2IdleProbe = int64(100 * time.Millisecond)

// usable reports whether a new request may start on c at now (mono).
func (c *h2conn) usable(now int64) bool {
	if c.goaway || c.broken || c.nextID >= 1<<31-1 || c.isAborted() {
		return false
	}
	if c.last != 0 && now-c.last >= h2IdleProbe {
		return c.br.Buffered() == 0 && h1.Alive(c.conn)
	}
	return true
}

func (c *h2conn) isAborted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.aborted
}

// abort makes the request in flight fail at once (any goroutine).
func (c *h2conn) abort() {
	c.mu.Lock()
	c.aborted = true
	_ = c.conn.SetDeadline(time.Unix(1, 0))
	c.mu.Unlock()
}

// h2req is one request for h2conn.do.
type h2req struct {
	method, scheme, authority, path string
	header                          http.Header
	body                            []byte
	deadline                        time.Time
	keepBody, fullHeader            bool
}

// h2resp is what do read: the status, the header (every field when fullHeader, otherwise only
// Set-Cookie, Location and Content-Encoding, as the HTTP/1.1 fast path's lean heads) and the
// body when kept. wrote and firstByte are the clock readings of the trace.
type h2resp struct {
	status           int
	header           http.Header
	body             []byte
	bodyLen          int64 // the DATA frames' bytes, kept or not
	wrote, firstByte int64
}

// do sends r on a new stream and reads its response into resp. wrote reports that the request
// was written (the connection took it: an http_reqs sample whatever follows). After an error
// other than a stream's own (reset, refused), c is broken: the caller closes it.
func (c *h2conn) do(r *h2req, resp *h2resp) (wrote bool, err error) {
	c.mu.Lock()
	if c.aborted {
		c.mu.Unlock()
		return false, errH2Aborted
	}
	err = c.conn.SetDeadline(r.deadline) // under mu: an abort cannot be overwritten
	c.mu.Unlock()
	if err != nil {
		c.broken = true
		return false, err
	}
	if err = c.encodeHeader(r); err != nil {
		return false, err // nothing written: the connection stays good
	}
	id := c.nextID
	c.nextID += 2
	c.streamWin, c.streamUnackd = c.peerInitWin, 0
	wrote = true
	if err = c.writeRequest(id, r); err == nil {
		resp.wrote = mono()
		err = c.readResponse(id, r, resp)
	}
	if err != nil {
		var he *h2Error
		if !errors.As(err, &he) || he.kind == "protocol error" {
			c.broken = true
		}
		if c.isAborted() {
			c.broken = true
			err = errH2Aborted
		}
	}
	return wrote, err
}

// encodeHeader renders r's header block into c.hbuf, checking the plan's fields as HTTP/1.1
// does (no CR, LF or NUL), so that nothing invalid is sent.
func (c *h2conn) encodeHeader(r *h2req) error {
	c.hbuf.Reset()
	e := c.henc
	e.WriteField(hpack.HeaderField{Name: ":method", Value: r.method})
	e.WriteField(hpack.HeaderField{Name: ":scheme", Value: r.scheme})
	e.WriteField(hpack.HeaderField{Name: ":authority", Value: r.authority})
	e.WriteField(hpack.HeaderField{Name: ":path", Value: r.path})
	if _, ok := r.header["User-Agent"]; !ok {
		e.WriteField(hpack.HeaderField{Name: "user-agent", Value: "Go-http-client/2.0"})
	}
	for k, vs := range r.header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer", "Connection", "Keep-Alive",
			"Proxy-Connection", "Upgrade", "Te":
			continue // framing and hop-by-hop fields are the connection's, as in net/http
		}
		name, ok := c.lower[k]
		if !ok {
			if !http2ValidField(k) {
				return errInvalidH2Header
			}
			name = strings.ToLower(k)
			if len(c.lower) < 64 {
				c.lower[k] = name
			}
		}
		for _, v := range vs {
			if !http2ValidField(v) {
				return errInvalidH2Header
			}
			e.WriteField(hpack.HeaderField{Name: name, Value: v, Sensitive: name == "authorization" || name == "cookie" && len(v) < 20})
		}
	}
	if r.body != nil && (len(r.body) > 0 || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
		e.WriteField(hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(r.body))})
	}
	return nil
}

var errInvalidH2Header = errors.New("http2: invalid header field (CR, LF or NUL)")

func http2ValidField(s string) bool {
	return strings.IndexByte(s, '\r') < 0 && strings.IndexByte(s, '\n') < 0 && strings.IndexByte(s, 0) < 0
}

// writeRequest writes the stream's HEADERS (and CONTINUATION) and its body as DATA within the
// server's windows, waiting for WINDOW_UPDATEs when they are spent.
func (c *h2conn) writeRequest(id uint32, r *h2req) error {
	block := c.hbuf.Bytes()
	end := len(r.body) == 0
	max := int(c.maxFrame)
	first := block
	if len(first) > max {
		first = block[:max]
	}
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: first,
		EndStream: end, EndHeaders: len(first) == len(block)}); err != nil {
		return err
	}
	for rest := block[len(first):]; len(rest) > 0; {
		n := min(len(rest), max)
		if err := c.fr.WriteContinuation(id, n == len(rest), rest[:n]); err != nil {
			return err
		}
		rest = rest[n:]
	}
	for body := r.body; len(body) > 0; {
		n := int64(min(len(body), max))
		n = min(n, c.connWin, c.streamWin)
		if n <= 0 {
			if err := c.bw.Flush(); err != nil {
				return err
			}
			if err := c.readControl(id); err != nil {
				return err
			}
			continue
		}
		if err := c.fr.WriteData(id, int(n) == len(body), body[:n]); err != nil {
			return err
		}
		c.connWin -= n
		c.streamWin -= n
		body = body[n:]
	}
	return c.bw.Flush()
}

// readControl reads one frame while the request waits for window. A response that comes
// before the body is sent (the server refusing to read the rest) ends the request as a reset
// stream: the frame cannot be kept for the response reader.
func (c *h2conn) readControl(id uint32) error {
	f, err := c.fr.ReadFrame()
	if err != nil {
		return err
	}
	if done, err := c.control(f, id); done || err != nil {
		return err
	}
	if _, ok := f.(*http2.MetaHeadersFrame); ok && f.Header().StreamID == id {
		return &h2Error{kind: "stream reset", code: http2.ErrCodeCancel}
	}
	return nil
}

// control handles a frame that is not the response's HEADERS or DATA: settings, pings, window
// updates, GOAWAY and a reset of our stream (done, with its error). Frames of older streams
// (the late answer to a request that timed out) only give their flow-control window back.
func (c *h2conn) control(f http2.Frame, id uint32) (done bool, err error) {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if f.IsAck() {
			return false, nil
		}
		err := f.ForeachSetting(func(s http2.Setting) error {
			switch s.ID {
			case http2.SettingInitialWindowSize:
				delta := int64(s.Val) - c.peerInitWin
				c.peerInitWin = int64(s.Val)
				c.streamWin += delta
			case http2.SettingMaxFrameSize:
				c.maxFrame = s.Val
			}
			return nil
		})
		if err != nil {
			return true, err
		}
		if err := c.fr.WriteSettingsAck(); err != nil {
			return true, err
		}
		return false, c.bw.Flush()
	case *http2.PingFrame:
		if f.IsAck() {
			return false, nil
		}
		if err := c.fr.WritePing(true, f.Data); err != nil {
			return true, err
		}
		return false, c.bw.Flush()
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			c.connWin += int64(f.Increment)
		} else if f.StreamID == id {
			c.streamWin += int64(f.Increment)
		}
	case *http2.GoAwayFrame:
		c.goaway = true
		if id > f.LastStreamID {
			// Not processed by the server (RFC 9113 6.8): net/http would resend it unseen.
			return true, &h2Error{kind: "goaway", code: f.ErrCode}
		}
	case *http2.RSTStreamFrame:
		if f.StreamID == id {
			kind := "stream reset"
			if f.ErrCode == http2.ErrCodeRefusedStream {
				kind = "stream refused"
			}
			return true, &h2Error{kind: kind, code: f.ErrCode}
		}
	case *http2.DataFrame:
		return false, c.giveBack(int64(f.Length), 0)
	case *http2.PushPromiseFrame:
		return true, &h2Error{kind: "protocol error", code: http2.ErrCodeProtocol} // push is off
	}
	return false, nil
}

// giveBack accounts n bytes of received DATA on the connection (and on stream id when not 0)
// and writes WINDOW_UPDATEs once half a window is used.
func (c *h2conn) giveBack(n int64, id uint32) error {
	c.connUnacked += n
	if id != 0 {
		c.streamUnackd += n
	}
	flush := false
	if c.connUnacked >= h2RecvWindow/2 {
		if err := c.fr.WriteWindowUpdate(0, uint32(c.connUnacked)); err != nil {
			return err
		}
		c.connUnacked, flush = 0, true
	}
	if c.streamUnackd >= h2RecvWindow/2 {
		if err := c.fr.WriteWindowUpdate(id, uint32(c.streamUnackd)); err != nil {
			return err
		}
		c.streamUnackd, flush = 0, true
	}
	if flush {
		return c.bw.Flush()
	}
	return nil
}
