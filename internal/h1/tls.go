package h1

import (
	"context"
	"crypto/tls"
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
		return nil, err
	}
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		return nil, &H2Error{Conn: tc}
	}
	return tc, nil
}
