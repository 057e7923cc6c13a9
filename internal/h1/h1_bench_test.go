package h1

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/loadplan/loadplan/internal/h1/h1test"
)

// benchServer is an allocation-free keep-alive server answering every request with "ok" (and a
// Date header, as real servers send), so that allocations counted are the client's.
func benchServer(b *testing.B) string {
	return h1test.OKServer(b, "Date: Sun, 22 Nov 2026 08:00:00 GMT\r\n")
}

// BenchmarkH1RoundTrip is one keep-alive GET with this package.
func BenchmarkH1RoundTrip(b *testing.B) {
	addr := benchServer(b)
	var c Client
	defer c.Close()
	req := &Request{Method: "GET", Addr: addr, Host: addr, URI: "/", Header: http.Header{}}
	var resp Response
	var tr Trace
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Do(context.Background(), req, &resp, false, &tr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNetHTTPRoundTrip is the same GET with net/http's client, for comparison.
func BenchmarkNetHTTPRoundTrip(b *testing.B) {
	addr := benchServer(b)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	defer c.CloseIdleConnections()
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", "http://"+addr+"/", nil)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// typicalHead is a response like a JSON API's behind a proxy: eight fields, a small body.
const typicalHead = "HTTP/1.1 200 OK\r\nServer: nginx/1.25.3\r\nDate: Sun, 22 Nov 2026 08:00:00 GMT\r\n" +
	"Content-Type: application/json; charset=utf-8\r\nContent-Length: 11\r\nConnection: keep-alive\r\n" +
	"Vary: Accept-Encoding\r\nX-Request-Id: 5f0c2a9e-6a3b-4d8e\r\nCache-Control: no-store\r\n\r\n{\"ok\":true}"

// benchHead reads the same keep-alive response over and over from memory, full or lean.
func benchHead(b *testing.B, lean bool) {
	raw := []byte(typicalHead)
	r := &repeatReader{b: raw}
	c := &Client{br: bufio.NewReaderSize(r, 4096)}
	req := &Request{Method: "GET", Lean: lean}
	var resp Response
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		resp.Body = resp.Body[:0]
		if _, err := c.readResponse(req, &resp, false); err != nil || resp.Status != 200 {
			b.Fatal(err)
		}
	}
}

// repeatReader yields b forever.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.b[r.off:])
	r.off = (r.off + n) % len(r.b)
	return n, nil
}

// BenchmarkHeadFull parses a typical response head into the header map (a check reads headers).
func BenchmarkHeadFull(b *testing.B) { benchHead(b, false) }

// BenchmarkHeadLean parses the same head with Request.Lean (no check reads headers).
func BenchmarkHeadLean(b *testing.B) { benchHead(b, true) }

// BenchmarkH1TLSRoundTrip is one keep-alive GET over TLS with this package (TLS 1.3, ECDSA P-256,
// the handshake once).
func BenchmarkH1TLSRoundTrip(b *testing.B) {
	scfg, ccfg := h1test.TLSConfigs(b)
	addr := h1test.OKTLSServer(b, "Date: Sun, 22 Nov 2026 08:00:00 GMT\r\n", scfg)
	var c Client
	defer c.Close()
	req := &Request{Method: "GET", Addr: addr, Host: addr, URI: "/", Header: http.Header{}, TLS: ccfg, Lean: true}
	var resp Response
	var tr Trace
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Do(context.Background(), req, &resp, false, &tr); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNetHTTPTLSRoundTrip is the same GET over TLS with net/http's client, for comparison.
func BenchmarkNetHTTPTLSRoundTrip(b *testing.B) {
	scfg, ccfg := h1test.TLSConfigs(b)
	addr := h1test.OKTLSServer(b, "Date: Sun, 22 Nov 2026 08:00:00 GMT\r\n", scfg)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2, TLSClientConfig: ccfg}}
	defer c.CloseIdleConnections()
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", "https://"+addr+"/", nil)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
