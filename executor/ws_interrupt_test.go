package executor

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// wsHoldServer is a raw TCP server on 127.0.0.1 that counts the WebSocket upgrade requests it
// reads in full, answers 101 to the first upgrades of them and never answers the others, and
// counts the first frame of each upgraded client (proof that it read its 101). Every connection
// is held until the client closes it.
type wsHoldServer struct {
	ln                 net.Listener
	upgrades           int64
	received, upgraded atomic.Int64
	frames             atomic.Int64
	wg                 sync.WaitGroup // the accept loop and every connection
}

func newWSHoldServer(t *testing.T, upgrades int64) *wsHoldServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &wsHoldServer{ln: ln, upgrades: upgrades}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *wsHoldServer) serve(c net.Conn) {
	br := bufio.NewReader(c)
	r, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	s.received.Add(1)
	if n := s.upgraded.Add(1); n <= s.upgrades {
		h := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n"))
		for first := true; ; first = false {
			op, err := wsReadFrame(br)
			if err != nil {
				return
			}
			if first {
				s.frames.Add(1)
			}
			if op == 8 { // close: answer it, so the client's closing handshake ends at once
				c.Write([]byte{0x88, 0})
				return
			}
		}
	} else {
		s.upgraded.Add(-1) // held: never upgraded
	}
	for { // hold until the client closes
		if _, err := br.ReadByte(); err != nil {
			return
		}
	}
}

// wsReadFrame reads one masked client frame and returns its opcode.
func wsReadFrame(br *bufio.Reader) (byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return 0, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return 0, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if _, err := br.Discard(4 + int(n)); err != nil { // mask key and payload
		return 0, err
	}
	return h[0] & 0x0f, nil
}

// wsHoldPlan is vus VUs, each with a persistent session on url that sends one frame, then
// sleeps for a minute.
func wsHoldPlan(url string, vus int, grace time.Duration) *plan.Plan {
	tags := func(step string) *metrics.Tags {
		return &metrics.Tags{Scenario: "s", Step: step, Method: "WS", URL: url, Group: "ws"}
	}
	ws := &plan.WebSocketStep{Name: "ws", URL: plan.Literal(url), URLTag: url, Session: plan.Persistent, Tags: tags("ws"),
		Steps: []*plan.WSAction{
			{Kind: plan.WSSend, Name: "hello", Send: &plan.Message{Text: plan.Literal(`{"n":1}`)}, Repeat: 1, Tags: tags("ws.hello")},
			{Kind: plan.WSSleep, Name: "idle", Duration: time.Minute, Tags: tags("ws.idle")},
		}}
	sc := &plan.Scenario{Name: "s", Weight: 1, Steps: []*plan.Step{{Kind: plan.WebSocketStepKind, WebSocket: ws}}}
	return &plan.Plan{Scenarios: []*plan.Scenario{sc}, Load: longUsers(float64(vus), grace)}
}

// TestWSHandshakesCutByStop: the run ends (graceful_stop expiring, or a hard abort) while
// handshakes are in flight. Every upgrade request the server read is a session (its 101 was
// read) or ws_errors{interrupted}: their sum equals the server's count exactly, and the cut
// handshakes' iterations are interrupted.
func TestWSHandshakesCutByStop(t *testing.T) {
	const vus, upgrades = 10, 4
	for _, hard := range []bool{false, true} {
		name := map[bool]string{false: "graceful_stop", true: "abort"}[hard]
		t.Run(name, func(t *testing.T) {
			srv := newWSHoldServer(t, upgrades)
			grace := 50 * time.Millisecond
			if hard {
				grace = time.Hour // only the abort can end this run
			}
			col := &wsSink{}
			e, err := New(Config{Plan: wsHoldPlan("ws://"+srv.ln.Addr().String()+"/", vus, grace), Sink: col})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan Result)
			go func() { done <- e.Run(ctx) }()
			for deadline := time.Now().Add(time.Minute); srv.received.Load() != vus || srv.frames.Load() != upgrades; {
				if time.Now().After(deadline) { // a safety net, not a timing assertion
					t.Fatalf("server received %d requests, %d frames", srv.received.Load(), srv.frames.Load())
				}
				time.Sleep(time.Millisecond)
			}
			if hard {
				cancel()
			} else {
				e.Stop()
			}
			res := <-done
			if hard != res.Aborted || !res.Interrupted && !hard {
				t.Errorf("result %+v", res)
			}
			sessions, _ := col.sum(metrics.WSSessions, "")
			errs := map[string]int{}
			for _, x := range col.samples {
				if x.Metric == metrics.WSErrors {
					errs[x.Label] += int(x.Value)
				}
			}
			interrupted := errs["interrupted"]
			iters, _ := col.sum(metrics.Iterations, "")
			cut, _ := col.sum(metrics.IterationsInterrupted, "")
			if got := int64(sessions) + int64(interrupted); got != srv.received.Load() {
				t.Errorf("ws_sessions %v + ws_errors{interrupted} %d = %d; server received %d upgrade requests",
					sessions, interrupted, got, srv.received.Load())
			}
			if int64(sessions) != srv.upgraded.Load() || interrupted != vus-upgrades {
				t.Errorf("ws_sessions %v (server upgraded %d), ws_errors{interrupted} %d (want %d)",
					sessions, srv.upgraded.Load(), interrupted, vus-upgrades)
			}
			if len(errs) != 1 {
				t.Errorf("ws_errors %v, want only interrupted", errs)
			}
			if cut < vus-upgrades || iters+cut != vus {
				t.Errorf("iterations %v, iterations_interrupted %v: want %d in all, at least the %d cut handshakes' interrupted",
					iters, cut, vus, vus-upgrades)
			}
			t.Logf("server: %d requests, %d upgraded; loadplan: ws_sessions %v, ws_errors %v, iterations %v, iterations_interrupted %v",
				srv.received.Load(), srv.upgraded.Load(), sessions, errs, iters, cut)
		})
	}
}
