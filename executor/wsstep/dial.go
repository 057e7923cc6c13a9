package wsstep

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// wsShared is the WebSocket state shared by every VU of a run: one handshake client per target
// (TLS settings differ by target). Safe for concurrent use.
type wsShared struct {
	mu      sync.Mutex // guards clients
	clients map[*plan.Target]*http.Client
	// proxyEnv is the run's proxy environment, for a block with its own URL (no target): it
	// decides per handshake address, as net/http's ProxyFromEnvironment does for HTTP steps.
	proxyEnv plan.ProxyEnv
	debug    step.HTTPDebugger // --http-debug: sees handshakes (and messages, debug.go); nil for none
}

func newWSShared() *wsShared { return &wsShared{clients: make(map[*plan.Target]*http.Client)} }

// client returns the handshake client for t (nil for steps without a target).
func (sh *wsShared) client(t *plan.Target) (*http.Client, error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c, ok := sh.clients[t]; ok {
		return c, nil
	}
	d := &net.Dialer{KeepAlive: 30 * time.Second}
	var cfg *tls.Config
	if t != nil {
		var err error
		if cfg, err = wsTLSConfig(t); err != nil {
			return nil, err
		}
	}
	// dialWire dials addr for one handshake: the bytes are counted on the wire (TLS included),
	// and the WebSocket reads through a wsWire above TLS, which the dial context hands back to
	// dial (see wsDialKey). Through a proxy, the connection is a CONNECT tunnel to addr.
	dialWire := func(ctx context.Context, network, addr string, secure bool) (net.Conn, error) {
		proxy, err := sh.proxyFor(t, addr, secure)
		if err != nil {
			return nil, err
		}
		to := addr
		if proxy != nil {
			if to, err = proxyAddr(proxy); err != nil {
				return nil, err
			}
		}
		c, err := d.DialContext(ctx, network, to)
		if err != nil {
			return nil, err
		}
		dl, _ := ctx.Value(wsDialKey{}).(*wsDialed)
		if dl != nil {
			c = &wsCountConn{Conn: c, b: &dl.bytes}
		}
		if proxy != nil {
			if err := connectProxy(ctx, c, proxy, addr); err != nil {
				c.Close()
				return nil, err
			}
		}
		if secure {
			tc := tls.Client(c, wsServerName(cfg, addr))
			if err := tc.HandshakeContext(ctx); err != nil {
				c.Close()
				return nil, err
			}
			c = tc
		}
		if dl != nil {
			dl.ready.Store(dl.bytes.out.Load() + 1)
			dl.wire = newWSWire(c)
			return dl.wire, nil
		}
		return c, nil
	}
	tr := &http.Transport{
		// A proxy, if any, is a CONNECT tunnel made by dialWire, under TLS and the wsWire; the
		// transport itself never proxies.
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialWire(ctx, network, addr, false)
		},
		// TLS is made here rather than by the transport so that the wsWire sits above it.
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialWire(ctx, network, addr, true)
		},
		// Every handshake takes its own connection, which the WebSocket then owns: nothing to pool,
		// and no idle connection (with its two goroutines) left behind after a refused upgrade.
		DisableKeepAlives: true,
		// The transport reads only the response head through this buffer.
		ReadBufferSize:  1024,
		WriteBufferSize: 1024,
	}
	// A redirect to a ws(s) URL is followed over http(s), as the library's Dial does.
	c := &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		switch req.URL.Scheme {
		case "ws":
			req.URL.Scheme = "http"
		case "wss":
			req.URL.Scheme = "https"
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}}
	sh.clients[t] = c
	return c, nil
}

// close releases the clients' idle resources.
func (sh *wsShared) close() {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for _, c := range sh.clients {
		c.CloseIdleConnections()
	}
}

// wsDialKey is the context key under which dial passes a *wsDialed to the transport's dial.
type wsDialKey struct{}

// wsDialed is what the transport's dial hands back to dial: the connection's byte counters and
// the wsWire the WebSocket reads through.
type wsDialed struct {
	bytes wsBytes
	// ready is 1 + the bytes written before the connection was ready for the request (TCP and
	// TLS done), 0 until then: more bytes out than that means the upgrade request left. Atomic
	// because a cancelled handshake's transport dial may still be running when dial reads it.
	ready atomic.Int64
	wire  *wsWire
}

