package executor

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// wsOwnURLPlan is a websocket block with its own URL (no target): 2 VUs × 3 iterations, each
// one session sending a message and expecting its echo.
func wsOwnURLPlan(t *testing.T, url string, env map[string]string) *plan.Plan {
	t.Helper()
	src := fmt.Sprintf(`
scenario "s" {
  websocket "w" {
    url = %q
    send "hi" {
      text = "hello"
    }
    expect "echo" {
      equals = "hello"
      within = "5s"
    }
  }
}
load {
  model      = "per_vu_iterations"
  vus        = 2
  iterations = 3
}
`, url)
	p, diags := plan.LoadSource("ws.hcl", []byte(src), plan.Options{Env: env})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return p
}

// TestWSOwnURLProxyEnv: a websocket block with its own URL honours the proxy environment as an
// HTTP step without a target does. ws to a name goes through HTTP_PROXY in CONNECT tunnels (one
// per session, the server's every connection from the proxy, its upgrades equal to ws_sessions
// and to the tunnels); wss goes through HTTPS_PROXY (a tunnel per handshake, even one whose
// certificate check then fails); NO_PROXY sends the same block straight to the server.
//
// The NO_PROXY case needs an address that Go's proxy rules do not exempt as loopback and that
// reaches the loopback server without a lookup: 0.0.0.0, which Linux connects to the local host.
func TestWSOwnURLProxyEnv(t *testing.T) {
	px := newTestProxy(t)
	proxyURL := strings.Replace(px.URL, "http://", "http://user:secret@", 1)
	var upgrades atomic.Int64
	o := &originServer{}
	o.Server = newWSEcho(t, false, &upgrades, o)
	_, port, _ := net.SplitHostPort(o.Listener.Addr().String())

	run := func(name, url string, env map[string]string) (sessions float64, tunnels, upgraded int64) {
		t.Helper()
		t0, u0 := px.tunnels.Load(), upgrades.Load()
		store := runStore(t, wsOwnURLPlan(t, url, env))
		sessions = metrics.Combine(store.Snapshot(), metrics.WSSessions, nil).Sum
		expects := metrics.Combine(store.Snapshot(), metrics.WSExpectFailed, nil)
		if float64(expects.Count) != sessions || expects.Trues != 0 {
			t.Errorf("%s: %v expects (%v failed) for %v sessions", name, expects.Count, expects.Trues, sessions)
		}
		return sessions, px.tunnels.Load() - t0, upgrades.Load() - u0
	}

	// ws to a name: HTTP_PROXY; HTTPS_PROXY alone does not apply to ws.
	s, tun, up := run("ws via HTTP_PROXY", "ws://far.test:"+port+"/ws", map[string]string{"HTTP_PROXY": proxyURL})
	if s != 6 || tun != 6 || up != 6 || !px.viaProxy(o.conns()) {
		t.Errorf("ws via HTTP_PROXY: ws_sessions %v, proxy tunnels %d, server upgrades %d; want 6 each, every connection %v from the proxy",
			s, tun, up, o.conns())
	}

	// wss: HTTPS_PROXY opens the tunnel; the test server's certificate then fails the check (a
	// block with its own URL verifies against the system roots), one ws_errors{tls} per tunnel.
	var tlsUp atomic.Int64
	to := &originServer{}
	to.Server = newWSEcho(t, true, &tlsUp, to)
	_, tport, _ := net.SplitHostPort(to.Listener.Addr().String())
	t0 := px.tunnels.Load()
	store := runStore(t, wsOwnURLPlan(t, "wss://far.test:"+tport+"/ws", map[string]string{"HTTP_PROXY": "http://127.0.0.1:1", "HTTPS_PROXY": proxyURL}))
	tlsErrs := 0.0
	for _, sr := range store.Snapshot() {
		if sr.Key.Metric == metrics.WSErrors && sr.Key.Label == "tls" {
			tlsErrs += sr.Sum
		}
	}
	if tun := px.tunnels.Load() - t0; tun == 0 || float64(tun) != tlsErrs || tlsUp.Load() != 0 {
		t.Errorf("wss via HTTPS_PROXY: proxy tunnels %d, ws_errors{tls} %v, server upgrades %d; want tunnels = tls errors > 0, no upgrade",
			tun, tlsErrs, tlsUp.Load())
	}

	if runtime.GOOS != "linux" {
		t.Skip("0.0.0.0 reaches the local host on Linux")
	}
	// 0.0.0.0 is proxied like any name: 6 tunnels.
	s, tun, up = run("0.0.0.0 via HTTP_PROXY", "ws://0.0.0.0:"+port+"/ws", map[string]string{"HTTP_PROXY": proxyURL, "NO_PROXY": "example.test"})
	if s != 6 || tun != 6 || up != 6 {
		t.Errorf("0.0.0.0 via HTTP_PROXY: ws_sessions %v, proxy tunnels %d, server upgrades %d; want 6 each", s, tun, up)
	}
	// NO_PROXY lists it: no tunnel, every session straight to the server.
	before := len(o.conns())
	s, tun, up = run("NO_PROXY", "ws://0.0.0.0:"+port+"/ws", map[string]string{"HTTP_PROXY": proxyURL, "NO_PROXY": "example.test,0.0.0.0"})
	direct := o.conns()[before:]
	fromProxy := 0
	for _, a := range direct {
		if px.viaProxy([]string{a}) {
			fromProxy++
		}
	}
	if s != 6 || tun != 0 || up != 6 || len(direct) != 6 || fromProxy != 0 {
		t.Errorf("NO_PROXY=0.0.0.0: ws_sessions %v, proxy tunnels %d, server upgrades %d, connections %d (%d from the proxy); want 6, 0, 6, 6 (0)",
			s, tun, up, len(direct), fromProxy)
	}
	if px.badAuth.Load() != 0 {
		t.Errorf("the proxy refused %d tunnels without the credentials", px.badAuth.Load())
	}
}

