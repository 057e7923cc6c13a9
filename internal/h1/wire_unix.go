//go:build unix

package h1

import "syscall"

// waitFirstOK: the request is written inside the wait for its response (wire).
const waitFirstOK = true

// writeThenRead is the RawConn.Read callback of wire.Read. The runtime resets the socket's read
// readiness before the first call, so a response arriving after the write is an edge it keeps:
// the first call writes the request and returns false to wait for it, without a read that would
// find nothing; the next reads. What the socket did not take (its buffer full) is left to the
// caller, and nothing is read then.
func (w *wire) writeThenRead(fd uintptr) bool {
	if !w.written {
		w.written = true
		for w.sent < len(w.out) {
			m, err := rawWrite(fd, w.out[w.sent:])
			if err == syscall.EINTR {
				continue
			}
			if m > 0 {
				w.sent += m
			}
			if err == syscall.EAGAIN {
				return true // the socket's buffer is full: the caller writes the rest
			}
			if err != nil {
				w.werr = err
				return true
			}
		}
		w.wrote = w.clock()
		return false // wait for the response's first edge
	}
	for {
		w.n, w.rerr = rawRead(fd, w.p)
		if w.rerr != syscall.EINTR {
			break
		}
	}
	if w.n < 0 {
		w.n = 0
	}
	return w.rerr != syscall.EAGAIN // woken for something else: wait again
}
