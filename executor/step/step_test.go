package step

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"syscall"
	"testing"

	"github.com/loadplan/loadplan/internal/jsonpath"
	"github.com/loadplan/loadplan/plan"
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

// TestCapture: one rule for HTTP bodies and WebSocket frames — numbers as sent, a JSON null
// or a missing path captures nothing, a regex gives its first group, or the whole match.
func TestCapture(t *testing.T) {
	body := []byte(`{"id": 12345678901234567890123, "p": 1.50, "n": null, "s": "x-42"}`)
	var doc jsonpath.Doc
	for _, c := range []struct {
		capture *plan.Capture
		want    string
		ok      bool
	}{
		{&plan.Capture{Kind: plan.CaptureJSON, Path: "id"}, "12345678901234567890123", true},
		{&plan.Capture{Kind: plan.CaptureJSON, Path: "$.p"}, "1.50", true},
		{&plan.Capture{Kind: plan.CaptureJSON, Path: "n"}, "", false},
		{&plan.Capture{Kind: plan.CaptureJSON, Path: "missing"}, "", false},
		{&plan.Capture{Kind: plan.CaptureRegex, Regexp: regexp.MustCompile(`x-(\d+)`)}, "42", true},
		{&plan.Capture{Kind: plan.CaptureRegex, Regexp: regexp.MustCompile(`x-\d+`)}, "x-42", true},
		{&plan.Capture{Kind: plan.CaptureHeader, Path: "id"}, "", false},
	} {
		got, ok := Capture(c.capture, body, &doc)
		if got != c.want || ok != c.ok {
			t.Errorf("%+v: %q %v, want %q %v", c.capture, got, ok, c.want, c.ok)
		}
	}
}
