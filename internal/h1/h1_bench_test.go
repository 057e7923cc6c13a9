package h1

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
)

// benchServer is an allocation-free keep-alive server answering every request with "ok", so
// that allocations counted are the client's.
func benchServer(b *testing.B) string {
	out := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\nDate: Sun, 22 Nov 2026 08:00:00 GMT\r\n\r\nok")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					for {
						line, err := r.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) == 2 {
							break
						}
					}
					if _, err := c.Write(out); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
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
