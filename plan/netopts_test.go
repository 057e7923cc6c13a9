package plan

import (
	"net/url"
	"strings"
	"testing"
)

const minScenario = `
scenario "s" {
  http "a" { url = "http://127.0.0.1:1/" }
}
`

// TestProxyResolution: a target's proxy is decided once at load with net/http's rules:
// HTTP_PROXY for http and ws, HTTPS_PROXY for https and wss, NO_PROXY bypassing, loopback
// never proxied from the environment, the proxy attribute above all ("none" ignoring the
// environment).
func TestProxyResolution(t *testing.T) {
	env := map[string]string{"HTTP_PROXY": "http://u:pw@127.0.0.1:3128", "https_proxy": "http://127.0.0.1:3129", "NO_PROXY": "skip.test,.internal.test"}
	for _, c := range []struct{ attrs, want string }{
		{`base_url = "http://api.test"`, "http://u:pw@127.0.0.1:3128"},
		{`base_url = "ws://api.test"`, "http://u:pw@127.0.0.1:3128"},
		{`base_url = "https://api.test"`, "http://127.0.0.1:3129"},
		{`base_url = "wss://api.test"`, "http://127.0.0.1:3129"},
		{`base_url = "http://skip.test:8080"`, ""},
		{`base_url = "http://a.internal.test"`, ""},
		{`base_url = "http://127.0.0.1:8080"`, ""},
		{`base_url = "http://localhost:8080"`, ""},
		{"base_url = \"http://api.test\"\n proxy = \"none\"", ""},
		{"base_url = \"http://127.0.0.1:1\"\n proxy = \"http://127.0.0.1:9\"", "http://127.0.0.1:9"},
	} {
		p, diags := LoadSource("p.hcl", []byte("target \"t\" {\n"+c.attrs+"\n}\n"+minScenario), Options{Env: env})
		if diags.HasErrors() {
			t.Fatalf("%s: %s", c.attrs, diags.Error())
		}
		got := ""
		if u := p.Targets[0].Proxy; u != nil {
			got = u.String()
		}
		if got != c.want {
			t.Errorf("%s: proxy %q, want %q", c.attrs, got, c.want)
		}
	}
	if (ProxyEnv{}).Set() {
		t.Error("an empty environment sets a proxy")
	}
}

// TestProxyShownMasksCredentials: what plan output shows of a proxy never holds its user info,
// and a proxy from env() is not shown at all; a bad proxy's diagnostic does not quote it.
func TestProxyShownMasksCredentials(t *testing.T) {
	u, _ := url.Parse("http://alice:hunter2@proxy.test:3128")
	if s := ProxyShown(u); strings.Contains(s, "alice") || strings.Contains(s, "hunter2") || !strings.Contains(s, "proxy.test:3128") {
		t.Errorf("ProxyShown = %q", s)
	}
	p, diags := LoadSource("p.hcl", []byte(`target "t" {
  base_url = "http://api.test"
  proxy    = env("PROXY")
}
`+minScenario), Options{Env: map[string]string{"PROXY": "http://alice:hunter2@proxy.test:3128"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if s := p.Targets[0].ProxyShown(); s != "(sensitive)" {
		t.Errorf("a proxy from env() shown as %q", s)
	}
	_, diags = LoadSource("p.hcl", []byte(`target "t" {
  base_url = "http://api.test"
  proxy    = env("PROXY")
}
`+minScenario), Options{Env: map[string]string{"PROXY": "ftp://alice:hunter2@proxy.test"}})
	if !diags.HasErrors() || strings.Contains(diags.Error(), "hunter2") || !strings.Contains(diags.Error(), "Invalid proxy") {
		t.Errorf("bad secret proxy: %v", diags)
	}
	_, diags = LoadSource("p.hcl", []byte(`target "t" {
  base_url = "http://api.test"
}
`+minScenario), Options{Env: map[string]string{"HTTP_PROXY": "http://alice:hunter2@[::1"}})
	if !diags.HasErrors() || strings.Contains(diags.Error(), "hunter2") || !strings.Contains(diags.Error(), "p.hcl:1") {
		t.Errorf("bad HTTP_PROXY: %v", diags)
	}
}

// TestNetAttributes: compression and expected_status are read, defaulted and checked.
func TestNetAttributes(t *testing.T) {
	p, diags := LoadSource("p.hcl", []byte(`target "t" {
  base_url        = "http://127.0.0.1:1"
  compression     = "none"
  expected_status = [200, "5xx"]
}
target "d" {
  base_url = "http://127.0.0.1:2"
}
scenario "s" {
  http "a" {
    target          = target.d
    path            = "/"
    expected_status = "200-204"
  }
}
`), Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	tt, td := p.Targets[0], p.Targets[1]
	eq(t, "compression", [2]string{tt.Compression, td.Compression}, [2]string{"none", "gzip"})
	eq(t, "target expected_status", tt.ExpectedStatus, [][2]int{{500, 599}, {200, 200}})
	eq(t, "default expected_status", td.ExpectedStatus, [][2]int(nil))
	st := p.Scenarios[0].Steps[0].HTTP
	eq(t, "step expected_status", st.ExpectedStatus, [][2]int{{200, 204}})
	eq(t, "statuses", []bool{StatusExpected(nil, 399), StatusExpected(nil, 400), StatusExpected(nil, 0), StatusExpected(tt.ExpectedStatus, 503)},
		[]bool{true, false, false, true})
	for _, bad := range []string{`compression = "br"`, `expected_status = "abc"`, `proxy = "localhost:3128"`} {
		_, diags := LoadSource("p.hcl", []byte("target \"t\" {\n  base_url = \"http://127.0.0.1:1\"\n  "+bad+"\n}\n"+minScenario), Options{})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), "p.hcl:3") {
			t.Errorf("%s: %v", bad, diags)
		}
	}
}
