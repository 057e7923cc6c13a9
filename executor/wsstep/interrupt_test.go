package wsstep

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// wsHoldServer is a raw TCP server on 127.0.0.1 that counts the upgrade requests it reads in
// full, answers 101 to the first upgrades of them and holds the rest unanswered, and counts the
// first frame each upgraded client sends (proof that the client read the 101). It holds every
// connection until the client closes it.
type wsHoldServer struct {
	ln                   net.Listener
	upgrades             int64 // how many requests get their 101
	received, upgraded   atomic.Int64
	frames, conns, bytes atomic.Int64 // bytes: connections that sent bytes (raw mode)
	raw                  bool         // read bytes only: never parse a request (a TLS client's hello)
	wg                   sync.WaitGroup
}

func newWSHoldServer(t *testing.T, upgrades int64, raw bool) *wsHoldServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &wsHoldServer{ln: ln, upgrades: upgrades, raw: raw}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
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
	if s.raw {
		b := make([]byte, 512)
		for first := true; ; {
			n, err := br.Read(b)
			if n > 0 && first {
				s.bytes.Add(1) // one more connection whose client spoke
				first = false
			}
			if err != nil {
				return
			}
		}
	}
	r, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	s.received.Add(1)
	if s.upgraded.Add(1) <= s.upgrades {
		h := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n"))
		if _, err := br.ReadByte(); err == nil { // the first frame: the client read the 101
			s.frames.Add(1)
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

// wsWaitFor polls cond until it holds; the safety deadline fails the test, it measures nothing.
func wsWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// wsRunVUs starts n VUs running st under ctx, each emitting into its own collector; wait
// returns the collectors once every VU has returned.
func wsRunVUs(ctx context.Context, sh *wsShared, st *plan.WebSocketStep, n int) (wait func() []*wsCollector) {
	cols := make([]*wsCollector, n)
	var wg sync.WaitGroup
	for i := range n {
		vu, col := wsTestVU(sh)
		cols[i] = col
		wg.Add(1)
		go func() { defer wg.Done(); vu.run(ctx, st) }()
	}
	return func() []*wsCollector { wg.Wait(); return cols }
}

// TestWSHandshakeInterrupted: handshakes in flight when the run is aborted. Every upgrade
// request the server read is either a session (the client read its 101) or
// ws_errors{interrupted}: their sum equals the server's count, exactly.
func TestWSHandshakeInterrupted(t *testing.T) {
	const vus, upgrades = 12, 5
	srv := newWSHoldServer(t, upgrades, false)
	sh := newWSShared()
	defer sh.close()
	st := wsBlock("ws://"+srv.ln.Addr().String()+"/", wsSendText("hello", `{"n":1}`),
		wsExpectJSON(t, "never", `{type = "never"}`, 1, time.Minute))

	ctx, abort := context.WithCancel(context.Background())
	defer abort()
	wait := wsRunVUs(ctx, sh, st, vus)
	// Abort once every request is in and every upgraded client has sent its frame: the others
	// are surely mid-handshake, waiting for a 101 that never comes.
	wsWaitFor(t, "all requests received, upgraded clients sending", func() bool {
		return srv.received.Load() == vus && srv.frames.Load() == upgrades
	})
	abort()
	cols := wait()

	var sessions, interrupted, otherErrs float64
	for _, c := range cols {
		sessions += c.sum(metrics.WSSessions, "")
		interrupted += c.sum(metrics.WSErrors, "interrupted")
		otherErrs += c.sum(metrics.WSErrors, "") - c.sum(metrics.WSErrors, "interrupted")
	}
	if got := int64(sessions + interrupted); got != srv.received.Load() {
		t.Errorf("ws_sessions %v + ws_errors{interrupted} %v = %d, server received %d requests",
			sessions, interrupted, got, srv.received.Load())
	}
	if int64(sessions) != srv.upgraded.Load() || sessions != upgrades {
		t.Errorf("ws_sessions %v, server upgraded %d (want %d)", sessions, srv.upgraded.Load(), upgrades)
	}
	if interrupted != vus-upgrades || otherErrs != 0 {
		t.Errorf("ws_errors{interrupted} %v (want %d), other ws_errors %v", interrupted, vus-upgrades, otherErrs)
	}
}

// TestWSHandshakeCutBeforeRequest: a wss handshake aborted during TLS (the server reads the
// client hello and never answers) sent no upgrade request: nothing is emitted as a session or
// an error, and the server received no request.
func TestWSHandshakeCutBeforeRequest(t *testing.T) {
	const vus = 4
	srv := newWSHoldServer(t, 0, true)
	sh := newWSShared()
	defer sh.close()
	st := wsBlock("wss://"+srv.ln.Addr().String()+"/", wsSendText("hello", `{"n":1}`))
	st.Target = &plan.Target{Name: "t", InsecureSkipVerify: true}
	st.Timeout = time.Minute

	ctx, abort := context.WithCancel(context.Background())
	defer abort()
	wait := wsRunVUs(ctx, sh, st, vus)
	wsWaitFor(t, "every client hello in", func() bool { return srv.bytes.Load() == vus })
	abort()
	cols := wait()

	var sent float64
	for _, c := range cols {
		if n := c.count(metrics.WSErrors) + c.count(metrics.WSSessions); n != 0 {
			t.Errorf("a handshake cut during TLS emitted %d ws_errors/ws_sessions samples", n)
		}
		sent += c.sum(metrics.DataSent, "")
	}
	if sent == 0 {
		t.Error("data_sent 0: the client hellos went out and were not counted")
	}
}