// TestWSOwnURLProxyEnvAfterTargetBlock: a VU's websocket blocks share the handshake clients of
// the first block it runs, so a block with its own URL that runs after a block with a target
// still takes the environment's proxy: the proxy's tunnels equal the second block's sessions
// and the server's upgrades through it, while the first block (a loopback target, never
// proxied by the environment) connects directly.
func TestWSOwnURLProxyEnvAfterTargetBlock(t *testing.T) {
	px := newTestProxy(t)
	proxyURL := strings.Replace(px.URL, "http://", "http://user:secret@", 1)
	var upgrades atomic.Int64
	o := &originServer{}
	o.Server = newWSEcho(t, false, &upgrades, o)
	_, port, _ := net.SplitHostPort(o.Listener.Addr().String())
	src := fmt.Sprintf(`
target "local" {
  base_url = "ws://127.0.0.1:%[1]s"
}
# A second target, so that local is not every step's default (a plan's only target is).
target "unused" {
  base_url = "ws://127.0.0.1:1"
}
scenario "s" {
  websocket "first" {
    target = target.local
    path   = "/ws"
    send "hi" {
      text = "a"
    }
    expect "echo" {
      equals = "a"
      within = "5s"
    }
  }
  websocket "second" {
    url = "ws://far.test:%[1]s/ws"
    send "hi" {
      text = "b"
    }
    expect "echo" {
      equals = "b"
      within = "5s"
    }
  }
}
load {
  model      = "per_vu_iterations"
  vus        = 2
  iterations = 3
}
`, port)
	p, diags := plan.LoadSource("ws.hcl", []byte(src), plan.Options{Env: map[string]string{"HTTP_PROXY": proxyURL}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	store := runStore(t, p)
	perBlock := map[string]float64{}
	for _, sr := range store.Snapshot() {
		if sr.Key.Metric == metrics.WSSessions {
			name, _ := sr.Key.Tag("step")
			perBlock[name] += sr.Sum
		}
	}
	fromProxy := 0
	for _, a := range o.conns() {
		if px.viaProxy([]string{a}) {
			fromProxy++
		}
	}
	if perBlock["first"] != 6 || perBlock["second"] != 6 || upgrades.Load() != 12 || px.tunnels.Load() != 6 || fromProxy != 6 {
		t.Errorf("ws_sessions first %v, second %v; server upgrades %d, %d through the proxy; proxy tunnels %d; want 6, 6, 12, 6, 6",
			perBlock["first"], perBlock["second"], upgrades.Load(), fromProxy, px.tunnels.Load())
	}
}
