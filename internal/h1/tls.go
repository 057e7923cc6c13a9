package h1

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
)

// H2Error ends a Do whose TLS handshake chose HTTP/2 through ALPN, which this client does not
// speak: nothing was written on Conn, and the caller owns it (to hand it to an HTTP/2 client, or
// to close it). The request was not sent.
type H2Error struct {
	Conn *tls.Conn
}

func (e *H2Error) Error() string { return "h1: the server chose HTTP/2 (ALPN h2)" }

// handshake runs the TLS client handshake over raw, bounded by ctx (the request's deadline and
// the caller's cancellation). On failure raw is closed; when the server chose h2 the error is an
// *H2Error holding the connection.
func handshake(ctx context.Context, raw net.Conn, cfg *tls.Config) (net.Conn, error) {
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, &HandshakeError{Err: err}
	}
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		return nil, &H2Error{Conn: tc}
	}
	return tc, nil
}

// HandshakeError is a failed TLS handshake: the connection was made, the request not sent.
// Its text says "TLS handshake timeout" for a timeout, as net/http's does, so that both paths
// name the cause alike; Err is the cause (a certificate error, an alert, a deadline).
type HandshakeError struct{ Err error }

func (e *HandshakeError) Error() string {
	if e.Timeout() {
		return "h1: TLS handshake timeout"
	}
	return "h1: TLS handshake: " + e.Err.Error()
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// Timeout reports whether the handshake ran out of time (the request's deadline).
func (e *HandshakeError) Timeout() bool {
	var ne net.Error
	return errors.Is(e.Err, context.DeadlineExceeded) || errors.As(e.Err, &ne) && ne.Timeout()
}

// Temporary is false: net.Error asks for it, and nothing here is retried.
func (e *HandshakeError) Temporary() bool { return false }
