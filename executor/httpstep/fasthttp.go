package httpstep

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/loadplan/loadplan/internal/h1"
)

// fastState is a VU's HTTP/1.1 fast path for http:// and https:// requests (internal/h1): one
// keep-alive connection per target, TLS under it for https, the round trip in the VU's
// goroutine, no per-request context, timer or allocation. A target whose server chooses HTTP/2
// through ALPN goes, for this VU, to net/http's HTTP/2 client (h2.go), which takes over the
// connection the fast path negotiated. URLs with user info and WebSocket handshakes keep
// net/http.
//
// Profiles of `make bench` showed net/http's Transport spending about twice the CPU per request
// of a plain loop (its read and write goroutines, per-request contexts and header maps); this
// path is what lets loadplan come close to wrk per CPU-second, on http and, since the TLS record
// layer costs the same under either client, on https (0.4x wrk through net/http; the figures
// are in internal/h1's package doc). Owned by the VU goroutine, except that abort runs on the
// hard context's AfterFunc goroutine (hence the atomic pointers).
type fastState struct {
	clients []atomic.Pointer[h1.Client] // by target index; built on first use
	stop    func() bool                 // unregisters the abort hook of the current activation
	req     h1.Request
	resp    h1.Response
	trace   h1.Trace
	// the last URL's request target and dial address, reused while the URL stays the same
	lastPath, lastQuery, lastHost, lastScheme, uri, addr string
	// tls is the VU's TLS configuration of each target, by index, for the host tlsHost names:
	// the target's settings, SNI, ALPN and the VU's session cache (tlsconf.go).
	tls     []*tls.Config
	tlsHost []string
	// h2 marks the targets whose server chose HTTP/2 for this VU: net/http serves them.
	h2 []bool
}

// fastDisabled turns the fast path off for every VU (tests comparing both paths).
var fastDisabled atomic.Bool

// SetFastPath turns the fast path on (the default) or off for every VU, so that tests and
// benchmarks can compare it with net/http on the same requests.
func SetFastPath(on bool) { fastDisabled.Store(!on) }

// useFast reports whether a request to u goes through the fast path: http and https URLs
// without user info, unless the target's server chose HTTP/2 for this VU.
func (f *fastState) useFast(u *url.URL, target int) bool {
	return (u.Scheme == "http" || u.Scheme == "https") && u.User == nil && !fastDisabled.Load() &&
		(f.h2 == nil || !f.h2[target])
}

// bind arms the abort hook for one activation: when hard ends, every request in flight on the
// fast path fails at once (send counts it as a request failed with error interrupted, and
// the executor its iteration in iterations_interrupted).
func (f *fastState) bind(n int, hard context.Context) {
	if f.clients == nil {
		f.clients = make([]atomic.Pointer[h1.Client], n)
	}
	if f.stop != nil {
		f.stop()
	}
	for i := range f.clients {
		if c := f.clients[i].Load(); c != nil {
			c.Reset()
		}
	}
	f.stop = context.AfterFunc(hard, func() {
		for i := range f.clients {
			if c := f.clients[i].Load(); c != nil {
				c.Abort()
			}
		}
	})
}

// close closes every fast connection and disarms the abort hook (a VU leaving).
func (f *fastState) close() {
	if f.stop != nil {
		f.stop()
		f.stop = nil
	}
	for i := range f.clients {
		if c := f.clients[i].Load(); c != nil {
			c.Close()
		}
	}
}

// client returns the VU's fast client for target index i.
func (h *httpState) fastClient(i int) *h1.Client {
	f := &h.fast
	if f.clients == nil {
		f.clients = make([]atomic.Pointer[h1.Client], len(h.targets))
	}
	if c := f.clients[i].Load(); c != nil {
		return c
	}
	d := newDialer()
	c := &h1.Client{
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &countConn{Conn: conn, in: &h.in, out: &h.out}, nil
		},
		Clock: mono,
		// A user's think time is often longer than a server's keep-alive timeout: check an
		// idle connection before writing to it (one non-blocking peek) after 100 ms.
		IdleProbe: 100 * time.Millisecond,
	}
	f.clients[i].Store(c)
	return c
}

