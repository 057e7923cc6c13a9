package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestFaultsWriteFirst repeats, with the write inside the wait turned off (writeFirst: the
// request written through the connection, then read), the tests whose servers count what they
// received; by default every plain test runs the write inside the wait.
func TestFaultsWriteFirst(t *testing.T) {
	tests := map[string]func(*testing.T){
		"StaleConnectionIsNotResent":                   TestStaleConnectionIsNotResent,
		"ResetAfterReadIsOneFailedRequest":             TestResetAfterReadIsOneFailedRequest,
		"DeadlineIsATimeout":                           TestDeadlineIsATimeout,
		"AbortEndsTheRequestInFlight":                  TestAbortEndsTheRequestInFlight,
		"IdleConnectionClosedByServerIsReplacedBefore": TestIdleConnectionClosedByServerIsReplacedBeforeWriting,
		"KeepAliveReusesOneConnection":                 TestKeepAliveReusesOneConnection,
		"HalfCloseWhileIdle":                           TestHalfCloseWhileIdle,
		"LargeBodyAndCounts":                           TestLargeBodyAndCounts,
		"NoWakeupLost":                                 TestNoWakeupLost,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			writeFirst.Store(true)
			defer writeFirst.Store(false)
			fn(t)
		})
	}
}

// TestPlainRequestsWriteInsideTheWait: a plain connection takes the write inside the wait, by
// default and behind a wrapper that counts (CountingConn); TLS and other wrappers do not.
func TestPlainRequestsWriteInsideTheWait(t *testing.T) {
	srv := newCounted(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	for _, tc := range []struct {
		name string
		wrap func(net.Conn) net.Conn
		want bool
	}{
		{"tcp", func(c net.Conn) net.Conn { return c }, true},
		{"counting", func(c net.Conn) net.Conn { return &countingConn{Conn: c} }, true},
		{"other wrapper", func(c net.Conn) net.Conn { return struct{ net.Conn }{c} }, false},
	} {
		c := Client{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return tc.wrap(conn), nil
		}}
		var resp Response
		if err := c.Do(context.Background(), get(srv.addr(), "/"), &resp, false, nil); err != nil || resp.Status != 200 {
			t.Fatalf("%s: status %d, %v", tc.name, resp.Status, err)
		}
		if got := c.w.rc != nil; got != (tc.want && !writeFirst.Load()) {
			t.Errorf("%s: write inside the wait %v, want %v", tc.name, got, tc.want)
		}
		c.Close()
	}
}

// countingConn counts what it carries, through its methods and through Count.
type countingConn struct {
	net.Conn
	in, out atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

func (c *countingConn) Count(in, out int) { c.in.Add(int64(in)); c.out.Add(int64(out)) }

func (c *countingConn) SyscallConn() (syscall.RawConn, error) {
	return c.Conn.(*net.TCPConn).SyscallConn()
}

// byteServer answers every request with a 100-byte body and counts the bytes it read and wrote,
// and the request bodies' bytes.
func byteServer(t *testing.T) (addr string, in, out, body *atomic.Int64) {
	in, out, body = new(atomic.Int64), new(atomic.Int64), new(atomic.Int64)
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + string(bytes.Repeat([]byte("x"), 100))
	addr, _ = rawServer(t, func(_ *bufio.Reader, w net.Conn) {
		r := bufio.NewReader(readCounter{w, in})
		for {
			if _, ok := readReqBody(r, body); !ok {
				return
			}
			out.Add(int64(len(resp))) // before the client can have read it
			if _, err := io.WriteString(w, resp); err != nil {
				return
			}
		}
	})
	return addr, in, out, body
}

type readCounter struct {
	r io.Reader
	n *atomic.Int64
}

func (r readCounter) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// readReqBody is readReq that counts the body bytes it read.
func readReqBody(r *bufio.Reader, body *atomic.Int64) (string, bool) {
	first, n := "", 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", false
		}
		if first == "" {
			first = line
		}
		if line == "\r\n" {
			break
		}
		if len(line) > 16 && http.CanonicalHeaderKey(line[:14]) == "Content-Length" {
			n, _ = strconv.Atoi(string(bytes.TrimSpace([]byte(line[15:]))))
		}
	}
	got, _ := r.Discard(n)
	body.Add(int64(got))
	return first, got == n
}

