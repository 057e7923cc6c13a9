package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func newTestServer(t *testing.T) (*server, *httptest.Server) {
	s := &server{interval: 10 * time.Millisecond, done: make(chan struct{})}
	ts := httptest.NewUnstartedServer(s)
	ts.Config.ConnState = s.connState
	ts.Start()
	t.Cleanup(func() {
		close(s.done)
		ts.Close()
		s.wg.Wait()
	})
	return s, ts
}

func stats(t *testing.T, url string) Counts {
	resp, err := http.Get(url + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c Counts
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTrivialResponsesAreCounted(t *testing.T) {
	_, ts := newTestServer(t)
	for i := 0; i < 5; i++ {
		resp, err := http.Get(ts.URL + "/anything?i=1")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "ok\n" || resp.ContentLength != 3 {
			t.Fatalf("status %d body %q length %d", resp.StatusCode, b, resp.ContentLength)
		}
	}
	c := stats(t, ts.URL)
	if c.Requests != 5 || c.ConnsPeak < 1 {
		t.Fatalf("counts %+v, want 5 requests (stats not counted) and a connection", c)
	}
}

func TestWebSocketFramesAreCountedBothWays(t *testing.T) {
	s, ts := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(ts.URL, "http", "ws", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Type string
			Seq  int
		}
		if err := json.Unmarshal(b, &f); err != nil || f.Type != "tick" || f.Seq != i {
			t.Fatalf("frame %d: %s (%v)", i, b, err)
		}
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	for s.framesReceived.Load() != 1 { // the reader counts it asynchronously
		time.Sleep(5 * time.Millisecond)
	}
	got := stats(t, ts.URL)
	if got.WSSessions != 1 || got.WSActive != 1 || got.FramesSent < 3 || got.FramesReceived != 1 {
		t.Fatalf("counts %+v", got)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestRunRefusesNonLoopback(t *testing.T) {
	if err := run("0.0.0.0:0", "", time.Second); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("got %v, want a loopback-only error", err)
	}
}
