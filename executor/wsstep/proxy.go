package wsstep

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/loadplan/loadplan/plan"
)

// connectProxy opens a tunnel to addr through the HTTP proxy p on c, a connection to p: a
// WebSocket goes through a proxy in a CONNECT tunnel, ws as well as wss, as browsers do (a
// forward proxy may not pass an Upgrade). The proxy's user info becomes Proxy-Authorization;
// an error never quotes p (its credentials are secrets).
func connectProxy(ctx context.Context, c net.Conn, p *url.URL, addr string) error {
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
		defer c.SetDeadline(time.Time{})
	}
	req := "CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n"
	if u := p.User; u != nil {
		pw, _ := u.Password()
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)) + "\r\n"
	}
	if _, err := c.Write([]byte(req + "\r\n")); err != nil {
		return err
	}
	// One byte at a time: nothing past the proxy's answer may be read here, the tunnel's first
	// bytes belong to TLS or the WebSocket.
	br := bufio.NewReaderSize(oneByte{c}, 16)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return fmt.Errorf("proxy CONNECT: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("proxy refused the tunnel: HTTP %d", resp.StatusCode)
	}
	return nil
}

// proxyAddr is the address to dial for proxy p (default port 80), or an error for a proxy a
// WebSocket cannot use (only http:// proxies speak CONNECT here).
func proxyAddr(p *url.URL) (string, error) {
	if p.Scheme != "http" {
		return "", fmt.Errorf("a WebSocket goes through http:// proxies only, not %s://", p.Scheme)
	}
	if p.Port() == "" {
		return net.JoinHostPort(p.Hostname(), "80"), nil
	}
	return p.Host, nil
}

// errWSProxyEnv is a proxy variable that is no URL; it is not quoted, as it may hold credentials.
var errWSProxyEnv = errors.New("HTTP_PROXY or HTTPS_PROXY is not a proxy URL")

// proxyFor returns the proxy a handshake to addr (host:port) of target t goes through, nil for
// a direct connection: the target's (resolved at load from its proxy attribute or the
// environment), else, for a block with its own URL, the environment's for ws (HTTP_PROXY) or
// wss (HTTPS_PROXY), NO_PROXY and loopback excepted.
func (sh *wsShared) proxyFor(t *plan.Target, addr string, secure bool) (*url.URL, error) {
	if t != nil {
		return t.Proxy, nil
	}
	if !sh.proxyEnv.Set() {
		return nil, nil
	}
	scheme := "ws"
	if secure {
		scheme = "wss"
	}
	p, err := sh.proxyEnv.For(&url.URL{Scheme: scheme, Host: addr})
	// httpproxy retries an unparsable value as "http://" + value, which parses into a nonsense
	// host and a path (plan checks targets' the same way)
	if err != nil || (p != nil && (p.Hostname() == "" || (p.Path != "" && p.Path != "/"))) {
		return nil, errWSProxyEnv
	}
	return p, nil
}

// preflightURL is what the executor's preflight dials for a block reaching raw: the proxy its
// handshakes go through when one applies (the origin may not even resolve from here), else raw.
func (sh *wsShared) preflightURL(t *plan.Target, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	secure := u.Scheme == "wss" || u.Scheme == "https"
	port := u.Port()
	if port == "" {
		port = map[bool]string{false: "80", true: "443"}[secure]
	}
	if p, err := sh.proxyFor(t, net.JoinHostPort(u.Hostname(), port), secure); err == nil && p != nil {
		return p.String()
	}
	return raw
}

// oneByte reads at most one byte per call, so that a buffered reader above it never reads past
// the proxy's response head.
type oneByte struct{ net.Conn }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.Conn.Read(p)
}
