package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/h1/h1test"
)

// serverTLS and clientTLS, when set (overTLS), make rawServer and newCounted serve https and
// get (and the fault tests' requests) speak it: the same tests, the same counts, over TLS.
var serverTLS, clientTLS *tls.Config

// overTLS runs fn with the test servers and requests on TLS, with a fresh certificate and an
// empty client session cache.
func overTLS(t *testing.T, fn func(*testing.T)) {
	t.Helper()
	serverTLS, clientTLS = h1test.TLSConfigs(t)
	defer func() { serverTLS, clientTLS = nil, nil }()
	fn(t)
}

// rst closes w (plain or TLS) with a TCP reset, as a crashing server does: no close_notify.
func rst(w net.Conn) {
	if tc, ok := w.(*tls.Conn); ok {
		w = tc.NetConn()
	}
	w.(*net.TCPConn).SetLinger(0)
	w.Close()
}

// TestFaultsOverTLS repeats, over TLS, the tests whose servers count what they received: no
// resend after a server close or a reset (the client's figures equal the server's), timeouts,
// abort, the idle probe (a closed TLS connection is replaced before a POST is written to it),
// keep-alive and framing.
func TestFaultsOverTLS(t *testing.T) {
	tests := map[string]func(*testing.T){
		"StaleConnectionIsNotResent":                   TestStaleConnectionIsNotResent,
		"ResetAfterReadIsOneFailedRequest":             TestResetAfterReadIsOneFailedRequest,
		"DeadlineIsATimeout":                           TestDeadlineIsATimeout,
		"AbortEndsTheRequestInFlight":                  TestAbortEndsTheRequestInFlight,
		"IdleConnectionClosedByServerIsReplacedBefore": TestIdleConnectionClosedByServerIsReplacedBeforeWriting,
		"IdleProbeKeepsALiveConnection":                TestIdleProbeKeepsALiveConnection,
		"IdleProbeAfterAnExpiredDeadline":              TestIdleProbeAfterAnExpiredDeadline,
		"KeepAliveReusesOneConnection":                 TestKeepAliveReusesOneConnection,
		"ChunkedResponse":                              TestChunkedResponse,
		"ConnectionCloseRedials":                       TestConnectionCloseRedials,
		"FramingEdgeCases":                             TestFramingEdgeCases,
		"MalformedResponses":                           TestMalformedResponses,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) { overTLS(t, fn) })
	}
}

// tlsCounter is a TLS server that answers "ok" to every request and closes each connection
// after `per` of them (saying so in the last), counting requests, connections, and the
// handshakes that resumed a session.
type tlsCounter struct {
	addr                 string
	reqs, conns, resumed atomic.Int64
	handshakes           chan struct{} // one value per handshake the server completed
}

