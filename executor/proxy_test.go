package executor

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// testProxy is a loopback forward (absolute-URI requests) and CONNECT proxy that counts what it
// relays. It resolves every host to 127.0.0.1 itself, so a target may be named target.test (a
// name Go's proxy rules do not exempt as loopback) without any lookup leaving the machine. It
// requires the credentials user:secret (Proxy-Authorization), and records the local address
// of every connection it opens to a target.
type testProxy struct {
	*httptest.Server
	forwarded, tunnels, badAuth atomic.Int64
	mu                          sync.Mutex // guards from
	from                        map[string]bool
}

func newTestProxy(t *testing.T) *testProxy {
	p := &testProxy{from: map[string]bool{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// dial connects to port of addr on 127.0.0.1 only.
func (p *testProxy) dial(addr string) (net.Conn, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
	if err == nil {
		p.mu.Lock()
		p.from[c.LocalAddr().String()] = true
		p.mu.Unlock()
	}
	return c, err
}

func (p *testProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Proxy-Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte("user:secret")) {
		p.badAuth.Add(1)
		w.WriteHeader(http.StatusProxyAuthRequired)
		return
	}
	if r.Method == http.MethodConnect {
		p.tunnels.Add(1)
		up, err := p.dial(r.Host)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		c, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		fmt.Fprint(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { io.Copy(up, brw); up.Close() }()
		io.Copy(c, up)
		c.Close()
		return
	}
	p.forwarded.Add(1)
	up, err := p.dial(r.URL.Host)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer up.Close()
	r.Header.Del("Proxy-Authorization")
	r.RequestURI = ""
	if err := r.Write(up); err != nil { // origin form, as a proxy forwards it
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	resp, err := http.ReadResponse(bufio.NewReader(up), r)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// viaProxy reports whether every connection the server accepted came from the proxy.
func (p *testProxy) viaProxy(remotes []string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range remotes {
		if !p.from[a] {
			return false
		}
	}
	return true
}

// originServer counts requests and records the remote address of each connection.
type originServer struct {
	*httptest.Server
	hits    atomic.Int64
	mu      sync.Mutex // guards remotes
	remotes []string
}

func newOrigin(t *testing.T, tls bool) *originServer {
	o := &originServer{}
	o.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		io.WriteString(w, `{"ok":true}`)
	}))
	o.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			o.mu.Lock()
			o.remotes = append(o.remotes, c.RemoteAddr().String())
			o.mu.Unlock()
		}
	}
	if tls {
		o.StartTLS()
	} else {
		o.Start()
	}
	t.Cleanup(o.Close)
	return o
}

func (o *originServer) conns() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.remotes...)
}

func proxyPlan(t *testing.T, targetAttrs string, env map[string]string) *plan.Plan {
	t.Helper()
	src := fmt.Sprintf(`
target "api" {
  %s
  insecure_skip_verify = true
}
scenario "s" {
  http "get" {
    target = target.api
    path   = "/x"
    check { status = 200 }
  }
}
load {
  model      = "per_vu_iterations"
  vus        = 2
  iterations = 10
}
`, targetAttrs)
	p, diags := plan.LoadSource("proxy.hcl", []byte(src), plan.Options{Env: env})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return p
}

func runStore(t *testing.T, p *plan.Plan) *metrics.Store {
	t.Helper()
	store := metrics.NewStore()
	e, err := New(Config{Plan: p, Sink: metrics.SinkFunc(store.Add)})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.Run(context.Background()); res.Err != nil {
		t.Fatal(res.Err)
	}
	return store
}

// TestProxyEnvironment: with HTTP_PROXY and HTTPS_PROXY set, every request of an http and an
// https plan to a target named target.test goes through the proxy (forwarded, or in a CONNECT
// tunnel): the origin's count equals loadplan's http_reqs, every connection the origin accepted
// came from the proxy, and the proxy forwarded exactly the http requests.
func TestProxyEnvironment(t *testing.T) {
	px := newTestProxy(t)
	proxyURL := strings.Replace(px.URL, "http://", "http://user:secret@", 1)
	env := map[string]string{"HTTP_PROXY": proxyURL, "HTTPS_PROXY": proxyURL}
	for _, tls := range []bool{false, true} {
		o := newOrigin(t, tls)
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(o.URL, "https://"), "http://"))
		scheme := map[bool]string{false: "http", true: "https"}[tls]
		before := px.forwarded.Load()
		p := proxyPlan(t, fmt.Sprintf(`base_url = "%s://target.test:%s"`, scheme, port), env)
		if p.Targets[0].Proxy == nil {
			t.Fatalf("%s: target.test resolved to no proxy", scheme)
		}
		store := runStore(t, p)
		reqs := metrics.Combine(store.Snapshot(), metrics.HTTPReqs, nil).Sum
		checks := metrics.Combine(store.Snapshot(), metrics.Checks, nil)
		if reqs != 20 || o.hits.Load() != 20 || checks.Trues != 20 {
			t.Errorf("%s: loadplan http_reqs %v, checks passed %d; origin received %d; want 20", scheme, reqs, checks.Trues, o.hits.Load())
		}
		if conns := o.conns(); len(conns) == 0 || !px.viaProxy(conns) {
			t.Errorf("%s: origin connections %v did not all come from the proxy", scheme, conns)
		}
		fwd := px.forwarded.Load() - before
		if !tls && fwd != 20 {
			t.Errorf("http: proxy forwarded %d requests, want 20", fwd)
		}
		if tls && (fwd != 0 || px.tunnels.Load() != int64(len(o.conns()))) {
			t.Errorf("https: proxy forwarded %d, opened %d tunnels for %d origin connections", fwd, px.tunnels.Load(), len(o.conns()))
		}
	}
	if px.badAuth.Load() != 0 {
		t.Errorf("proxy refused %d requests without the credentials", px.badAuth.Load())
	}
}

// TestProxyAttribute: the target's proxy attribute sends a loopback target through the proxy
// (the environment's rules exempt loopback, an explicit proxy does not), and proxy = "none"
// ignores the environment; NO_PROXY=127.0.0.1 bypasses an environment proxy.
func TestProxyAttribute(t *testing.T) {
	px := newTestProxy(t)
	proxyURL := strings.Replace(px.URL, "http://", "http://user:secret@", 1)
	env := map[string]string{"HTTP_PROXY": proxyURL, "NO_PROXY": "127.0.0.1"}

	o := newOrigin(t, false)
	runStore(t, proxyPlan(t, fmt.Sprintf("base_url = %q\n  proxy = %q", o.URL, proxyURL), nil))
	if px.forwarded.Load() != 20 || o.hits.Load() != 20 || !px.viaProxy(o.conns()) {
		t.Errorf("proxy attribute: proxy forwarded %d, origin received %d, want 20 each, all through the proxy", px.forwarded.Load(), o.hits.Load())
	}

	for _, attrs := range []string{`proxy = "none"`, ""} {
		o := newOrigin(t, false)
		before := px.forwarded.Load()
		p := proxyPlan(t, fmt.Sprintf("base_url = %q\n  %s", o.URL, attrs), env)
		if p.Targets[0].Proxy != nil {
			t.Fatalf("%q: target resolved to a proxy", attrs)
		}
		store := runStore(t, p)
		reqs := metrics.Combine(store.Snapshot(), metrics.HTTPReqs, nil).Sum
		if fwd := px.forwarded.Load() - before; fwd != 0 || o.hits.Load() != 20 || reqs != 20 {
			t.Errorf("%q: proxy forwarded %d, origin received %d, loadplan %v; want 0, 20, 20", attrs, fwd, o.hits.Load(), reqs)
		}
	}
}