// TestLargeBodyAndCounts: a body larger than the socket takes at once (its rest written through
// the connection) arrives whole, and a counting wrapper's bytes equal the server's, both ways.
func TestLargeBodyAndCounts(t *testing.T) {
	addr, in, out, body := byteServer(t)
	var cc *countingConn
	c := Client{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cc = &countingConn{Conn: conn}
		return cc, nil
	}}
	defer c.Close()
	big := bytes.Repeat([]byte("b"), 16<<20)
	var resp Response
	var sent int64
	for i, b := range [][]byte{nil, big, []byte("small"), big, nil} {
		req := get(addr, "/")
		if b != nil {
			req.Method, req.Body = "POST", b
		}
		if err := c.Do(context.Background(), req, &resp, true, nil); err != nil || resp.Status != 200 || len(resp.Body) != 100 {
			t.Fatalf("request %d: status %d, %d bytes, %v", i, resp.Status, len(resp.Body), err)
		}
		resp.Body = resp.Body[:0]
		sent += int64(len(b))
	}
	c.Close()
	if body.Load() != sent || cc.out.Load() != in.Load() || cc.in.Load() != out.Load() {
		t.Fatalf("server read %d body bytes of %d sent; %d bytes in all, client counted %d; server wrote %d, client counted %d",
			body.Load(), sent, in.Load(), cc.out.Load(), out.Load(), cc.in.Load())
	}
}

// TestNoWakeupLost: many round trips on a few connections, each bounded by a deadline: a
// response whose readiness the poller forgot would fail its request with a timeout. Every
// request is answered, and the server counted each once.
func TestNoWakeupLost(t *testing.T) {
	srv := newCounted(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	const clients, each = 4, 500
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			var c Client
			defer c.Close()
			var resp Response
			for range each {
				req := get(srv.addr(), "/")
				req.Deadline = time.Now().Add(5 * time.Second)
				if err := c.Do(context.Background(), req, &resp, false, nil); err != nil || resp.Status != 200 {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 || srv.reqs.Load() != clients*each || srv.conns.Load() != clients {
		t.Fatalf("%d failed; server saw %d requests on %d connections, want %d on %d",
			failed.Load(), srv.reqs.Load(), srv.conns.Load(), clients*each, clients)
	}
}

// TestHalfCloseWhileIdle: the server half-closes an idle connection (its FIN sent, still
// reading, as a lingering close does) within the idle probe's grace, so the next request is
// written to it. That request fails — at once with EOF when written before the read, at its
// deadline when written inside the wait (the FIN's edge was consumed before it: see the
// package doc) — and is counted once, as the server read it; the next dials afresh.
func TestHalfCloseWhileIdle(t *testing.T) {
	var answered, read atomic.Int64
	readSecond := make(chan struct{}, 1)
	var seen atomic.Int64
	addr, conns := rawServer(t, func(r *bufio.Reader, w net.Conn) {
		first := seen.Add(1) == 1
		if _, ok := readReq(r); !ok {
			return
		}
		read.Add(1)
		answered.Add(1)
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		if !first {
			return
		}
		w.(*net.TCPConn).CloseWrite()
		if _, ok := readReq(r); ok {
			read.Add(1)
			readSecond <- struct{}{}
		}
	})
	var c Client
	defer c.Close()
	var resp Response
	var ok, failed int64
	for i := 0; i < 3; i++ {
		req := get(addr, "/")
		req.Deadline = time.Now().Add(500 * time.Millisecond)
		err := c.Do(context.Background(), req, &resp, false, nil)
		var ne net.Error
		switch {
		case err == nil:
			ok++
		case retryableKind(err) || errors.As(err, &ne) && ne.Timeout():
			failed++
			<-readSecond
		default:
			t.Fatalf("request %d: %v, want EOF or a timeout", i, err)
		}
		if i == 0 {
			time.Sleep(20 * time.Millisecond) // let the FIN arrive (not a timing assertion)
		}
	}
	if ok != answered.Load() || ok+failed != read.Load() || failed != 1 || conns.Load() != 2 {
		t.Fatalf("client: %d ok, %d failed; server answered %d, read %d, on %d connections; want 2, 1, 2, 3, 2",
			ok, failed, answered.Load(), read.Load(), conns.Load())
	}
}