func newTLSCounter(t *testing.T, per int, cfg *tls.Config) *tlsCounter {
	s := &tlsCounter{handshakes: make(chan struct{}, 64)}
	serverTLS = cfg
	defer func() { serverTLS = nil }()
	s.addr, _ = rawServer(t, func(r *bufio.Reader, w net.Conn) {
		tc := w.(*tls.Conn)
		if err := tc.Handshake(); err != nil {
			return
		}
		s.conns.Add(1)
		if tc.ConnectionState().DidResume {
			s.resumed.Add(1)
		}
		s.handshakes <- struct{}{}
		for n := 1; n <= per; n++ {
			if _, ok := readReq(r); !ok {
				return
			}
			s.reqs.Add(1)
			if n == per {
				io.WriteString(w, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
				return
			}
			io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	return s
}

// TestTLSPhasesAndResumption: a new connection has a TLS handshake in its trace, a reused one
// none; after the server closed the connection, the next one resumes the session (as a browser
// does), which the server observes. Six requests, two per connection: 3 connections, 1 full
// handshake and 2 resumed.
func TestTLSPhasesAndResumption(t *testing.T) {
	scfg, ccfg := h1test.TLSConfigs(t)
	srv := newTLSCounter(t, 2, scfg)
	var c Client
	defer c.Close()
	req := &Request{Method: "GET", Addr: srv.addr, Host: srv.addr, URI: "/", Header: http.Header{}, TLS: ccfg}
	var resp Response
	var tr Trace
	for i := 0; i < 6; i++ {
		if err := c.Do(context.Background(), req, &resp, false, &tr); err != nil || resp.Status != 200 {
			t.Fatalf("request %d: status %d, %v", i, resp.Status, err)
		}
		newConn := i%2 == 0
		if hs := tr.TLSDone - tr.TLSStart; newConn != (tr.TLSStart > 0 && hs > 0) {
			t.Errorf("request %d (new connection %v): TLS handshake from %d to %d", i, newConn, tr.TLSStart, tr.TLSDone)
		}
		if newConn && !(tr.ConnectStart > 0 && tr.ConnectDone <= tr.TLSStart && tr.TLSDone <= tr.GotConn) {
			t.Errorf("request %d: phases out of order: %+v", i, tr)
		}
		if !newConn && (tr.ConnectStart != 0 || tr.TLSStart != 0 || tr.GotConn != tr.GetConn) {
			t.Errorf("request %d on a reused connection: %+v", i, tr)
		}
		if tr.Done < tr.FirstByte || tr.FirstByte < tr.Wrote || tr.Wrote < tr.GotConn {
			t.Errorf("request %d: phases out of order: %+v", i, tr)
		}
	}
	if srv.reqs.Load() != 6 || srv.conns.Load() != 3 || srv.resumed.Load() != 2 {
		t.Fatalf("server saw %d requests on %d connections, %d resumed; want 6 on 3, 2 resumed",
			srv.reqs.Load(), srv.conns.Load(), srv.resumed.Load())
	}
}

// TestH2IsHandedOver: a server that chooses h2 through ALPN gets no HTTP/1.1 request; Do
// returns the negotiated connection in an *H2Error, and the next Do dials afresh.
func TestH2IsHandedOver(t *testing.T) {
	scfg, ccfg := h1test.TLSConfigs(t)
	scfg.NextProtos = []string{"h2"}
	srv := newTLSCounter(t, 1, scfg)
	ccfg.NextProtos = []string{"h2", "http/1.1"}
	var c Client
	defer c.Close()
	req := &Request{Method: "GET", Addr: srv.addr, Host: srv.addr, URI: "/", Header: http.Header{}, TLS: ccfg}
	var resp Response
	var tr Trace
	for i := 0; i < 2; i++ {
		err := c.Do(context.Background(), req, &resp, false, &tr)
		var h2 *H2Error
		if !errors.As(err, &h2) || h2.Conn.ConnectionState().NegotiatedProtocol != "h2" {
			t.Fatalf("request %d: %v, want an H2Error with an h2 connection", i, err)
		}
		if tr.GotConn != 0 || tr.TLSDone == 0 {
			t.Errorf("request %d: trace %+v: a handshake, and no connection for the request", i, tr)
		}
		h2.Conn.Close()
	}
	<-srv.handshakes
	<-srv.handshakes
	if srv.reqs.Load() != 0 || srv.conns.Load() != 2 {
		t.Fatalf("server saw %d requests on %d connections, want 0 on 2", srv.reqs.Load(), srv.conns.Load())
	}
}

// TestHandshakeFailuresSendNothing: a server that never answers the handshake times out at the
// request's deadline, and a certificate the client does not trust is refused; both are a
// HandshakeError (named as net/http names them), no request reaches the server, and the trace
// says the request had no connection.
func TestHandshakeFailuresSendNothing(t *testing.T) {
	// plain TCP that reads the ClientHello and never answers
	silentAddr, silentConns := rawServer(t, func(r *bufio.Reader, _ net.Conn) { io.Copy(io.Discard, r) })
	scfg, _ := h1test.TLSConfigs(t)
	srv := newTLSCounter(t, 1, scfg)
	_, untrusting := h1test.TLSConfigs(t) // trusts another certificate

	var c Client
	defer c.Close()
	var resp Response
	var tr Trace
	silent := &Request{Method: "GET", Addr: silentAddr, Host: "x", URI: "/", Header: http.Header{},
		TLS: untrusting, Deadline: time.Now().Add(100 * time.Millisecond)}
	err := c.Do(context.Background(), silent, &resp, false, &tr)
	var he *HandshakeError
	if !errors.As(err, &he) || !he.Timeout() || err.Error() != "h1: TLS handshake timeout" {
		t.Fatalf("silent server: %v, want a TLS handshake timeout", err)
	}
	if tr.GotConn != 0 || tr.TLSStart == 0 || silentConns.Load() != 1 {
		t.Fatalf("silent server: trace %+v, %d connections; want a handshake begun, no connection for the request", tr, silentConns.Load())
	}
	bad := &Request{Method: "GET", Addr: srv.addr, Host: srv.addr, URI: "/", Header: http.Header{}, TLS: untrusting}
	err = c.Do(context.Background(), bad, &resp, false, &tr)
	var certErr *tls.CertificateVerificationError
	if !errors.As(err, &he) || !errors.As(err, &certErr) || he.Timeout() {
		t.Fatalf("untrusted certificate: %v, want a certificate verification error", err)
	}
	if tr.GotConn != 0 || srv.reqs.Load() != 0 {
		t.Fatalf("untrusted certificate: trace %+v, server saw %d requests; want none", tr, srv.reqs.Load())
	}
}
