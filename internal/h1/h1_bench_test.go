package h1

import (
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
