package step

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
)

func TestConnCause(t *testing.T) {
	dial := func(err error) error {
		return &url.Error{Op: "Get", URL: "http://127.0.0.1:1/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	for _, c := range []struct {
		err   error
		cause string // "" when not a connection failure
	}{
		{dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), "connection refused"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, "connection refused"},
		{dial(&net.DNSError{Err: "no such host", Name: "nowhere.invalid", IsNotFound: true}), "dns"},
		{dial(os.NewSyscallError("socket", syscall.EMFILE)), "too many open files"},
		{dial(os.NewSyscallError("connect", syscall.ENETUNREACH)), "network unreachable"},
		{dial(context.DeadlineExceeded), "connect timeout"},
		{dial(errors.New("something else")), "connection failed"},
		{&url.Error{Op: "Get", URL: "https://x/", Err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}}, "tls handshake"},
		{&tls.CertificateVerificationError{Err: errors.New("unknown authority")}, "tls handshake"},
		{errors.New("net/http: TLS handshake timeout"), "tls handshake"},
		// after a connection was made: the target was reached
		{&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, ""},
		{io.EOF, ""},
		{io.ErrUnexpectedEOF, ""},
		{context.Canceled, ""},
		{errors.New("step timeout"), ""}, // a step timeout cancels a request that had its connection
	} {
		cause, ok := ConnCause(c.err)
		if cause != c.cause || ok != (c.cause != "") {
			t.Errorf("ConnCause(%v) = %q, %v; want %q", c.err, cause, ok, c.cause)
		}
	}
}
