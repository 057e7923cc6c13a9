package wsstep

import (
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // RFC 6455 §4.2.2 defines Sec-WebSocket-Accept with SHA-1
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/metrics"
)

// wsGUID is the key suffix of RFC 6455 §1.3.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// wsHandshake makes the opening handshake of RFC 6455 §4.1 with client (its transport dials,
// counts and wraps the connection as for the library): a GET with the upgrade headers, the
// plan's headers and subprotocols, and no extension offered. A 101 whose Connection, Upgrade,
// Sec-WebSocket-Accept, subprotocol and extensions hold is the upgraded connection; any other
// answer is an error, with the response when there was one (its status decides ws_errors' kind,
// as for the library).
func wsHandshake(ctx context.Context, client *http.Client, rawURL string, h http.Header, protos []string) (io.ReadWriteCloser, *http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("url: %w", err)
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	case "http", "https":
	default:
		return nil, nil, fmt.Errorf("url scheme %q is not ws, wss, http or https", u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	var k [16]byte
	_, _ = rand.Read(k[:]) // crypto/rand.Read does not fail
	key := base64.StdEncoding.EncodeToString(k[:])
	req.Header = h.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", key)
	if len(protos) > 0 {
		req.Header.Set("Sec-WebSocket-Protocol", strings.Join(protos, ","))
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("handshake request: %w", err)
	}
	if err := wsVerify(resp, key, protos); err != nil {
		resp.Body.Close()
		return nil, resp, err
	}
	rwc, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		resp.Body.Close()
		return nil, resp, fmt.Errorf("the 101 response's body is a %T, not the connection", resp.Body)
	}
	return rwc, resp, nil
}

// wsVerify checks the server's answer to the handshake (RFC 6455 §4.1, the client's checks).
func wsVerify(resp *http.Response, key string, protos []string) error {
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("expected handshake response status code 101 but got %d", resp.StatusCode)
	}
	if !wsHasToken(resp.Header, "Connection", "upgrade") {
		return fmt.Errorf("protocol violation: Connection header %q does not contain Upgrade", resp.Header.Get("Connection"))
	}
	if !wsHasToken(resp.Header, "Upgrade", "websocket") {
		return fmt.Errorf("protocol violation: Upgrade header %q does not contain websocket", resp.Header.Get("Upgrade"))
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != wsAccept(key) {
		return fmt.Errorf("protocol violation: invalid Sec-WebSocket-Accept %q", got)
	}
	if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "" {
		ok := false
		for _, want := range protos {
			ok = ok || strings.EqualFold(want, p)
		}
		if !ok {
			return fmt.Errorf("protocol violation: unexpected Sec-WebSocket-Protocol from server: %q", p)
		}
	}
	for _, e := range resp.Header.Values("Sec-WebSocket-Extensions") {
		if strings.TrimSpace(e) != "" {
			return errors.New("protocol violation: the server accepted an extension none was offered: " + e)
		}
	}
	return nil
}

// wsAccept is the Sec-WebSocket-Accept that answers key.
func wsAccept(key string) string {
	s := sha1.Sum([]byte(key + wsGUID)) //nolint:gosec // the RFC's definition
	return base64.StdEncoding.EncodeToString(s[:])
}

// wsHasToken reports whether header name holds token (case-insensitive) in its comma lists.
func wsHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// wsTrace is the trace context of one handshake: its span id and sampled flag; on says that
// loadplan's trace header went with it (not one the plan set itself).
type wsTrace struct {
	id      [8]byte
	sampled bool
	on      bool
	start   int64 // Unix ns when the handshake began
}

// startTrace gives a handshake its span (each handshake, a reconnect's too, is a request of its
// own) and sets its trace headers into h, the handshake's own header map.
func (w *wsVU) startTrace(h http.Header) wsTrace {
	c := w.traceConf
	if w.trace == nil {
		return wsTrace{}
	}
	t := wsTrace{start: time.Now().UnixNano()} // dial sets it again when the handshake begins
	if c.Header != "" {
		t.id, t.sampled = w.trace.NewSpan(c)
		t.on = true
		h.Set(c.Header, w.trace.HeaderValue(c, t.id, t.sampled))
	}
	if c.Baggage != "" {
		h.Set(step.HeaderBaggage, c.Baggage)
	}
	return t
}

// span is the handshake's TraceSpan for its ws_connecting sample (errKind "") or its ws_errors
// sample (errKind its label) when it is traced and sampled or failed; nil otherwise. A
// handshake's timing is one figure (ws_connecting), so its phases stay 0.
func (w *wsVU) span(t *wsTrace, errKind string) *metrics.TraceSpan {
	if !t.on || (!t.sampled && errKind == "") {
		return nil
	}
	return w.trace.Span(t.id, t.sampled, t.start, errKind, [6]float32{})
}
