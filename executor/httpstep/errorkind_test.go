package httpstep

import (
	"net"
	"os"
	"syscall"
	"testing"
)

// TestErrorKindTooManyOpenFiles: fd exhaustion, in the process or the system, is named.
func TestErrorKindTooManyOpenFiles(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE} {
		err := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", errno)}
		if k := errorKind(err, nil); k != "too many open files" {
			t.Errorf("%v: kind %q, want too many open files", err, k)
		}
	}
}
