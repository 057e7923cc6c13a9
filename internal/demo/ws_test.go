package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// client is a test WebSocket client that counts what it sends and receives.
type client struct {
	t          *testing.T
	c          *websocket.Conn
	sent, recv uint64
}

func dial(t *testing.T, s *Server, path string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(s.URL(), "http") + path
	c, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &client{t: t, c: c}
}

func (cl *client) send(v any) {
	cl.t.Helper()
	b, _ := json.Marshal(v)
	if err := cl.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		cl.t.Fatal(err)
	}
	cl.sent++
}

// next reads one frame (failing the test after 10 s, a safety net only).
func (cl *client) next() (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := cl.c.Read(ctx)
	if err != nil {
		return nil, err
	}
	cl.recv++
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		cl.t.Fatalf("frame %q: %v", b, err)
	}
	return m, nil
}

// until reads frames until one has the given type, and returns it with how many it skipped.
func (cl *client) until(typ string) (map[string]any, int) {
	cl.t.Helper()
	skipped := 0
	for {
		m, err := cl.next()
		if err != nil {
			cl.t.Fatalf("waiting for %q: %v", typ, err)
		}
		if m["type"] == typ {
			return m, skipped
		}
		skipped++
	}
}

func TestOscilloscopeProtocol(t *testing.T) {
	s := start(t)
	cl := dial(t, s, "/api/oscilloscope/ws?frequency=200")
	cl.send(map[string]any{"command": "start"})
	for i := 1; i <= 10; i++ {
		m, _ := cl.until("data")
		if m["seq"] != float64(i) || len(m["values"].([]any)) != 4 {
			t.Fatalf("data frame %d: %v", i, m)
		}
	}
	cl.send(map[string]any{"command": "configure", "frequency": 500})
	if m, _ := cl.until("configured"); m["frequency"] != float64(500) {
		t.Errorf("configured: %v", m)
	}
	cl.send(map[string]any{"command": "bogus"})
	if m, _ := cl.until("error"); !strings.Contains(m["error"].(string), "unknown command") {
		t.Errorf("error frame: %v", m)
	}
	cl.send(map[string]any{"command": "stop"})
	m, _ := cl.until("stopped")
	// Every frame before "stopped" other than the acks was a data frame: the count must agree.
	dataFrames := int(cl.recv) - 3 // configured, error, stopped
	if m["frames"] != float64(dataFrames) {
		t.Errorf("stopped reports %v frames, client received %d data frames", m["frames"], dataFrames)
	}
	if err := cl.c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	waitHandlers(s)
	c := s.Counts()
	if c.WSSessions != 1 || c.WSSessionsByRoute["GET /api/oscilloscope/ws"] != 1 {
		t.Errorf("sessions %d %v, want 1", c.WSSessions, c.WSSessionsByRoute)
	}
	if c.WSFramesReceived != cl.sent || c.WSFramesSent != cl.recv {
		t.Errorf("server saw %d in / %d out, client sent %d / received %d", c.WSFramesReceived, c.WSFramesSent, cl.sent, cl.recv)
	}
}

// waitHandlers closes nothing but waits until every WebSocket handler of s has returned, so
// that counts are final. Handlers end when their client closed.
func waitHandlers(s *Server) { s.wsWG.Wait() }

func TestMarketSubscribeAndDrop(t *testing.T) {
	s := start(t)
	cl := dial(t, s, "/api/market/ws?rate=100&drop_after=12")
	cl.send(map[string]any{"action": "subscribe", "symbols": []string{"AAPL", "msft", "NOPE"}})
	if m, _ := cl.until("error"); !strings.Contains(m["error"].(string), "NOPE") {
		t.Errorf("error: %v", m)
	}
	m, _ := cl.until("subscribed")
	if syms := m["symbols"].([]any); len(syms) != 2 || syms[0] != "AAPL" || syms[1] != "MSFT" {
		t.Errorf("subscribed: %v", m)
	}
	var err error
	for err == nil {
		var f map[string]any
		if f, err = cl.next(); err == nil && (f["type"] != "tick" || f["price"].(float64) <= 0) {
			t.Errorf("tick: %v", f)
		}
	}
	if websocket.CloseStatus(err) != -1 {
		t.Errorf("drop_after must cut without a close frame, got %v", err)
	}
	waitHandlers(s)
	c := s.Counts()
	if cl.recv != 12 || c.WSFramesSent != 12 || c.WSDropped != 1 || c.WSFramesReceived != 1 {
		t.Errorf("client received %d; server sent %d, dropped %d, received %d", cl.recv, c.WSFramesSent, c.WSDropped, c.WSFramesReceived)
	}
}

func TestMarketURLSubscriptionAndHeartbeat(t *testing.T) {
	s := start(t)
	cl := dial(t, s, "/api/market/ws?symbols=TSLA&rate=50&heartbeat_ms=150")
	if m, skipped := cl.until("subscribed"); skipped != 0 || m["symbols"].([]any)[0] != "TSLA" {
		t.Fatalf("first frame: %v after %d", m, skipped)
	}
	// Answer three heartbeats: the connection stays up.
	for i := 0; i < 3; i++ {
		cl.until("heartbeat")
		cl.send(map[string]string{"type": "pong"})
	}
	// Stop answering: the server gives up with 1008 after two missed heartbeats.
	var err error
	for err == nil {
		_, err = cl.next()
	}
	if code := websocket.CloseStatus(err); code != websocket.StatusPolicyViolation {
		t.Errorf("close: %v, want 1008", err)
	}
	waitHandlers(s)
	if c := s.Counts(); c.WSHeartbeatTimeouts != 1 || c.WSFramesSent != cl.recv || c.WSFramesReceived != 3 {
		t.Errorf("counts %+v, client received %d", c, cl.recv)
	}
}

func TestBadWebSocketRequests(t *testing.T) {
	s := start(t)
	// A plain GET is not an upgrade: refused, but counted as a request to the route.
	resp, err := http.Get(s.URL() + "/api/market/ws")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 4 {
		t.Errorf("plain GET on a WebSocket route: %d", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, resp, err = websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL(), "http")+"/api/oscilloscope/ws?drop_after=-1", nil)
	if err == nil || resp == nil || resp.StatusCode != 400 {
		t.Errorf("drop_after=-1: %v", err)
	}
	c := s.Counts()
	if c.WSSessions != 0 || c.Requests["GET /api/market/ws"] != 1 || c.Requests["GET /api/oscilloscope/ws"] != 1 {
		t.Errorf("counts %+v", c)
	}
}

func TestCloseEndsSessions(t *testing.T) {
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := dial(t, s, "/api/oscilloscope/ws?frequency=100")
	cl.send(map[string]any{"command": "start"})
	cl.until("data")
	done := make(chan error)
	go func() { // the client must keep reading to answer the server's close handshake
		var err error
		for err == nil {
			_, _, err = cl.c.Read(context.Background())
		}
		done <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	err = <-done
	if code := websocket.CloseStatus(err); code != websocket.StatusGoingAway {
		t.Errorf("after server Close: %v, want 1001", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
