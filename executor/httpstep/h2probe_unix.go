//go:build unix

package httpstep

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// idleClean reports whether an idle HTTP/2 connection can take a request: its socket has
// nothing to read (one non-blocking peek, as internal/h1 probes an idle HTTP/1.1 connection).
// Bytes on an idle HTTP/2 connection are almost always the server's GOAWAY before its close;
// a request written there would be lost (net/http resends it unseen), so the connection is
// replaced before anything is written to it.
func idleClean(conn net.Conn) bool {
	if tc, ok := conn.(*tls.Conn); ok {
		conn = tc.NetConn()
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	var buf [1]byte
	ok = true
	err = raw.Read(func(fd uintptr) bool {
		// EAGAIN: nothing to read. No error: the server's close (0) or unasked-for bytes.
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = rerr != nil && errors.Is(rerr, syscall.EAGAIN)
		return true // never wait
	})
	return ok && err == nil
}
