package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func newTestServer(t *testing.T) (*server, *httptest.Server) {
	s := &server{interval: 10 * time.Millisecond, done: make(chan struct{})}
	ts := httptest.NewUnstartedServer(s)
	ts.Config.ConnState = s.connState
	ts.Start()
	t.Cleanup(func() {
		close(s.done)
		ts.Close()
		s.wg.Wait()
	})
	return s, ts
}

func stats(t *testing.T, url string) Counts {
	resp, err := http.Get(url + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c Counts
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTrivialResponsesAreCounted(t *testing.T) {
	_, ts := newTestServer(t)
	for i := 0; i < 5; i++ {
		resp, err := http.Get(ts.URL + "/anything?i=1")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "ok\n" || resp.ContentLength != 3 {
			t.Fatalf("status %d body %q length %d", resp.StatusCode, b, resp.ContentLength)
		}
	}
	c := stats(t, ts.URL)
	if c.Requests != 5 || c.ConnsPeak < 1 {
		t.Fatalf("counts %+v, want 5 requests (stats not counted) and a connection", c)
	}
}

func TestWebSocketFramesAreCountedBothWays(t *testing.T) {
	s, ts := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(ts.URL, "http", "ws", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Type string
			Seq  int
		}
		if err := json.Unmarshal(b, &f); err != nil || f.Type != "tick" || f.Seq != i {
			t.Fatalf("frame %d: %s (%v)", i, b, err)
		}
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	for s.framesReceived.Load() != 1 { // the reader counts it asynchronously
		time.Sleep(5 * time.Millisecond)
	}
	got := stats(t, ts.URL)
	if got.WSSessions != 1 || got.WSActive != 1 || got.FramesSent < 3 || got.FramesReceived != 1 {
		t.Fatalf("counts %+v", got)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestRunRefusesNonLoopback(t *testing.T) {
	for _, a := range []addrs{
		{HTTP: "0.0.0.0:0", HTTPS: "127.0.0.1:0", H2: "127.0.0.1:0"},
		{HTTP: "127.0.0.1:0", HTTPS: "127.0.0.1:0", H2: "[::]:0"},
	} {
		if err := run(a, "", "", time.Second); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Fatalf("%+v: got %v, want a loopback-only error", a, err)
		}
	}
}

// startAll runs the three real listeners on loopback, as main does, and returns them.
func startAll(t *testing.T) (*server, *endpoints) {
	s := &server{interval: 10 * time.Millisecond, done: make(chan struct{})}
	e, err := s.start(addrs{HTTP: "127.0.0.1:0", HTTPS: "127.0.0.1:0", H2: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(s.done)
		e.close()
		s.wg.Wait()
	})
	return s, e
}

// client trusts the server's self-signed certificate; h2 lets it negotiate HTTP/2 through ALPN.
func client(t *testing.T, certPEM []byte, h2 bool) *http.Client {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("the server's certificate PEM does not parse")
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: h2}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// get makes n requests and checks each answer and the protocol it came in.
func get(t *testing.T, c *http.Client, url string, n, protoMajor int) {
	for i := 0; i < n; i++ {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "ok\n" || resp.ProtoMajor != protoMajor {
			t.Fatalf("%s: status %d body %q proto %s, want 200 \"ok\" HTTP/%d", url, resp.StatusCode, b, resp.Proto, protoMajor)
		}
	}
}

// TestTLSListenersCountByProtocol: the https listener speaks HTTP/1.1 only, even to a client that
// offers h2; the h2 listener negotiates HTTP/2 with such a client; the counts say which was which.
func TestTLSListenersCountByProtocol(t *testing.T) {
	s, e := startAll(t)
	h1, h2 := client(t, e.certPEM, false), client(t, e.certPEM, true)
	get(t, h1, "http://"+e.addrs.HTTP+"/", 1, 1)
	get(t, h1, "https://"+e.addrs.HTTPS+"/a", 4, 1)
	get(t, h2, "https://"+e.addrs.HTTPS+"/b", 2, 1) // ALPN offers http/1.1 only
	get(t, h2, "https://"+e.addrs.H2+"/c", 3, 2)
	get(t, h1, "https://"+e.addrs.H2+"/d", 5, 1) // the h2 listener's HTTP/1.1 fallback
	got := s.counts()
	if got.Requests != 15 || got.RequestsTLS != 14 || got.RequestsH2 != 3 {
		t.Fatalf("counts %+v, want 15 requests, 14 over TLS, 3 over HTTP/2", got)
	}
	// Each client kept one keep-alive connection per listener it used: five pairs.
	if got.ConnsPeak != 5 {
		t.Fatalf("conns_peak %d, want 5 (one keep-alive connection per client and listener)", got.ConnsPeak)
	}
}

// TestEchoReturnsEveryFrameAndCounts: /echo writes back each frame, text or binary, and counts
// the frames both ways and the session.
func TestEchoReturnsEveryFrameAndCounts(t *testing.T) {
	s, e := startAll(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+e.addrs.HTTP+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for i := 0; i < 7; i++ {
		typ, msg := websocket.MessageText, []byte(fmt.Sprintf("ping %d", i))
		if i%3 == 2 {
			typ, msg = websocket.MessageBinary, []byte{0, byte(i), 0xff}
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			t.Fatal(err)
		}
		sent++
		gt, gb, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if gt != typ || !bytes.Equal(gb, msg) {
			t.Fatalf("frame %d: got %v %q, want %v %q", i, gt, gb, typ, msg)
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
	for s.wsActive.Load() != 0 { // the session ends after the close handshake
		time.Sleep(5 * time.Millisecond)
	}
	got := s.counts()
	if got.EchoSessions != 1 || got.WSSessions != 1 || got.EchoReceived != uint64(sent) || got.EchoSent != uint64(sent) || got.FramesSent != 0 {
		t.Fatalf("counts %+v, want 1 echo session and %d frames each way", got, sent)
	}
}

// TestSelfSignedCertificateCoversLoopback: clients that verify accept it for every loopback name.
func TestSelfSignedCertificateCoversLoopback(t *testing.T) {
	_, pemBytes, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("PEM does not parse")
	}
	blk, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
}

// TestFailedHandshakesAreCountedNotLogged: a client that is not speaking TLS to the https listener
// makes one counted handshake error.
func TestFailedHandshakesAreCountedNotLogged(t *testing.T) {
	s, e := startAll(t)
	c, err := net.Dial("tcp", e.addrs.HTTPS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, c) // the server answers with a plain 400 and closes
	c.Close()
	for s.tlsErrors.Load() == 0 { // logged after the connection closes
		time.Sleep(5 * time.Millisecond)
	}
	if got := s.counts(); got.TLSErrors != 1 || got.Requests != 0 {
		t.Fatalf("counts %+v, want 1 TLS handshake error and no request", got)
	}
}
