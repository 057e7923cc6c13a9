package plan

import (
	"errors"
	"net/url"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/net/http/httpproxy"
)

// Compression values of a target: what the client asks for (Accept-Encoding) and decodes.
const (
	CompressionGzip = "gzip" // the default, as k6 and browsers send it
	CompressionNone = "none"
)

// DefaultExpectedStatus is k6's expected_response: a status outside it fails http_req_failed.
var DefaultExpectedStatus = [][2]int{{200, 399}}

var errBadProxy = errors.New("invalid proxy URL")

// ProxyEnv is the proxy environment of the run (HTTP_PROXY, HTTPS_PROXY, NO_PROXY and their
// lower-case spellings, read from Options.Env), for steps whose URL names no target.
type ProxyEnv struct {
	HTTPProxy, HTTPSProxy, NoProxy string
}

// Set says whether any proxy variable is set: when none is, nothing is proxied.
func (e ProxyEnv) Set() bool { return e.HTTPProxy != "" || e.HTTPSProxy != "" }

// For returns the proxy a request to u goes through, nil for a direct connection, with
// net/http's ProxyFromEnvironment rules (x/net/http/httpproxy): localhost and loopback
// addresses are never proxied, NO_PROXY lists hosts, domains and CIDRs that bypass it. ws and
// wss URLs take the proxy of http and https.
func (e ProxyEnv) For(u *url.URL) (*url.URL, error) {
	if !e.Set() {
		return nil, nil
	}
	cfg := httpproxy.Config{HTTPProxy: e.HTTPProxy, HTTPSProxy: e.HTTPSProxy, NoProxy: e.NoProxy}
	v := *u
	switch v.Scheme {
	case "ws":
		v.Scheme = "http"
	case "wss":
		v.Scheme = "https"
	}
	return cfg.ProxyFunc()(&v)
}

func proxyEnvOf(env map[string]string) ProxyEnv {
	get := func(k string) string {
		if v := env[k]; v != "" {
			return v
		}
		return env[strings.ToLower(k)]
	}
	return ProxyEnv{HTTPProxy: get("HTTP_PROXY"), HTTPSProxy: get("HTTPS_PROXY"), NoProxy: get("NO_PROXY")}
}

// ProxyShown is t's proxy as it may be shown: user info (a credential) masked, a proxy from a
// secret not shown at all; "" for none.
func (t *Target) ProxyShown() string {
	switch {
	case t.Proxy == nil:
		return ""
	case t.ProxySensitive:
		return "(sensitive)"
	}
	return ProxyShown(t.Proxy)
}

// ProxyShown is a proxy URL as it may be shown: its user info, a credential, masked whole.
func ProxyShown(u *url.URL) string {
	if u == nil {
		return ""
	}
	v := *u
	if v.User != nil {
		v.User = url.User("xxxxx")
	}
	return v.String()
}

// targetNet reads a target's proxy, compression and expected_status attributes and resolves
// its proxy: the attribute when set ("none" ignores the environment), else the environment for
// its base_url, evaluated once here.
func (l *loader) targetNet(t *Target, content *hcl.BodyContent, sc *scope, rng hcl.Range) {
	t.Compression = CompressionGzip
	if a := content.Attributes["compression"]; a != nil {
		if s, ok := l.str(a, sc); ok {
			switch s {
			case CompressionGzip, CompressionNone:
				t.Compression = s
			default:
				l.errorAt(a.Expr.Range(), "Invalid compression",
					"%q is not a compression; write \"gzip\" (send Accept-Encoding: gzip, decode gzip bodies) or \"none\".", s)
			}
		}
	}
	if a := content.Attributes["expected_status"]; a != nil {
		t.ExpectedStatus = l.expectedStatus(a, sc)
	}
	if a := content.Attributes["proxy"]; a != nil {
		v, sensitive, ok := l.strMarked(a, sc)
		if !ok {
			return
		}
		if v == "none" { // no proxy, whatever the environment says
			t.ProxySet = true
			return
		}
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5") {
			shownURL := "This value"
			if err == nil && !sensitive {
				shownURL = quoted(u.Redacted(), false)
			}
			l.errorAt(a.Expr.Range(), "Invalid proxy",
				"%s is not a proxy URL. Write \"http://HOST:PORT\" (https:// and socks5:// work too), or \"none\" to ignore HTTP_PROXY and HTTPS_PROXY.", shownURL)
			return
		}
		t.Proxy, t.ProxySet, t.ProxySensitive = u, true, sensitive
		return
	}
	if t.BaseURL == "" {
		return
	}
	u, err := url.Parse(t.BaseURL)
	if err != nil {
		return
	}
	p, err := l.plan.ProxyEnv.For(u)
	if err == nil && p != nil && (p.Hostname() == "" || (p.Path != "" && p.Path != "/")) {
		// httpproxy retries an unparsable value as "http://" + value, which parses into a
		// nonsense host ("http:") and a path: a typo would fail every request at run time
		err = errBadProxy
	}
	if err != nil {
		// the message of httpproxy quotes the URL, which may hold credentials: not shown
		l.errorAt(rng, "Invalid proxy environment",
			"HTTP_PROXY or HTTPS_PROXY is not a proxy URL. Fix the variable, or set proxy = \"none\" in this target.")
		return
	}
	t.Proxy = p
}

// expectedStatus reads expected_status = 200 | [200, 500] | "2xx" | ["200-399", 404].
func (l *loader) expectedStatus(a *hcl.Attribute, sc *scope) [][2]int {
	c := l.statusCheck(a, sc)
	if c == nil {
		return nil
	}
	out := append([][2]int(nil), c.StatusRanges...)
	for _, s := range c.Statuses {
		out = append(out, [2]int{s, s})
	}
	return out
}

// StatusExpected says whether status is in ranges (DefaultExpectedStatus when nil).
func StatusExpected(ranges [][2]int, status int) bool {
	if ranges == nil {
		ranges = DefaultExpectedStatus
	}
	for _, r := range ranges {
		if status >= r[0] && status <= r[1] {
			return true
		}
	}
	return false
}
