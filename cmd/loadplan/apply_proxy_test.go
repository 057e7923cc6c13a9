package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
)

// cliProxy is a loopback forward and CONNECT proxy counting what it relays. It sends every
// host to 127.0.0.1 itself, so that a plan may name far.test without a lookup leaving the
// machine.
type cliProxy struct {
	*httptest.Server
	forwarded, tunnels atomic.Int64
}

func newCLIProxy(t *testing.T) *cliProxy {
	p := &cliProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if r.Method != http.MethodConnect {
			host = r.URL.Host
		}
		_, port, err := net.SplitHostPort(host)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		up, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer up.Close()
		if r.Method == http.MethodConnect {
			p.tunnels.Add(1)
			c, brw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer c.Close()
			fmt.Fprint(c, "HTTP/1.1 200 Connection established\r\n\r\n")
			go func() { io.Copy(up, brw); up.Close() }()
			io.Copy(c, up)
			return
		}
		p.forwarded.Add(1)
		r.RequestURI = ""
		if r.Write(up) != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		resp, err := http.ReadResponse(bufio.NewReader(up), r)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(p.Close)
	return p
}

// TestApplyBehindProxy runs the built binary as a team behind a proxy would: HTTP_PROXY set,
// an http target and a websocket block with its own URL on a host only the proxy reaches
// (far.test). The run passes its preflight (it dials the proxy) and the proxy relays every
// request and session: the origin's counts equal the proxy's and loadplan's.
func TestApplyBehindProxy(t *testing.T) {
	px := newCLIProxy(t)
	var hits, upgrades atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws" {
			hits.Add(1)
			io.WriteString(w, "ok")
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		upgrades.Add(1)
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil || c.Write(r.Context(), typ, msg) != nil {
				return
			}
		}
	}))
	t.Cleanup(origin.Close)
	_, port, _ := net.SplitHostPort(origin.Listener.Addr().String())
	file := writeSource(t, strings.ReplaceAll(`target "far" {
  base_url = "http://far.test:PORT"
}
scenario "s" {
  http "get" {
    target = target.far
    path   = "/x"
    check { status = 200 }
  }
  websocket "chat" {
    url = "ws://far.test:PORT/ws"
    send "hi" {
      text = "hello"
    }
    expect "echo" {
      equals = "hello"
      within = "5s"
    }
    close {}
  }
}
load {
  model      = "shared_iterations"
  vus        = 2
  iterations = 5
}
`, "PORT", port))
	export := filepath.Join(t.TempDir(), "export.json")
	r := runCLIEnv(t, []string{"HTTP_PROXY=" + px.URL, "http_proxy=", "NO_PROXY=", "no_proxy="}, "apply", "-q", "--summary-export", export, file)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	reqs, sessions := exportedCount(t, export, "http_reqs"), exportedCount(t, export, "ws_sessions")
	if hits.Load() != 5 || px.forwarded.Load() != 5 || reqs != 5 {
		t.Errorf("http: origin received %d, proxy forwarded %d, loadplan http_reqs %v; want 5 each", hits.Load(), px.forwarded.Load(), reqs)
	}
	if upgrades.Load() != 5 || px.tunnels.Load() != 5 || sessions != 5 {
		t.Errorf("websocket: origin upgraded %d, proxy tunnels %d, loadplan ws_sessions %v; want 5 each", upgrades.Load(), px.tunnels.Load(), sessions)
	}
}
