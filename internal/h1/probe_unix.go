//go:build unix

package h1

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// Alive reports whether an idle keep-alive connection may still be used: it peeks at the socket
// without waiting (MSG_PEEK|MSG_DONTWAIT). End of file (the server closed it), unexpected bytes
// or an error mean it may not. A TLS connection is peeked at below TLS (any record there, a
// close_notify or an HTTP/2 GOAWAY, means the server spoke unasked). A connection that does not
// expose its descriptor is assumed alive. The VU's HTTP/2 client (executor/httpstep) probes its
// idle connections with it too.
func Alive(conn net.Conn) bool {
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
		// On an error n is -1, so look at the error first. EAGAIN: nothing to read, alive.
		// No error: n == 0 is the server's close, n > 0 bytes nobody asked for; either way not usable.
		_, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = rerr != nil && errors.Is(rerr, syscall.EAGAIN)
		return true // never wait
	})
	return ok && err == nil
}
