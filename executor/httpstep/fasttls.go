package httpstep

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"

	"github.com/loadplan/loadplan/internal/h1"
)

// sessionCacheSize is how many TLS sessions a VU keeps per target: one per host it talks to,
// as a browser keeps one per origin. Only the hosts of one target share a cache.
const sessionCacheSize = 4

// tlsConfig returns the VU's TLS configuration for https requests of target i to u's host: the
// target's settings (insecure_skip_verify, CA, client certificate), SNI = the URL's host as
// net/http sets it, ALPN offering h2 then http/1.1 (the server decides, as net/http lets it),
// and a session cache of the VU's own.
//
// The cache is per VU and target, not shared by every VU: a VU is one user, one browser, and
// resumes its own sessions after the server closed a connection; a run-wide cache would let
// 5,000 VUs resume the first VU's session, an unrealistically cheap handshake mix for the
// target. The pointer stays the same while the host does, so that h1 reuses the connection.
func (h *httpState) tlsConfig(i int, u *url.URL) *tls.Config {
	f := &h.fast
	if f.tls == nil {
		f.tls = make([]*tls.Config, len(h.targets))
		f.tlsHost = make([]string, len(h.targets))
	}
	host := u.Hostname()
	if c := f.tls[i]; c != nil && f.tlsHost[i] == host {
		return c
	}
	var cfg *tls.Config
	if base := h.targets[i].TLS; base != nil {
		cfg = base.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.NextProtos = []string{"h2", "http/1.1"}
	if cfg.ClientSessionCache == nil {
		if old := f.tls[i]; old != nil {
			cfg.ClientSessionCache = old.ClientSessionCache // another host of the same target
		} else {
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(sessionCacheSize)
		}
	}
	f.tls[i], f.tlsHost[i] = cfg, host
	return cfg
}

// handOver marks target i as HTTP/2 for this VU and keeps conn, on which the server chose h2
// and nothing was written yet, for the VU's HTTP/2 client to take (roundTripH2 in h2.go, or
// h2Client's dial for a URL with user info): the connection and its handshake are not wasted,
// and the server sees one connection, as from a browser.
func (h *httpState) handOver(i int, addr string, conn *tls.Conn) {
	f := &h.fast
	if f.h2 == nil {
		f.h2 = make([]bool, len(h.targets))
	}
	f.h2[i] = true
	h.handoffMu.Lock()
	old := h.handoff
	h.handoff, h.handoffAddr = conn, addr
	h.handoffMu.Unlock()
	if old != nil {
		old.Close()
	}
}

// takeHandoff returns the connection handOver kept when it goes to addr (host:port as in the
// URL, as net/http names it), or nil.
func (h *httpState) takeHandoff(addr string) *tls.Conn {
	h.handoffMu.Lock()
	defer h.handoffMu.Unlock()
	c := h.handoff
	if c == nil || h.handoffAddr != addr {
		return nil
	}
	h.handoff = nil
	return c
}

// h2Client returns the VU's net/http client for target i once its server chose h2, for the
// requests the VU's own HTTP/2 client (h2.go) does not take: URLs with user info (basic auth
// through http.Client). Its dial takes the connection the fast path handed over, and later
// dials with the same TLS configuration (session cache included); net/http does the
// handshake, so the trace hooks see it, and speaks HTTP/2 on it (or HTTP/1.1, should the
// server change its mind). Its resends are counted by the GotConn hook (client.go).
func (h *httpState) h2Client(i int) *http.Client {
	if h.h2clients == nil {
		h.h2clients = make([]*http.Client, len(h.targets))
	}
	if c := h.h2clients[i]; c != nil {
		return c
	}
	cfg := h.fast.tls[i]
	d := newDialer()
	c := h.newClient(&http.Transport{
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if c := h.takeHandoff(addr); c != nil {
				return c, nil
			}
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			tc := cfg
			if host, _, _ := net.SplitHostPort(addr); host != cfg.ServerName && (h.targets[i].TLS == nil || h.targets[i].TLS.ServerName == "") {
				tc = cfg.Clone() // another host of the target (a redirect): its own SNI, the same cache
				tc.ServerName = host
			}
			return tls.Client(h.counted(c), tc), nil
		},
	})
	h.h2clients[i] = c
	return c
}

// keepDialPhases puts the dial and handshake of a handed-over connection (trace ft, from the
// fast path's attempt) into the times of the request net/http then made on it: they were this
// request's, although net/http found the connection ready.
func (h *httpState) keepDialPhases(ft *h1.Trace) {
	t := &h.times
	t.getConn.Store(ft.GetConn)
	t.connectStart.Store(ft.ConnectStart)
	t.connectDone.Store(ft.ConnectDone)
	t.tlsStart.Store(ft.TLSStart)
	t.tlsDone.Store(ft.TLSDone)
}
