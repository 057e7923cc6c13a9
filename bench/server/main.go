// Command server is the benchmark target of `make bench`: a small, fast HTTP server on loopback
// that answers every request with a trivial 200 over keep-alive connections, a WebSocket endpoint
// that sends each session one frame per interval (default one a second) and a WebSocket echo. It
// serves the same routes on three listeners: plain http, https (TLS, HTTP/1.1 only) and h2 (TLS
// with ALPN h2, HTTP/1.1 as fallback), with a self-signed certificate made at start. It counts
// what it served, so the harness can check every tool's figures against what the target saw.
//
// It is not the demo backend: it does as little work per request as net/http allows, so that the
// generator, not the target, is what the benchmark measures as far as one shared machine permits.
//
// Routes:
//
//	GET /stats       the counts as JSON (not counted as a request); ?reset_peak=1 restarts conns_peak
//	GET /ws          WebSocket: a frame {"type":"tick","seq":N} every -ws-interval per session;
//	                 frames the client sends are read and counted
//	GET /echo        WebSocket: every frame the client sends is written back unchanged
//	anything else    200 "ok\n" (Content-Length 3)
//
// It listens on 127.0.0.1 only, writes the chosen addresses to -addr-file as JSON
// ({"http":"127.0.0.1:P","https":"…","h2":"…"}) when given, the certificate's PEM to -cert-file when
// given, and exits on SIGINT/SIGTERM after printing the final counts.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Counts is what the server saw. The harness decodes it from /stats.
type Counts struct {
	Requests       uint64 `json:"requests"`             // HTTP requests answered, excluding /stats and WebSocket upgrades
	RequestsTLS    uint64 `json:"requests_tls"`         // of which over TLS (the https and h2 listeners)
	RequestsH2     uint64 `json:"requests_h2"`          // of which over HTTP/2
	WSSessions     uint64 `json:"ws_sessions"`          // WebSocket sessions accepted
	WSActive       int64  `json:"ws_active"`            // sessions open now
	FramesSent     uint64 `json:"frames_sent"`          // WebSocket frames written
	FramesReceived uint64 `json:"frames_received"`      // WebSocket frames read
	EchoSessions   uint64 `json:"echo_sessions"`        // of ws_sessions, those on /echo
	EchoReceived   uint64 `json:"echo_received"`        // frames /echo read
	EchoSent       uint64 `json:"echo_sent"`            // frames /echo wrote back
	TLSErrors      uint64 `json:"tls_handshake_errors"` // TLS handshakes that failed (a client closing mid-handshake at its stop)
	Conns          int64  `json:"conns"`                // TCP connections open now (HTTP and WebSocket)
	ConnsPeak      int64  `json:"conns_peak"`           // most TCP connections open at once since start or the last ?reset_peak=1
}

// server holds the counters; every field is an atomic, shared by all handler goroutines.
type server struct {
	requests       atomic.Uint64
	requestsTLS    atomic.Uint64
	requestsH2     atomic.Uint64
	wsSessions     atomic.Uint64
	wsActive       atomic.Int64
	framesSent     atomic.Uint64
	framesReceived atomic.Uint64
	echoSessions   atomic.Uint64
	echoReceived   atomic.Uint64
	echoSent       atomic.Uint64
	tlsErrors      atomic.Uint64
	conns          atomic.Int64
	connsPeak      atomic.Int64
	interval       time.Duration
	wg             sync.WaitGroup // WebSocket sessions in flight
	done           chan struct{}  // closed at shutdown: sessions end
}

var okBody = []byte("ok\n")

func (s *server) counts() Counts {
	return Counts{
		Requests:       s.requests.Load(),
		RequestsTLS:    s.requestsTLS.Load(),
		RequestsH2:     s.requestsH2.Load(),
		WSSessions:     s.wsSessions.Load(),
		WSActive:       s.wsActive.Load(),
		FramesSent:     s.framesSent.Load(),
		FramesReceived: s.framesReceived.Load(),
		EchoSessions:   s.echoSessions.Load(),
		EchoReceived:   s.echoReceived.Load(),
		EchoSent:       s.echoSent.Load(),
		TLSErrors:      s.tlsErrors.Load(),
		Conns:          s.conns.Load(),
		ConnsPeak:      s.connsPeak.Load(),
	}
}

// connState tracks open connections: a new one counts until it is closed or hijacked (a
// WebSocket session, counted by ws_active instead).
func (s *server) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		n := s.conns.Add(1)
		for {
			p := s.connsPeak.Load()
			if n <= p || s.connsPeak.CompareAndSwap(p, n) {
				break
			}
		}
	case http.StateClosed, http.StateHijacked:
		s.conns.Add(-1)
	}
}

// ServeHTTP routes without a mux: the hot path is one comparison and a write.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/stats":
		if r.URL.Query().Get("reset_peak") == "1" {
			s.connsPeak.Store(s.conns.Load())
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.counts())
		return
	case "/ws":
		s.serveWS(w, r)
		return
	case "/echo":
		s.serveEcho(w, r)
		return
	}
	s.requests.Add(1)
	if r.TLS != nil {
		s.requestsTLS.Add(1)
	}
	if r.ProtoMajor == 2 {
		s.requestsH2.Add(1)
	}
	h := w.Header()
	h["Content-Length"] = contentLength
	h["Content-Type"] = contentType
	_, _ = w.Write(okBody)
}

