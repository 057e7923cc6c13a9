package executor

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// TestWSProxy: a WebSocket plan's handshakes go through the proxy of HTTP_PROXY (ws) and
// HTTPS_PROXY (wss) in CONNECT tunnels: the proxy opens one tunnel per session, every
// connection the server accepted came from the proxy, and the server's upgrades and echoed
// messages equal loadplan's ws_sessions and passed expects.
func TestWSProxy(t *testing.T) {
	px := newTestProxy(t)
	proxyURL := strings.Replace(px.URL, "http://", "http://user:secret@", 1)
	env := map[string]string{"HTTP_PROXY": proxyURL, "HTTPS_PROXY": proxyURL}
	for _, tls := range []bool{false, true} {
		var upgrades atomic.Int64
		o := &originServer{}
		o.Server = newWSEcho(t, tls, &upgrades, o)
		_, port, _ := net.SplitHostPort(o.Listener.Addr().String())
		scheme := map[bool]string{false: "http", true: "https"}[tls]
		tunnels := px.tunnels.Load()
		src := fmt.Sprintf(`
target "api" {
  base_url             = "%s://target.test:%s"
  insecure_skip_verify = true
}
scenario "s" {
  target = target.api
  websocket "w" {
    path = "/ws"
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
`, scheme, port)
		p, diags := plan.LoadSource("ws.hcl", []byte(src), plan.Options{Env: env})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		store := runStore(t, p)
		sessions := metrics.Combine(store.Snapshot(), metrics.WSSessions, nil).Sum
		expects := metrics.Combine(store.Snapshot(), metrics.WSExpectFailed, nil)
		opened := px.tunnels.Load() - tunnels
		if upgrades.Load() != 6 || sessions != 6 || opened != 6 || expects.Count != 6 || expects.Trues != 0 {
			t.Errorf("%s: server upgraded %d, loadplan ws_sessions %v, proxy tunnels %d, expects %d (%d failed); want 6 each, none failed",
				scheme, upgrades.Load(), sessions, opened, expects.Count, expects.Trues)
		}
		if conns := o.conns(); len(conns) != 6 || !px.viaProxy(conns) {
			t.Errorf("%s: server connections %v did not all come from the proxy", scheme, conns)
		}
	}
}

// newWSEcho starts a loopback WebSocket echo server, counting upgrades and recording the remote
// address of every connection in o.
func newWSEcho(t *testing.T, tls bool, upgrades *atomic.Int64, o *originServer) *httptest.Server {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		upgrades.Add(1)
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if c.Write(r.Context(), typ, msg) != nil {
				return
			}
		}
	}))
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			o.mu.Lock()
			o.remotes = append(o.remotes, c.RemoteAddr().String())
			o.mu.Unlock()
		}
	}
	if tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}
