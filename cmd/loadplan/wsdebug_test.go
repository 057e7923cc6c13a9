package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
)

// wsDebugPlan opens one WebSocket session per iteration with the sensitive token in a header
// and the query, sends a text holding it, asks for a 40,000-byte answer (longer than the
// debug output's bound), and closes.
const wsDebugPlan = `variable "host" {
  type = string
}
variable "token" {
  type      = string
  sensitive = true
}
scenario "ws" {
  websocket "chat" {
    url     = "${var.host}/ws"
    query   = { t = var.token }
    headers = { X-Token = var.token }
    send "hello" {
      text = "hello ${var.token}"
    }
    expect "echo" {
      regex  = "^hello "
      within = "5s"
    }
    send "big" {
      text = "big"
    }
    expect "big_back" {
      regex  = "^x+"
      within = "5s"
    }
    close {}
  }
}
load {
  model      = "shared_iterations"
  vus        = 1
  iterations = 2
}
`

// wsBigAnswer is the server's answer to "big": longer than debugShown, the token at its end.
var wsBigAnswer = strings.Repeat("x", 40000) + cliSecret

// wsDebugServer is a loopback WebSocket server counting the handshakes that carried the real
// token (header and query), the data messages it received and those it sent.
type wsDebugServer struct {
	*httptest.Server
	handshakes, withToken, received, sent atomic.Int64
}

func newWSDebugServer(t *testing.T) *wsDebugServer {
	s := &wsDebugServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.handshakes.Add(1)
		if r.Header.Get("X-Token") == cliSecret && r.URL.Query().Get("t") == cliSecret {
			s.withToken.Add(1)
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			s.received.Add(1)
			answer := msg
			if string(msg) == "big" {
				answer = []byte(wsBigAnswer)
			}
			if c.Write(r.Context(), typ, answer) != nil {
				return
			}
			s.sent.Add(1)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// TestHTTPDebugWebSocket runs a WebSocket plan on the built binary with --http-debug and
// --http-debug=full, the sensitive token from a -var-file, against a loopback server that counts
// what it got: every handshake is printed (request with the upgrade headers, 101 response) as
// many times as the server saw one; with =full every message is printed, as many sent and
// received as the server received and sent, the long one cut; the token appears nowhere.
func TestHTTPDebugWebSocket(t *testing.T) {
	srv := newWSDebugServer(t)
	file := writeSource(t, wsDebugPlan)
	varFile := filepath.Join(t.TempDir(), "secret.vars")
	if err := os.WriteFile(varFile, []byte("token = \""+cliSecret+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	host := "ws" + strings.TrimPrefix(srv.URL, "http")
	for _, mode := range []string{"--http-debug", "--http-debug=full"} {
		srv.handshakes.Store(0)
		srv.withToken.Store(0)
		srv.received.Store(0)
		srv.sent.Store(0)
		r := runCLI(t, "apply", "-q", mode, "-var", "host="+host, "--var-file", varFile, file)
		if r.code != exitOK || srv.handshakes.Load() != 2 || srv.withToken.Load() != 2 || srv.received.Load() != 4 || srv.sent.Load() != 4 {
			t.Fatalf("%s: exit %d; server: %d handshakes (%d with the token), %d messages received, %d sent; want 2 (2), 4, 4\n%s\n%s",
				mode, r.code, srv.handshakes.Load(), srv.withToken.Load(), srv.received.Load(), srv.sent.Load(), r.stdout, r.stderr)
		}
		out := r.stderr
		if n := strings.Count(out, "loadplan http-debug ws/chat\n> GET "+host+"/ws?t=***\n"); n != 2 {
			t.Errorf("%s: %d handshake requests printed, the server saw 2\n%s", mode, n, out)
		}
		for _, want := range []string{"> X-Token: ***\n", "> Upgrade: websocket\n", "> Sec-Websocket-Version: 13\n", "< 101 Switching Protocols\n", "< Sec-Websocket-Accept: "} {
			if n := strings.Count(out, want); n != 2 {
				t.Errorf("%s: %q printed %d times, want 2 (one per handshake)", mode, want, n)
			}
		}
		sentText := strings.Count(out, "loadplan ws-debug ws/chat\n> text, ")
		recvText := strings.Count(out, "loadplan ws-debug ws/chat\n< text, ")
		closes := strings.Count(out, "loadplan ws-debug ws/chat\n> close 1000\n")
		cut := strings.Count(out, "… (cut: 40015 bytes in all)")
		want := map[bool][4]int{false: {0, 0, 0, 0}, true: {4, 4, 2, 2}}[mode == "--http-debug=full"]
		if got := [4]int{sentText, recvText, closes, cut}; got != want {
			t.Errorf("%s: messages printed sent/received/closes/cut %v, want %v (the server received %d, sent %d)\n%s",
				mode, got, want, srv.received.Load(), srv.sent.Load(), out)
		}
		if mode == "--http-debug=full" {
			if n := strings.Count(out, "> text, 21 bytes\nhello ***\n"); n != 2 {
				t.Errorf("%s: the hello message masked %d times, want 2\n%s", mode, n, out)
			}
			if n := strings.Count(out, "< text, 40015 bytes\n"+strings.Repeat("x", debugShown)+"\n… (cut"); n != 2 {
				t.Errorf("%s: %d long messages cut at 16 KiB, want 2", mode, n)
			}
		}
		for _, secret := range []string{cliSecret, "vf-s3cr3t"} {
			if i := strings.Index(r.stdout+out, secret); i >= 0 {
				all := r.stdout + out
				t.Errorf("%s: the output holds the token: …%s…", mode, all[max(0, i-80):min(len(all), i+40)])
			}
		}
	}
}