// requestSent reports whether the handshake's request was written: out bytes went out on a
// connection that was ready for it. TCP and TLS setup alone reach no WebSocket server.
func (dl *wsDialed) requestSent(out int64) bool {
	r := dl.ready.Load()
	return r > 0 && out > r-1
}

// wsServerName returns cfg for a TLS connection to addr, with the server name set from addr
// when cfg names none (as the transport's own TLS dial does).
func wsServerName(cfg *tls.Config, addr string) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName != "" {
		return cfg
	}
	c := cfg.Clone()
	c.ServerName = addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		c.ServerName = h
	}
	return c
}

// wsBytes counts the bytes a connection carried on the wire (handshake, frames, TLS included);
// the transport's goroutines and the reader add, the VU goroutine swaps them into samples.
type wsBytes struct{ in, out atomic.Int64 }

// wsCountConn counts what passes through a connection.
type wsCountConn struct {
	net.Conn
	b *wsBytes
}

func (c *wsCountConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.b.in.Add(int64(n))
	return n, err
}

func (c *wsCountConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.b.out.Add(int64(n))
	return n, err
}

// wsTLSConfig builds the TLS settings of target t.
func wsTLSConfig(t *plan.Target) (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // the user asked for it
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("target %q: ca file: %w", t.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("target %q: ca file %s holds no PEM certificate", t.Name, t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("target %q: client certificate: %w", t.Name, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// wsURL renders the block's URL for rt: http(s) becomes ws(s), and query pairs are added.
func wsURL(st *plan.WebSocketStep, rt *plan.Runtime) (string, error) {
	raw, err := st.URL.String(rt)
	if err != nil {
		return "", fmt.Errorf("url: %w", err)
	}
	switch {
	case strings.HasPrefix(raw, "http://"):
		raw = "ws://" + raw[len("http://"):]
	case strings.HasPrefix(raw, "https://"):
		raw = "wss://" + raw[len("https://"):]
	}
	if len(st.Query) == 0 {
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("url: %w", err)
	}
	q := u.Query()
	for _, kv := range st.Query {
		v, err := kv.Value.String(rt)
		if err != nil {
			return "", fmt.Errorf("query %s: %w", kv.Name, err)
		}
		q.Add(kv.Name, v)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// wsHeaders renders the target's headers, then the block's (which override them).
func wsHeaders(st *plan.WebSocketStep, rt *plan.Runtime) (http.Header, error) {
	h := http.Header{}
	var kvs []plan.KV
	if st.Target != nil {
		kvs = append(kvs, st.Target.Headers...)
	}
	for i, set := range [][]plan.KV{kvs, st.Headers} {
		for _, kv := range set {
			v, err := kv.Value.String(rt)
			if err != nil {
				return nil, fmt.Errorf("header %s: %w", kv.Name, err)
			}
			if i == 1 {
				h.Del(kv.Name)
			}
			h.Add(kv.Name, v)
		}
	}
	return h, nil
}

// wsDialError is a failed connection attempt; Kind is its ws_errors label.
type wsDialError struct {
	Kind string
	Err  error
}

func (e *wsDialError) Error() string { return e.Err.Error() }
func (e *wsDialError) Unwrap() error { return e.Err }

// dial opens one connection of session s, emitting ws_connecting and ws_sessions on success and
// ws_errors on failure; a handshake cut by the end of the run after its request left is
// ws_errors{interrupted}. The connection lives until closed or until s.ctx is cancelled.
func (w *wsVU) dial(ctx context.Context, s *wsSession) (*wsConn, error) {
	st := s.block
	var tr wsTrace // the handshake's trace context, once its headers are made
	fail := func(kind string, err error) (*wsConn, error) {
		w.emit(metrics.Sample{Metric: metrics.WSErrors, Time: time.Now().UnixNano(), Value: 1, Tags: st.Tags, Label: kind,
			Span: w.span(&tr, kind)})
		return nil, &wsDialError{Kind: kind, Err: fmt.Errorf("websocket %q: %w", st.Name, err)}
	}
	u, err := wsURL(st, w.rt)
	if err != nil {
		return fail("template", err)
	}
	h, err := wsHeaders(st, w.rt)
	if err != nil {
		return fail("template", err)
	}
	if w.traceConf != nil {
		tr = w.startTrace(h)
	}
	client, err := w.shared.client(st.Target)
	if err != nil {
		return fail("tls", err)
	}
	timeout := st.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	limit := st.MaxMessageSize
	if limit <= 0 {
		limit = 1 << 20
	}
	dl := &wsDialed{}
	bytes := &dl.bytes
	dctx, cancel := context.WithTimeout(context.WithValue(ctx, wsDialKey{}, dl), timeout)
	start := time.Now()
	tr.start = start.UnixNano()
	var sock wsSock
	var resp *http.Response
	if st.Compression {
		// permessage-deflate: the library's framing, which implements it.
		opts := &websocket.DialOptions{HTTPClient: client, HTTPHeader: h, Subprotocols: st.Subprotocols,
			CompressionMode: websocket.CompressionNoContextTakeover}
		var ws *websocket.Conn
		ws, resp, err = websocket.Dial(dctx, u, opts)
		if err == nil {
			ws.SetReadLimit(limit)
			sock = wsLib{ws}
		}
	} else {
		var rwc io.ReadWriteCloser
		rwc, resp, err = wsHandshake(dctx, client, u, h, st.Subprotocols)
		if err == nil {
			sock = newWSFramer(rwc, limit)
		}
	}
	cancel()
	if w.shared.debug != nil {
		w.shared.debug.Exchange(handshakeExchange(st, u, h, resp, err))
	}
	out := bytes.out.Swap(0)
	if out > 0 {
		w.add(metrics.DataSent, st.Tags, float64(out), 0, "")
	}
	if n := bytes.in.Swap(0); n > 0 {
		w.add(metrics.DataReceived, st.Tags, float64(n), 0, "")
	}
	if err != nil {
		if ctx.Err() != nil && resp == nil {
			// Cut by the executor's stop or abort: not the target's fault, so no backoff and no
			// failed step. But a request that left reached the server, which counts it (and may
			// even have sent its 101): like an HTTP request cut on the wire, it is counted as
			// ws_errors{interrupted}, so that ws_sessions + ws_errors equals the upgrade
			// requests the server received. Cut before its request, it reached no server: nothing.
			if dl.requestSent(out) {
				w.emit(metrics.Sample{Metric: metrics.WSErrors, Time: time.Now().UnixNano(), Value: 1, Tags: st.Tags,
					Label: "interrupted", Span: w.span(&tr, "interrupted")})
			}
			return nil, ctx.Err()
		}
		w.noteDial(st.Target, resp, err)
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return fail("handshake_"+strconv.Itoa(resp.StatusCode), fmt.Errorf("handshake refused: HTTP %d", resp.StatusCode))
		}
		if resp != nil {
			return fail("handshake", err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fail("dial", fmt.Errorf("connect timeout after %s", timeout))
		}
		var cve *tls.CertificateVerificationError
		var rhe tls.RecordHeaderError
		if errors.As(err, &cve) || errors.As(err, &rhe) {
			return fail("tls", err)
		}
		return fail("dial", err)
	}
	w.noteDial(st.Target, resp, nil)
	w.emit(metrics.Sample{Metric: metrics.WSConnecting, Time: time.Now().UnixNano(), Value: wsMillis(time.Since(start)), Tags: st.Tags,
		Span: w.span(&tr, "")})
	w.add(metrics.WSSessions, st.Tags, 1, 0, "")
	sock = debugMessages(w.shared.debug, st, sock) // --http-debug=full: every message shown
	c := newWSConn(s.ctx, sock, dl.wire, s.rules)
	c.bytes = bytes
	return c, nil
}

// noteDial tells the VU how a handshake ended (wsVU.connected): a response, even a refusal,
// means the target is reachable; a refusal still backs the VU off like a failed connection.
func (w *wsVU) noteDial(t *plan.Target, resp *http.Response, err error) {
	if w.connected == nil {
		return
	}
	switch {
	case err == nil:
		w.connected(t, true, "")
	case resp != nil:
		w.connected(t, true, "handshake refused")
	default:
		cause, ok := step.ConnCause(err)
		if !ok {
			cause = "connection failed"
			if errors.Is(err, context.DeadlineExceeded) {
				cause = "connect timeout"
			}
		}
		w.connected(t, false, cause)
	}
}

// wsMillis converts d to the milliseconds a Time sample holds.
func wsMillis(d time.Duration) float64 { return step.Millis(d) }
