package plan

import (
	"fmt"
	"strings"
	"testing"
)

func TestURLTagDropsSchemeHostPort(t *testing.T) {
	for display, want := range map[string]string{
		"http://127.0.0.1:9/api/login":                           "/api/login",
		"https://api.example.com/v1/cart?x=1":                    "/v1/cart?x=1",
		"ws://127.0.0.1:40123/ws":                                "/ws",
		"wss://[::1]:8443/stream/${vu.id}":                       "/stream/${vu.id}",
		"http://127.0.0.1:9/api/stocks/${capture.token}/${iter}": "/api/stocks/${capture.token}/${iter}",
		"http://127.0.0.1:9":                                     "/",
		"http://127.0.0.1:9?q=${iter}":                           "/?q=${iter}",
		"http://${data.host}:8080/a/b":                           "/a/b",
		"http://${lookup(var.hosts, \"a/b\")}/x":                 "/x",
		"${target.api}/b":                                        "/b",
		"${target.api}":                                          "/",
		"${var.base}/x":                                          "${var.base}/x", // no host to drop
		"${var.secret_url}":                                      "${var.secret_url}",
	} {
		if got := urlTag(display); got != want {
			t.Errorf("urlTag(%q) = %q, want %q", display, got, want)
		}
	}
}

// TestURLTagSameOnEveryPort: a plan run against its target on another port (every `apply --demo`)
// gives its unnamed steps the same url tag — a path step, an absolute url, a websocket — and a
// step's own name tag stays as written.
func TestURLTagSameOnEveryPort(t *testing.T) {
	tags := func(host string) []string {
		src := fmt.Sprintf(`
variable "host" { default = %q }
target "api" { base_url = "${var.host}/v1" }
scenario "s" {
  target = target.api
  http "a" { path = "/items/${vu.id}" }
  http "b" {
    url   = "%s/health?deep=1"
    query = { n = "2" }
  }
  http "c" {
    path = "/users/${iter}"
    name = "http://users.example/{id}"
  }
  websocket "w" {
    path = "/ws"
    send "hello" { text = "hi" }
  }
}
`, host, host)
		p, diags := LoadSource("u.hcl", []byte(src), Options{})
		if diags.HasErrors() {
			t.Fatal(renderDiags(diags))
		}
		var out []string
		for _, st := range p.Scenarios[0].Steps {
			switch {
			case st.HTTP != nil:
				out = append(out, st.HTTP.URLTag+" "+st.HTTP.Tags.URL)
			case st.WebSocket != nil:
				out = append(out, st.WebSocket.URLTag+" "+st.WebSocket.Tags.URL+" "+st.WebSocket.Steps[0].Tags.URL)
			}
		}
		return out
	}
	a, b := tags("http://127.0.0.1:40001"), tags("http://localhost:40002")
	want := []string{"/v1/items/${vu.id} /v1/items/${vu.id}", "/health?deep=1 /health?deep=1",
		"http://users.example/{id} http://users.example/{id}", "/v1/ws /v1/ws /v1/ws"}
	eq(t, "tags on port 40001", a, want)
	eq(t, "tags on port 40002", b, want)
}

// TestURLSelectorHint: a threshold selecting a step by its whole URL (as the url tag was before it
// dropped the host) is an error that lists the path to write; the path selects the step.
func TestURLSelectorHint(t *testing.T) {
	const src = `
target "api" { base_url = "http://127.0.0.1:9" }
scenario "s" {
  target = target.api
  http "a" { path = "/items" }
}
threshold "http_req_duration{url=%s}" { condition = "p(95) < 500" }
`
	_, diags := LoadSource("t.hcl", []byte(fmt.Sprintf(src, "http://127.0.0.1:9/items")), Options{})
	got := renderDiags(diags)
	want := `t.hcl:7:30: error: Unknown url in selector
    No url of this plan is "http://127.0.0.1:9/items". Valid values: "/items".`
	if !diags.HasErrors() || !strings.Contains(got, want) {
		t.Errorf("diagnostics %s\nlack %q", got, want)
	}
	if _, diags := LoadSource("t.hcl", []byte(fmt.Sprintf(src, "/items")), Options{}); diags.HasErrors() {
		t.Errorf("url=/items: %s", renderDiags(diags))
	}
}
