package step

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/loadplan/loadplan/internal/jsonpath"
	"github.com/loadplan/loadplan/plan"
)

// Target is a plan target with its TLS configuration built once and shared by every VU.
type Target struct {
	Plan    *plan.Target // nil for index 0: steps with their own URL
	TLS     *tls.Config  // nil for the system defaults
	Timeout time.Duration
}

// ConnCauses are the causes ConnCause reports a connection failure with; the executor keeps a
// target's last cause as an index in it.
var ConnCauses = []string{"connection failed", "connection refused", "dns", "connect timeout",
	"network unreachable", "too many open files", "tls handshake"}

// ConnCause classifies err as a failure to connect (the request never reached the server) and
// names its cause; ok is false for errors after a connection was made.
func ConnCause(err error) (cause string, ok bool) {
	var dnsErr *net.DNSError
	var op *net.OpError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.As(err, &dnsErr):
		return "dns", true
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files", true
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &alert),
		strings.Contains(err.Error(), "TLS handshake timeout"):
		return "tls handshake", true
	case !errors.As(err, &op) || op.Op != "dial":
		return "", false
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "network unreachable", true
	case op.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "connect timeout", true
	}
	return "connection failed", true
}

// Capture extracts a json or regex capture from a body (an HTTP response, a WebSocket frame);
// doc caches the body's JSON. A JSON null, like a missing path, captures nothing. Other kinds
// (header, cookie) return false: they are the HTTP step's own.
func Capture(c *plan.Capture, body []byte, doc *jsonpath.Doc) (string, bool) {
	switch c.Kind {
	case plan.CaptureJSON:
		root, ok := doc.Get(body)
		if !ok {
			return "", false
		}
		v, ok := jsonpath.Lookup(root, c.Path)
		if !ok || v == nil {
			return "", false
		}
		return jsonpath.Text(v), true
	case plan.CaptureRegex:
		if c.Regexp == nil {
			return "", false
		}
		m := c.Regexp.FindSubmatch(body)
		if m == nil {
			return "", false
		}
		if len(m) > 1 {
			return string(m[1]), true
		}
		return string(m[0]), true
	}
	return "", false
}
