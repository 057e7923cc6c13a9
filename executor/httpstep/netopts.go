package httpstep

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/plan"
)

// maxDecoded bounds a decoded gzip body, so that a small hostile response cannot make a VU
// allocate without limit (a gzip bomb); the body checks see the first maxDecoded bytes.
const maxDecoded = 64 << 20

// compileNet fills what a step takes from its target's network settings, decided once here:
// the proxy (a proxied step never takes the fast path: net/http's transport speaks to the
// proxy, forward for http and CONNECT for https), compression (Accept-Encoding: gzip sent the
// same on every path, bodies decoded only for the checks and captures that read them) and the
// statuses that do not fail http_req_failed.
func compileNet(hs *httpStep, ps *plan.HTTPStep, tc *step.Target) {
	hs.gzip = true
	hs.expected = ps.ExpectedStatus
	if pt := tc.Plan; pt != nil {
		hs.proxied = pt.Proxy != nil
		hs.gzip = pt.Compression != plan.CompressionNone
		if hs.expected == nil {
			hs.expected = pt.ExpectedStatus
		}
	} else if tc.ProxyEnv.Set() {
		// A step with its own URL: the environment decides per request (net/http's Proxy
		// function); a constant URL is decided here.
		hs.proxied = true
		if hs.urlConst != nil {
			if p, err := tc.ProxyEnv.For(hs.urlConst); err == nil && p == nil {
				hs.proxied = false
			}
		}
	}
	if hs.gzip {
		if _, set := hs.constHdr["Accept-Encoding"]; !set && !hasDyn(hs.dynHdr, "Accept-Encoding") {
			hs.constHdr["Accept-Encoding"] = []string{"gzip"}
		}
	}
}

func hasDyn(kvs []plan.KV, name string) bool {
	for _, kv := range kvs {
		if kv.Name == name {
			return true
		}
	}
	return false
}

// proxyFunc is the Proxy of target i's net/http transport: its resolved proxy, the
// environment's rules for steps with their own URL, nil (direct) otherwise.
func proxyFunc(tc *step.Target) func(*http.Request) (*url.URL, error) {
	if pt := tc.Plan; pt != nil {
		if pt.Proxy == nil {
			return nil
		}
		return http.ProxyURL(pt.Proxy)
	}
	if !tc.ProxyEnv.Set() {
		return nil
	}
	env := tc.ProxyEnv
	return func(r *http.Request) (*url.URL, error) { return env.For(r.URL) }
}

// preflightURL is what the executor's preflight dials for a step reaching raw: the proxy its
// requests go through when one applies (behind a proxy the origin may not even resolve), else
// raw. A socks5 proxy without a port gets net/http's 1080.
func preflightURL(raw string, tc *step.Target) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || tc == nil {
		return raw
	}
	var p *url.URL
	if pt := tc.Plan; pt != nil {
		p = pt.Proxy
	} else if p, err = tc.ProxyEnv.For(u); err != nil {
		return raw
	}
	if p == nil || p.Host == "" {
		return raw
	}
	if p.Scheme == "socks5" && p.Port() == "" {
		return "socks5://" + net.JoinHostPort(p.Hostname(), "1080")
	}
	return p.String()
}

// decode replaces res.body by its gzip decoding when the step asked for gzip and the response
// says Content-Encoding: gzip. res.bodyLen stays the length as received (encoded), as
// Sample.BodyBytes reports it; data_received is the wire's bytes either way.
func (h *httpState) decode(hs *httpStep, res *response) error {
	if !hs.gzip || !hs.needBody || res.err != nil || res.header == nil {
		return nil
	}
	ce := res.header.Get("Content-Encoding")
	if ce == "" || !strings.EqualFold(strings.TrimSpace(ce), "gzip") {
		return nil
	}
	src := bytes.NewReader(res.body)
	if h.gz == nil {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return err
		}
		h.gz = zr
	} else if err := h.gz.Reset(src); err != nil {
		return err
	}
	h.unzipped = h.unzipped[:0]
	buf := bytes.NewBuffer(h.unzipped)
	_, err := io.Copy(buf, io.LimitReader(h.gz, maxDecoded))
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	h.unzipped = buf.Bytes()
	res.body = h.unzipped
	return nil
}