var (
	contentLength = []string{"3"}
	contentType   = []string{"text/plain"}
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "plain http listen address (loopback only)")
	httpsAddr := flag.String("https-addr", "127.0.0.1:0", "https (HTTP/1.1 over TLS) listen address (loopback only)")
	h2Addr := flag.String("h2-addr", "127.0.0.1:0", "HTTP/2 over TLS listen address (loopback only)")
	addrFile := flag.String("addr-file", "", "write the listening addresses to this file (JSON) once serving")
	certFile := flag.String("cert-file", "", "write the self-signed certificate (PEM) to this file")
	interval := flag.Duration("ws-interval", time.Second, "time between frames on each WebSocket session")
	flag.Parse()
	if err := run(addrs{HTTP: *addr, HTTPS: *httpsAddr, H2: *h2Addr}, *addrFile, *certFile, *interval); err != nil {
		fmt.Fprintln(os.Stderr, "bench server:", err)
		os.Exit(1)
	}
}

// addrs are the three listeners' addresses; the harness decodes them from -addr-file.
type addrs struct {
	HTTP  string `json:"http"`
	HTTPS string `json:"https"`
	H2    string `json:"h2"`
}

// endpoints are the running listeners of one server.
type endpoints struct {
	addrs   addrs  // as bound (ports chosen)
	certPEM []byte // the self-signed certificate of the TLS listeners
	servers []*http.Server
	errc    chan error // the first Serve error
}

// start binds the three listeners (each on a loopback address) and serves s on them: plain
// HTTP/1.1, HTTP/1.1 over TLS, and HTTP/2 over TLS (ALPN h2, HTTP/1.1 as fallback).
func (s *server) start(want addrs) (*endpoints, error) {
	for _, a := range []string{want.HTTP, want.HTTPS, want.H2} {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", a, err)
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("address %q: the benchmark target listens on a loopback address only", a)
		}
	}
	cert, certPEM, err := selfSigned()
	if err != nil {
		return nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	e := &endpoints{certPEM: certPEM, errc: make(chan error, 3)}
	type listener struct {
		addr  string
		bound *string
		tls   *tls.Config
		proto func(*http.Protocols)
	}
	ls := []listener{
		{want.HTTP, &e.addrs.HTTP, nil, func(p *http.Protocols) { p.SetHTTP1(true) }},
		{want.HTTPS, &e.addrs.HTTPS, tlsConfig(cert, false), func(p *http.Protocols) { p.SetHTTP1(true) }},
		{want.H2, &e.addrs.H2, tlsConfig(cert, true), func(p *http.Protocols) { p.SetHTTP1(true); p.SetHTTP2(true) }},
	}
	for _, l := range ls {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			e.close()
			return nil, err
		}
		*l.bound = ln.Addr().String()
		srv := &http.Server{Handler: s, ConnState: s.connState, ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout: 5 * time.Minute, TLSConfig: l.tls, Protocols: new(http.Protocols),
			ErrorLog: log.New(errorLog{s}, "", log.LstdFlags)}
		l.proto(srv.Protocols)
		e.servers = append(e.servers, srv)
		go func() {
			var err error
			if srv.TLSConfig != nil {
				err = srv.ServeTLS(ln, "", "") // the certificate is in TLSConfig
			} else {
				err = srv.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				e.errc <- err
			}
		}()
	}
	return e, nil
}

// errorLog counts the servers' "TLS handshake error" lines instead of printing them: tools that
// stop at a deadline (hey, wrk) close connections mid-handshake, hundreds a run. Other lines go to
// stderr.
type errorLog struct{ s *server }

func (l errorLog) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("TLS handshake error")) {
		l.s.tlsErrors.Add(1)
		return len(p), nil
	}
	return os.Stderr.Write(p)
}

// shutdown stops every listener, letting requests in flight finish until ctx ends.
func (e *endpoints) shutdown(ctx context.Context) {
	for _, srv := range e.servers {
		_ = srv.Shutdown(ctx)
	}
}

// close stops every listener at once.
func (e *endpoints) close() {
	for _, srv := range e.servers {
		_ = srv.Close()
	}
}

func run(want addrs, addrFile, certFile string, interval time.Duration) error {
	if interval <= 0 {
		return errors.New("-ws-interval must be positive")
	}
	s := &server{interval: interval, done: make(chan struct{})}
	e, err := s.start(want)
	if err != nil {
		return err
	}
	defer e.close()
	if certFile != "" {
		if err := os.WriteFile(certFile, e.certPEM, 0o644); err != nil {
			return err
		}
	}
	if addrFile != "" { // written last, and atomically: the harness reads it as "ready"
		b, _ := json.Marshal(e.addrs)
		tmp := addrFile + ".tmp"
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, addrFile); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "bench server: listening on http://%s, https://%s (HTTP/1.1), https://%s (h2)\n", e.addrs.HTTP, e.addrs.HTTPS, e.addrs.H2)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
	case err := <-e.errc:
		return err
	}
	close(s.done)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.shutdown(ctx)
	s.wg.Wait()
	return json.NewEncoder(os.Stdout).Encode(s.counts())
}

// selfSigned makes a certificate for 127.0.0.1, ::1 and localhost, valid for a day, with a fresh
// P-256 key: the target's TLS needs no file and no trust, and every tool is told to skip
// verification (wrk and h2load never verify; hey always skips). It returns the certificate and
// its PEM, for clients that would rather verify.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "loadplan bench target"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // its own CA, so a client can trust it with a ca_file
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// tlsConfig is the TLS of one listener: HTTP/1.1 only (the https case: ALPN offers http/1.1, so
// every tool speaks HTTP/1.1 over TLS whatever it would prefer), or HTTP/2 with HTTP/1.1 as the
// fallback (the h2 case). Session tickets stay on, as on real servers, so clients may resume.
func tlsConfig(cert tls.Certificate, h2 bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	if h2 {
		c.NextProtos = []string{"h2", "http/1.1"}
	}
	return c
}
