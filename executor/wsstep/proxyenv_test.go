package wsstep

import (
	"net/url"
	"testing"

	"github.com/loadplan/loadplan/plan"
)

// TestProxyForOwnURL: a block with its own URL takes the environment's proxy by scheme (ws:
// HTTP_PROXY, wss: HTTPS_PROXY), none for NO_PROXY hosts and loopback, and the executor's
// preflight dials that proxy instead of an origin it may not resolve; a target's resolved proxy
// wins over the environment; a proxy variable that is no URL is an error that does not quote it.
func TestProxyForOwnURL(t *testing.T) {
	sh := newWSShared()
	sh.proxyEnv = plan.ProxyEnv{HTTPProxy: "http://u:pw@127.0.0.1:3128", HTTPSProxy: "http://127.0.0.1:3129", NoProxy: "skip.test"}
	cases := []struct {
		addr    string
		secure  bool
		want    string
		preURL  string
		preWant string
	}{
		{"far.test:80", false, "http://u:pw@127.0.0.1:3128", "ws://far.test/ws", "http://u:pw@127.0.0.1:3128"},
		{"far.test:443", true, "http://127.0.0.1:3129", "https://far.test/ws", "http://127.0.0.1:3129"},
		{"skip.test:80", false, "", "ws://skip.test:80/ws", "ws://skip.test:80/ws"},
		{"127.0.0.1:8080", false, "", "ws://127.0.0.1:8080/ws", "ws://127.0.0.1:8080/ws"},
	}
	for _, c := range cases {
		p, err := sh.proxyFor(nil, c.addr, c.secure)
		got := ""
		if p != nil {
			got = p.String()
		}
		if err != nil || got != c.want {
			t.Errorf("proxyFor(%s, secure %v) = %q, %v; want %q", c.addr, c.secure, got, err, c.want)
		}
		if pre := sh.preflightURL(nil, c.preURL); pre != c.preWant {
			t.Errorf("preflightURL(%s) = %q, want %q", c.preURL, pre, c.preWant)
		}
	}
	direct := &plan.Target{Name: "api"}
	if p, err := sh.proxyFor(direct, "far.test:80", false); p != nil || err != nil {
		t.Errorf("a target resolved to no proxy (proxy = \"none\") took %v, %v", p, err)
	}
	viaAttr := &plan.Target{Name: "api", Proxy: &url.URL{Scheme: "http", Host: "127.0.0.1:9"}}
	if pre := sh.preflightURL(viaAttr, "ws://127.0.0.1:8080/ws"); pre != "http://127.0.0.1:9" {
		t.Errorf("preflight of a target with a proxy attribute: %q", pre)
	}
	bad := newWSShared()
	bad.proxyEnv = plan.ProxyEnv{HTTPProxy: "http://us er:s3cret@[::1"}
	if _, err := bad.proxyFor(nil, "far.test:80", false); err == nil || err != errWSProxyEnv {
		t.Errorf("a malformed HTTP_PROXY gave %v, want errWSProxyEnv", err)
	}
}