// target returns the request target and dial address of u, reusing the last ones while the URL
// does not change (a constant URL costs no allocation).
func (f *fastState) target(u *url.URL) (uri, addr string) {
	if u.Path != f.lastPath || u.RawQuery != f.lastQuery || u.Host != f.lastHost || u.Scheme != f.lastScheme || f.uri == "" {
		f.lastPath, f.lastQuery, f.lastHost, f.lastScheme = u.Path, u.RawQuery, u.Host, u.Scheme
		f.uri = u.RequestURI()
		f.addr = u.Host
		if u.Port() == "" {
			port := "80"
			if u.Scheme == "https" {
				port = "443"
			}
			f.addr = net.JoinHostPort(u.Hostname(), port)
		}
	}
	return f.uri, f.addr
}

// roundTripFast makes one request on the fast path, begun at start (mono), and fills res
// (status, header, body, cookies, end) and the VU's trace times. It returns the transport error,
// if any; an *h1.H2Error means nothing was sent and the connection is HTTP/2's (send hands it
// over).
func (h *httpState) roundTripFast(hs *httpStep, method string, u *url.URL, body []byte, start int64) (response, error) {
	f := &h.fast
	var res response
	c := h.fastClient(hs.target)
	uri, addr := f.target(u)
	var tc *tls.Config
	if u.Scheme == "https" {
		tc = h.tlsConfig(hs.target, u)
	}
	host := u.Host
	if hv := h.hdr["Host"]; len(hv) > 0 {
		host = hv[0] // the plan's Host header, as on the net/http path
	}
	h.addCookies(u)
	// The deadline is the start reading plus the timeout: no second clock reading.
	f.req = h1.Request{Method: method, Addr: addr, Host: host, URI: uri, Header: h.hdr, Body: body,
		Deadline: monoBase.Add(time.Duration(start) + hs.timeout), TLS: tc, Lean: !hs.needHeader, Start: start}
	f.resp.Body = h.body[:0]
	err := c.Do(h.ctx, &f.req, &f.resp, hs.needBody, &f.trace)
	h.body = f.resp.Body[:0]
	t, tr := &h.times, &f.trace
	t.getConn.Store(tr.GetConn)
	t.connectStart.Store(tr.ConnectStart)
	t.connectDone.Store(tr.ConnectDone)
	t.gotConn.Store(tr.GotConn)
	t.wrote.Store(tr.Wrote)
	t.firstByte.Store(tr.FirstByte)
	t.tlsStart.Store(tr.TLSStart)
	t.tlsDone.Store(tr.TLSDone)
	res.end = tr.Done
	if err != nil {
		res.end = mono()
		return res, err
	}
	res.status, res.header, res.bodyLen = f.resp.Status, f.resp.Header, f.resp.BodyLen
	if hs.needBody {
		res.body = f.resp.Body
	}
	res.cookies = h.storeCookies(u, f.resp.Header)
	return res, nil
}

// addCookies adds the jar's cookies for u to the VU's request header, as http.Client does with
// its Jar; the jar lookup (about 3 % of a request's CPU) is skipped until a server set a cookie.
func (h *httpState) addCookies(u *url.URL) {
	if j, ok := h.jar.(*trackedJar); (!ok || j.used.Load()) && h.jar != nil {
		cs := h.jar.Cookies(u)
		r := http.Request{Header: h.hdr}
		for _, ck := range cs {
			r.AddCookie(ck)
		}
	}
}

// storeCookies stores the Set-Cookie fields of a response to u in the jar, as http.Client
// does, and returns them (nil when none).
func (h *httpState) storeCookies(u *url.URL, hdr http.Header) []*http.Cookie {
	if len(hdr["Set-Cookie"]) == 0 {
		return nil
	}
	cookies := (&http.Response{Header: hdr}).Cookies()
	if h.jar != nil {
		h.jar.SetCookies(u, cookies)
	}
	return cookies
}

// trackedJar is the VU's cookie jar; it remembers whether a cookie was ever stored, so that the
// fast path skips the jar lookup (about 3 % of a request's CPU) until a server sets a cookie.
type trackedJar struct {
	*cookiejar.Jar
	used atomic.Bool
}

func newTrackedJar() *trackedJar {
	j, _ := cookiejar.New(nil) // never fails without options
	return &trackedJar{Jar: j}
}

// SetCookies stores cookies as cookiejar.Jar does and marks the jar used.
func (j *trackedJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	if len(cookies) > 0 {
		j.used.Store(true)
	}
	j.Jar.SetCookies(u, cookies)
}

// SyscallConn exposes the underlying socket so that the fast path can check an idle
// connection without reading from it (internal/h1 alive).
func (c *countConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("connection has no descriptor")
}
