package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// parseOne reads one response from raw in memory; left is how many bytes of raw it did not use.
func parseOne(raw, method string) (resp Response, closeAfter bool, left int, err error) {
	r := strings.NewReader(raw)
	c := &Client{br: bufio.NewReaderSize(r, 64)}
	closeAfter, err = c.readResponse(&Request{Method: method}, &resp, true)
	return resp, closeAfter, c.br.Buffered() + r.Len(), err
}

// TestFramingDecisions pins what h1 does where RFC 9112 leaves a choice or where it differs from
// net/http on purpose (the package doc says why); FuzzResponse checks the rest against net/http.
func TestFramingDecisions(t *testing.T) {
	const next = "HTTP/1.1 204 No Content\r\n\r\n"
	cases := []struct {
		name, raw, method string
		status            int
		body              string
		header            http.Header // nil: not checked
		close             bool
		err               string // substring of a ProtocolError; "" for none
		left              int    // bytes left for the next response (not checked for an error in the head)
	}{
		{name: "gzip, chunked is framed as chunked, then refused",
			raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + next,
			err: `transfer coding "gzip, chunked"`, close: true, left: len(next)},
		{name: "chunked not last is refused at once",
			raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nabc", err: "not the final coding", close: true, left: 3},
		{name: "Content-Length beside chunked is dropped",
			raw:    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\nX-A: 1\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + next,
			status: 200, body: "abc", header: http.Header{"X-A": {"1"}}, left: len(next)},
		{name: "equal Content-Length fields become one",
			raw:    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length:  3 \r\n\r\nabc" + next,
			status: 200, body: "abc", header: http.Header{"Content-Length": {"3"}}, left: len(next)},
		{name: "different Content-Length fields", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
			err: "conflicting Content-Length", close: true, left: 4},
		{name: "signed Content-Length", raw: "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc", err: "bad Content-Length", close: true, left: 3},
		{name: "1xx interim responses are skipped",
			raw:    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", header: http.Header{"Content-Length": {"2"}}},
		{name: "obs-fold is joined with one space",
			raw:    "HTTP/1.1 200 OK\r\nX-F: a\r\n  b\r\n\tc\r\nContent-Length: 0\r\n\r\n",
			status: 200, header: http.Header{"X-F": {"a b c"}, "Content-Length": {"0"}}},
		{name: "bare LF ends head lines", raw: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", status: 200, body: "ok"},
		{name: "bare LF does not end a chunk line",
			raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", err: "CR LF", close: true, left: 10},
		{name: "chunk extensions and trailer fields are dropped",
			raw:    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3;a=\"b\"\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n" + next,
			status: 200, body: "abc", header: http.Header{}, left: len(next)},
		{name: "trailer fields may end with bare LFs (net/http wants CR LF CR LF)",
			raw:    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-Sum: 1\n\n" + next,
			status: 200, body: "x", left: len(next)},
		{name: "HTTP/1.0 keep-alive keeps the connection",
			raw:    "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok" + next,
			status: 200, body: "ok", header: http.Header{"Connection": {"keep-alive"}, "Content-Length": {"2"}}, left: len(next)},
		{name: "close among other tokens closes, and is taken out of Header",
			raw:    "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", header: http.Header{"Content-Length": {"2"}}, close: true},
		{name: "a later HTTP/1.x minor version is read as 1.1", raw: "HTTP/1.2  200 OK\r\nContent-Length: 0\r\n\r\n", status: 200},
		{name: "HTTP/2.0 is refused", raw: "HTTP/2.0 200 OK\r\n\r\n", err: "version", close: true},
		{name: "a signed status code is refused", raw: "HTTP/1.1 +20 OK\r\n\r\n", err: "status code", close: true},
		{name: "a continuation line first is refused", raw: "HTTP/1.1 200 OK\r\n x: y\r\n\r\n", err: "continuation", close: true},
		{name: "a control character in a value is refused", raw: "HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n", err: "header line", close: true},
		{name: "a name that is not a token is refused", raw: "HTTP/1.1 200 OK\r\nX(y): 1\r\n\r\n", err: "header name", close: true},
	}
	for _, tc := range cases {
		method := tc.method
		if method == "" {
			method = "GET"
		}
		resp, closeAfter, left, err := parseOne(tc.raw, method)
		var pe *ProtocolError
		switch {
		case tc.err == "" && err != nil, tc.err != "" && (!errors.As(err, &pe) || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		case tc.err == "" && (resp.Status != tc.status || string(resp.Body) != tc.body):
			t.Errorf("%s: status %d body %q, want %d %q", tc.name, resp.Status, resp.Body, tc.status, tc.body)
		case tc.header != nil && !reflect.DeepEqual(resp.Header, tc.header):
			t.Errorf("%s: header %q, want %q", tc.name, resp.Header, tc.header)
		case closeAfter != tc.close || (left != tc.left && (tc.err == "" || tc.left != 0)):
			t.Errorf("%s: close %v with %d bytes left, want %v and %d", tc.name, closeAfter, left, tc.close, tc.left)
		}
	}
}

// TestHugeLengthsAreReadAsTheyArrive: a Content-Length or chunk size far beyond what arrives is
// an unexpected EOF, not a buffer of that size (it was a makeslice panic).
func TestHugeLengthsAreReadAsTheyArrive(t *testing.T) {
	for _, raw := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 4611686018427387904\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\nabc",
	} {
		for _, keep := range []bool{true, false} {
			r := strings.NewReader(raw)
			c := &Client{br: bufio.NewReader(r)}
			var resp Response
			if _, err := c.readResponse(&Request{Method: "GET"}, &resp, keep); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%q (keep %v): %v, want unexpected EOF", raw, keep, err)
			}
			if cap(resp.Body) > 1<<20 {
				t.Errorf("%q: a body buffer of %d bytes for 3 bytes sent", raw, cap(resp.Body))
			}
		}
	}
}

// TestHeadSizeIsBounded: interim and final heads share one 1 MiB budget, so a server sending
// 100 Continue without end is cut off by size, not only by the deadline.
func TestHeadSizeIsBounded(t *testing.T) {
	for _, raw := range []string{
		strings.Repeat("HTTP/1.1 100 Continue\r\nX-Pad: "+strings.Repeat("p", 1000)+"\r\n\r\n", 1100),
		"HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 1000)+"\r\n", 1100) + "\r\n",
		"HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("p", 2<<20) + "\r\n\r\n",
	} {
		_, _, _, err := parseOne(raw, "GET")
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Errorf("%d-byte head: %v, want a ProtocolError", len(raw), err)
		}
	}
}

// TestGzipChunkedEndsWithTheResponse: a server that answers "Transfer-Encoding: gzip, chunked"
// and keeps the connection open gets an error naming the coding as soon as its body ends, not a
// timeout (the body was read until the deadline), and the client closes the connection.
func TestGzipChunkedEndsWithTheResponse(t *testing.T) {
	var reqs atomic.Int64
	hungUp := make(chan struct{}, 2)
	addr, conns := rawServer(t, func(r *bufio.Reader, w net.Conn) {
		for {
			if _, ok := readReq(r); !ok {
				hungUp <- struct{}{} // the client closed the connection
				return
			}
			reqs.Add(1)
			io.WriteString(w, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
		}
	})
	var c Client
	defer c.Close()
	var resp Response
	for i := 0; i < 2; i++ {
		req := get(addr, "/")
		req.Deadline = time.Now().Add(time.Minute)
		err := c.Do(context.Background(), req, &resp, true, nil)
		var pe *ProtocolError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "gzip") {
			t.Fatalf("request %d: %v, want a ProtocolError naming gzip", i, err)
		}
	}
	<-hungUp
	<-hungUp
	if reqs.Load() != 2 || conns.Load() != 2 {
		t.Errorf("server saw %d requests on %d connections, want 2 on 2", reqs.Load(), conns.Load())
	}
}

// TestSeedsAgreeWithNetHTTP names each seed of FuzzResponse in the plain test run, with both
// read buffer sizes and both methods (FuzzResponse runs them too, unnamed).
func TestSeedsAgreeWithNetHTTP(t *testing.T) {
	for _, s := range responseSeeds {
		for _, m := range []string{"GET", "HEAD"} {
			for _, size := range []int{16, 4096} {
				compareResponses(t, []byte(s), m, size)
			}
		}
	}
	// Bodies of every length around the 16-byte read buffer, chunked and not, twice in a row.
	for n := 0; n < 70; n++ {
		body := strings.Repeat("b", n)
		chunked := fmt.Sprintf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", n, body)
		if n == 0 {
			chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
		}
		plain := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", n, body)
		for _, raw := range []string{chunked, plain} {
			compareResponses(t, []byte(raw+raw), "GET", 16)
		}
	}
}

// TestNoAllocationsPerResponse: a keep-alive response like the previous one, with a length or
// chunked (whose Transfer-Encoding field is taken out of Header and put back), costs no
// allocation to read (a count, not a timing), full or lean.
func TestNoAllocationsPerResponse(t *testing.T) {
	for _, lean := range []bool{false, true} {
		for _, raw := range []string{
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok",
			"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\n\r\n",
			"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Request-Id: 7\r\nContent-Length: 2\r\n\r\nok",
		} {
			if !lean && strings.Contains(raw, "X-Request-Id") {
				continue // a name outside commonKeys costs its canonical key in a full head
			}
			r := strings.NewReader(strings.Repeat(raw, 300))
			c := &Client{br: bufio.NewReader(r)}
			var resp Response
			allocs := testing.AllocsPerRun(200, func() {
				resp.Body = resp.Body[:0]
				if _, err := c.readResponse(&Request{Method: "GET", Lean: lean}, &resp, true); err != nil || string(resp.Body) != "ok" {
					t.Fatalf("%q: %v, body %q", raw, err, resp.Body)
				}
			})
			if allocs != 0 {
				t.Errorf("lean %v, %q: %v allocations per response", lean, raw, allocs)
			}
		}
	}
}

// TestCloseAmongOtherTokens: "Connection: keep-alive, close" ends the connection as plain close
// does (the whole value was compared with "close", so the client sent its next request on the
// same connection). The server keeps its side open and counts requests sent after it said close.
func TestCloseAmongOtherTokens(t *testing.T) {
	var reqs, afterClose atomic.Int64
	addr, conns := rawServer(t, func(r *bufio.Reader, w net.Conn) {
		for n := 0; ; n++ {
			if _, ok := readReq(r); !ok {
				return
			}
			reqs.Add(1)
			if n > 0 {
				afterClose.Add(1)
			}
			io.WriteString(w, "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 3\r\n\r\nbye")
		}
	})
	var c Client
	var resp Response
	for i := 0; i < 3; i++ {
		resp.Body = resp.Body[:0]
		if err := c.Do(context.Background(), get(addr, "/"), &resp, true, nil); err != nil || string(resp.Body) != "bye" {
			t.Fatalf("request %d: %v, body %q", i, err, resp.Body)
		}
	}
	c.Close()
	if reqs.Load() != 3 || conns.Load() != 3 || afterClose.Load() != 0 {
		t.Fatalf("server saw %d requests on %d connections, %d after it said close; want 3, 3, 0",
			reqs.Load(), conns.Load(), afterClose.Load())
	}
}
