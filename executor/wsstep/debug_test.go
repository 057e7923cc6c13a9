package wsstep

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/plan"
)

// recDebugger records what a WSDebugger is given.
type recDebugger struct {
	full     bool
	mu       sync.Mutex // guards what follows: the reader goroutine may call too
	xs       []step.HTTPExchange
	sent     []string
	received []string
	closes   []int
}

func (d *recDebugger) Bodies() bool { return d.full }
func (d *recDebugger) Exchange(x *step.HTTPExchange) {
	d.mu.Lock()
	d.xs = append(d.xs, *x)
	d.mu.Unlock()
}
func (d *recDebugger) WSMessage(m *step.WSMessage) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := fmt.Sprintf("%s/%s binary=%v %q", m.Scenario, m.Step, m.Binary, m.Data)
	switch {
	case m.Close != 0:
		d.closes = append(d.closes, m.Close)
	case m.Sent:
		d.sent = append(d.sent, s)
	default:
		d.received = append(d.received, s)
	}
}

// TestWSDebug: with a WSDebugger, each handshake is one exchange (the request with the
// upgrade headers, the 101), and with Bodies() every message sent and received is shown, as
// many as the server received and sent, binary marked, and our close frame with its code — with
// our framing and the library's (compression); without Bodies() no message is.
func TestWSDebug(t *testing.T) {
	for _, compress := range []bool{false, true} {
		for _, full := range []bool{false, true} {
			t.Run(fmt.Sprintf("compression=%v,full=%v", compress, full), func(t *testing.T) { wsDebug(t, compress, full) })
		}
	}
}

func wsDebug(t *testing.T, compress, full bool) {
	var in, out atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionNoContextTakeover})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			in.Add(1)
			if c.Write(context.Background(), typ, b) == nil {
				out.Add(1)
			}
		}
	}))
	defer srv.Close()
	st := wsBlock(srv.URL,
		&plan.WSAction{Kind: plan.WSSend, Name: "bin", Repeat: 1, Send: &plan.Message{Binary: []byte{0, 1, 255}}},
		&plan.WSAction{Kind: plan.WSExpect, Name: "binback", Count: 1, Within: 5 * time.Second, Match: &plan.FrameMatch{Binary: []byte{0, 1, 255}}},
		wsSendText("hi", "hello"),
		&plan.WSAction{Kind: plan.WSExpect, Name: "hiback", Count: 1, Within: 5 * time.Second, Match: &plan.FrameMatch{Equals: plan.Literal("hello")}},
		&plan.WSAction{Kind: plan.WSClose, Name: "close"},
	)
	st.Compression = compress
	d := &recDebugger{full: full}
	sh := newWSShared()
	sh.debug = d
	defer sh.close()
	vu, _ := wsTestVU(sh)
	if err := vu.run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.xs) != 1 {
		t.Fatalf("%d exchanges, want 1 handshake", len(d.xs))
	}
	x := d.xs[0]
	if x.Scenario != "s" || x.Step != "ws" || x.Method != "GET" || x.URL.Scheme != "ws" || x.Status != http.StatusSwitchingProtocols ||
		x.Header.Get("Upgrade") != "websocket" || x.Header.Get("Sec-WebSocket-Key") == "" || x.RespHeader.Get("Sec-WebSocket-Accept") == "" || x.Err != nil {
		t.Errorf("handshake exchange %s/%s %s %v status %d, request %v, response %v, err %v",
			x.Scenario, x.Step, x.Method, x.URL, x.Status, x.Header, x.RespHeader, x.Err)
	}
	if !full {
		if len(d.sent)+len(d.received)+len(d.closes) != 0 {
			t.Errorf("messages shown without Bodies(): %v %v %v", d.sent, d.received, d.closes)
		}
		return
	}
	wantSent := []string{`s/ws binary=true "\x00\x01\xff"`, `s/ws binary=false "hello"`}
	if fmt.Sprint(d.sent) != fmt.Sprint(wantSent) || int64(len(d.sent)) != in.Load() {
		t.Errorf("sent shown %q (the server received %d), want %q", d.sent, in.Load(), wantSent)
	}
	if fmt.Sprint(d.received) != fmt.Sprint(wantSent) || int64(len(d.received)) != out.Load() {
		t.Errorf("received shown %q (the server sent %d), want %q", d.received, out.Load(), wantSent)
	}
	if fmt.Sprint(d.closes) != "[1000]" {
		t.Errorf("closes shown %v, want [1000]", d.closes)
	}
}
