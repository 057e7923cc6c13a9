// Package h1test provides a loopback HTTP/1.1 server for allocation benchmarks of HTTP clients.
package h1test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"net"
	"testing"
)

// OKServer starts a minimal keep-alive HTTP/1.1 server on 127.0.0.1 that allocates nothing per
// request, so that allocation counts are the client's alone. It answers every request with "ok";
// extraHeaders (each line ending in "\r\n") are added to the response. It reads each request's
// headers and its Content-Length body, and stops when tb's test ends. It returns host:port.
func OKServer(tb testing.TB, extraHeaders string) string {
	return okServer(tb, extraHeaders, nil)
}

func okServer(tb testing.TB, extraHeaders string, cfg *tls.Config) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	tb.Cleanup(func() { ln.Close() })
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n" + extraHeaders + "\r\nok")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c, resp)
		}
	}()
	return ln.Addr().String()
}

func serve(c net.Conn, resp []byte) {
	defer c.Close()
	r := bufio.NewReader(c)
	const cl = "content-length:"
	for {
		// headers up to the blank line, then any Content-Length body
		n := 0
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 {
				break
			}
			if len(line) > len(cl) && bytes.EqualFold(line[:len(cl)], []byte(cl)) {
				for _, d := range bytes.TrimSpace(line[len(cl):]) {
					n = n*10 + int(d-'0')
				}
			}
		}
		if _, err := r.Discard(n); err != nil {
			return
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}
