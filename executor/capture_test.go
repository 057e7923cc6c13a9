package executor

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/plan"
)

// TestHTTPAndWebSocketCaptureTheSameText captures a 23-digit id and a price of 1.50 once from an
// HTTP response and once from a WebSocket frame of the same JSON, and sends all four back: the
// server must receive the numbers as it wrote them, from both protocols (a float64 on the way
// would turn them into 1.2345678901234568e+22 and 1.5).
func TestHTTPAndWebSocketCaptureTheSameText(t *testing.T) {
	const doc = `{"id": 12345678901234567890123, "p": 1.50}`
	var (
		mu  sync.Mutex // guards got
		got []url.Values
	)
	mux := http.NewServeMux()
	mux.HandleFunc("/doc", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(doc)) })
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.Write(r.Context(), websocket.MessageText, []byte(doc))
		c.Read(r.Context()) // until the client closes
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Query())
		mu.Unlock()
	})
	srv := newCounter(t, mux.ServeHTTP)
	src := fmt.Sprintf(`
target "t" { base_url = %q }
scenario "s" {
  target = target.t
  http "doc" {
    path = "/doc"
    capture "id" { json = "id" }
    capture "p" { json = "p" }
  }
  websocket "feed" {
    path = "/ws"
    expect "doc" {
      capture "wid" { json = "id" }
      capture "wp" { json = "p" }
    }
    close {}
  }
  http "echo" {
    path  = "/echo"
    query = { id = capture.id, p = capture.p, wid = capture.wid, wp = capture.wp }
  }
}
load {
  model      = "per_vu_iterations"
  vus        = 1
  iterations = 2
}
`, srv.URL)
	p, diags := plan.LoadSource("capture.hcl", []byte(src), plan.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	e, err := New(Config{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.Run(context.Background()); res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(got) != 2 {
		t.Fatalf("server saw %d echo requests, want 2 (one per iteration)", len(got))
	}
	for i, q := range got {
		for _, k := range []string{"id", "wid"} {
			if q.Get(k) != "12345678901234567890123" {
				t.Errorf("iteration %d: %s = %q, want 12345678901234567890123", i, k, q.Get(k))
			}
		}
		for _, k := range []string{"p", "wp"} {
			if q.Get(k) != "1.50" {
				t.Errorf("iteration %d: %s = %q, want 1.50", i, k, q.Get(k))
			}
		}
	}
	if n := srv.hits.Load(); n != 6 {
		t.Errorf("server saw %d requests, want 6 (doc, upgrade, echo per iteration)", n)
	}
}
