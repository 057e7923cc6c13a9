package h1

import (
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
)

// wire is what c.br reads from: the connection, except that the first read of a response on a
// plain connection may carry the request (out) with it, written inside syscall.RawConn.Read's
// callback so that the runtime waits for the response without a read that finds nothing (see
// "Write inside the wait" in the package doc). Owned by the Client's goroutine.
type wire struct {
	conn  net.Conn        // raw, or the *tls.Conn over it
	rc    syscall.RawConn // the plain connection's socket; nil for TLS or a socket not exposed
	count func(in, out int)
	clock func() int64
	step  func(fd uintptr) bool // w.writeThenRead, bound once per connection (no allocation per request)

	// The state of one writeThenRead, in the struct so that step needs no closure per request.
	out     []byte // the request to write in the next Read; nil when written already
	p       []byte // the read's buffer
	sent, n int
	written bool
	werr    error // the write's error
	rerr    error // the read's error
	wrote   int64 // the clock reading after the request was written in Read
}

// CountingConn is a wrapper of a dialled connection (a Client's Dial may return one) that counts
// the bytes it carries: the plain path writes and reads its socket directly, then tells Count
// what it moved, so that the wrapper's counts stay what they would be through Read and Write. A
// wrapper that is a syscall.Conn without Count is read and written through its methods only.
type CountingConn interface {
	net.Conn
	syscall.Conn
	Count(in, out int)
}

// reset points w at a new connection: raw is the dialled one, conn what is read (raw or TLS).
func (w *wire) reset(conn, raw net.Conn, tls bool, clock func() int64) {
	w.conn, w.rc, w.count, w.out, w.clock = conn, nil, nil, nil, clock
	if tls || !waitFirstOK || writeFirst.Load() {
		return
	}
	var sc syscall.Conn
	switch c := raw.(type) {
	case *net.TCPConn:
		sc = c
	case CountingConn:
		sc, w.count = c, c.Count
	default:
		return
	}
	if rc, err := sc.SyscallConn(); err == nil {
		w.rc = rc
		if w.step == nil {
			w.step = w.writeThenRead
		}
	}
}

// Read reads the connection. With a request pending (out), it writes it and waits for the
// response's first bytes in one RawConn.Read; what the socket would not take at once is
// written through the connection, honouring its deadline, and the response then read as usual.
func (w *wire) Read(p []byte) (int, error) {
	if w.out == nil {
		return w.conn.Read(p)
	}
	out := w.out
	w.p, w.sent, w.n, w.written, w.werr, w.rerr = p, 0, 0, false, nil, nil
	err := w.rc.Read(w.step)
	w.out, w.p = nil, nil
	if w.count != nil {
		w.count(w.n, w.sent)
	}
	switch {
	case err != nil:
		return 0, err // the deadline (or Abort) before the write, or while waiting
	case w.werr != nil:
		return 0, w.opErr("write", w.werr)
	case w.sent < len(out):
		// The socket's buffer is full (a large body): the rest through the connection, as on
		// the other path, then the response is read as usual.
		if _, err := w.conn.Write(out[w.sent:]); err != nil {
			return 0, err
		}
		w.wrote = w.clock()
		return w.conn.Read(p)
	case w.rerr != nil:
		return 0, w.opErr("read", w.rerr)
	case w.n == 0:
		return 0, io.EOF
	}
	return w.n, nil
}

// opErr wraps a system call's error as net's Read and Write wrap theirs, so that callers see
// the same errors on either path (errors.Is(err, syscall.ECONNRESET), net.Error).
func (w *wire) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: w.conn.LocalAddr(), Addr: w.conn.RemoteAddr(),
		Err: os.NewSyscallError(op, err)}
}

// writeFirst turns the write inside the wait off for connections dialled from then on: the
// request is written through the connection and the response read as on TLS (tests and
// benchmarks comparing both).
var writeFirst atomic.Bool
