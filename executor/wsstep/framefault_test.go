package wsstep

import (
	"bufio"
	"context"
	"crypto/sha1" //nolint:gosec // the RFC's accept key
	"encoding/base64"
	"encoding/binary"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// wsRawCounts is what a raw fault server observed of the client.
type wsRawCounts struct {
	requests, upgraded atomic.Int64
	texts, pongs       atomic.Int64 // client data frames and pongs read
	closeCode          atomic.Int64 // the code of the client's close frame (-1: none read)
	sent               atomic.Int64 // data messages the server wrote whole
}

// wsRawServer is a hand-written WebSocket server on 127.0.0.1 for faults the library's server
// cannot make: it answers the upgrade (with accept, or a wrong one when badAccept), runs script
// on the connection, then reads the client's frames until the connection ends, counting them.
func wsRawServer(t *testing.T, badAccept bool, script func(c net.Conn, n *wsRawCounts)) (string, *wsRawCounts, func()) {
	n := &wsRawCounts{}
	n.closeCode.Store(-1)
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.requests.Add(1)
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(20 * time.Second)) // a safety bound, never reached
		key := r.Header.Get("Sec-WebSocket-Key")
		if badAccept {
			key += "x"
		}
		h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		if _, err := conn.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n")); err != nil {
			return
		}
		n.upgraded.Add(1)
		done := make(chan struct{})
		go func() { // the client's frames, counted, while the script writes
			defer close(done)
			wsRawRead(brw.Reader, conn, n)
		}()
		script(conn, n)
		<-done
	}))
	t.Cleanup(func() { srv.Close(); wg.Wait() })
	return "ws" + srv.URL[len("http"):], n, wg.Wait
}

// wsRawRead counts the client's frames; its close frame is answered with the same code.
func wsRawRead(br *bufio.Reader, conn net.Conn, n *wsRawCounts) {
	for {
		op, p, err := wsReadClientFrame(br)
		switch {
		case err != nil:
			return
		case op == 1 || op == 2:
			n.texts.Add(1)
		case op == 10:
			n.pongs.Add(1)
		case op == 8:
			code := int64(0)
			if len(p) >= 2 {
				code = int64(binary.BigEndian.Uint16(p))
			}
			n.closeCode.Store(code)
			conn.Write(wsAppendFrame(nil, true, 8, p))
			return
		}
	}
}

// TestWSFramingFaults holds our framing's counts to a raw server's under faults the library's
// server cannot produce: a connection cut inside a message, a ping flood, a protocol violation,
// a wrong Sec-WebSocket-Accept, and a message over max_message_size announced by its header.
func TestWSFramingFaults(t *testing.T) {
	msg := wsAppendFrame(nil, true, 1, []byte(`{"type":"data"}`))
	cases := []struct {
		name      string
		badAccept bool
		limit     int64
		script    func(c net.Conn, n *wsRawCounts)
		kind      string // ws_errors' label for the failure (one sample)
		sessions  float64
		closeCode int64 // the close code the server must have read (-1: none)
		pings     int64 // pongs the server must have read
	}{
		{name: "cut inside a message", kind: "read", sessions: 1, closeCode: -1, script: func(c net.Conn, n *wsRawCounts) {
			for range 3 {
				c.Write(msg)
				n.sent.Add(1)
			}
			c.Write(wsAppendFrame(nil, true, 1, []byte(strings.Repeat("x", 300)))[:100]) // header and a third
			c.(*net.TCPConn).CloseWrite()
		}},
		{name: "ping flood", kind: "read", sessions: 1, closeCode: -1, pings: 500, script: func(c net.Conn, n *wsRawCounts) {
			var b []byte
			for i := range 500 {
				b = wsAppendFrame(b, true, 9, []byte("p"+wsItoa(i)))
				if i%100 == 0 {
					b = append(b, msg...)
					n.sent.Add(1)
				}
			}
			c.Write(b)
			for n.pongs.Load() < 500 && n.closeCode.Load() < 0 { // until every pong is in, then cut
				time.Sleep(time.Millisecond)
			}
			c.(*net.TCPConn).CloseWrite()
		}},
		{name: "masked frame from the server", kind: "read", sessions: 1, closeCode: 1002, script: func(c net.Conn, n *wsRawCounts) {
			c.Write(msg)
			n.sent.Add(1)
			b := wsAppendFrame(nil, true, 1, []byte("hi"))
			b[1] |= 0x80
			c.Write(append(b[:2], 0, 0, 0, 0, 'h', 'i'))
		}},
		{name: "reserved opcode", kind: "read", sessions: 1, closeCode: 1002, script: func(c net.Conn, n *wsRawCounts) {
			c.Write(wsAppendFrame(nil, true, 3, []byte("?")))
		}},
		{name: "header announces a message over max_message_size", kind: "message_too_big", limit: 1000, sessions: 1, closeCode: 1009, script: func(c net.Conn, n *wsRawCounts) {
			c.Write(msg)
			n.sent.Add(1)
			c.Write(wsAppendFrame(nil, false, 1, make([]byte, 600)))
			c.Write(wsAppendFrame(nil, true, 0, make([]byte, 600))) // 1200 in two fragments
		}},
		{name: "wrong Sec-WebSocket-Accept", badAccept: true, kind: "handshake", closeCode: -1, script: func(net.Conn, *wsRawCounts) {}},
	}
	sh := newWSShared()
	defer sh.close()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url, n, wait := wsRawServer(t, tc.badAccept, tc.script)
			st := wsBlock(url, wsSendText("ask", `{"n":5}`),
				&plan.WSAction{Kind: plan.WSReceive, Name: "all", Duration: 10 * time.Second})
			st.MaxMessageSize = tc.limit
			vu, col := wsTestVU(sh)
			err := wsFaultRun(t, vu, st)
			wait() // the server has read all the client wrote: the connection is closed
			if got := wsStepKind(err); got != tc.kind {
				t.Fatalf("error kind %q, want %q (%v)", got, tc.kind, err)
			}
			if col.sum(metrics.WSErrors, tc.kind) != 1 || col.sum(metrics.WSErrors, "") != 1 {
				t.Errorf("ws_errors %v, want one %s", col.samples, tc.kind)
			}
			if got := col.sum(metrics.WSSessions, ""); got != tc.sessions || int64(got) != n.upgraded.Load()-btoi(tc.badAccept) {
				t.Errorf("ws_sessions %v, want %v (server upgraded %d)", got, tc.sessions, n.upgraded.Load())
			}
			if got := int64(col.sum(metrics.WSMsgsSent, "")); got != n.texts.Load() {
				t.Errorf("ws_msgs_sent %d, server read %d", got, n.texts.Load())
			}
			if got := int64(col.sum(metrics.WSMsgsReceived, "")); got != n.sent.Load() {
				t.Errorf("ws_msgs_received %d, server wrote %d whole", got, n.sent.Load())
			}
			if n.closeCode.Load() != tc.closeCode {
				t.Errorf("the server read close code %d, want %d", n.closeCode.Load(), tc.closeCode)
			}
			if n.pongs.Load() != tc.pings {
				t.Errorf("the server read %d pongs, want %d", n.pongs.Load(), tc.pings)
			}
		})
	}
}

func btoi(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// TestWSFramerPingAfterEnd: a ping on a connection whose reader has ended (here by the server's
// close frame, which our framing echoed) fails at once with that end, rather than waiting for a
// pong no reader will see.
func TestWSFramerPingAfterEnd(t *testing.T) {
	url, n, wait := wsRawServer(t, false, func(c net.Conn, n *wsRawCounts) {
		c.Write(wsAppendFrame(nil, true, 8, binary.BigEndian.AppendUint16(nil, 1001)))
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rwc, _, err := wsHandshake(ctx, &http.Client{}, url, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fr := newWSFramer(rwc, 1<<20)
	defer fr.closeNow()
	if _, _, err := fr.readMessage(nil); websocket.CloseStatus(err) != 1001 {
		t.Fatalf("read: %v, want the server's close 1001", err)
	}
	if err := fr.ping(ctx); websocket.CloseStatus(err) != 1001 {
		t.Fatalf("ping: %v, want the connection's end (close 1001)", err)
	}
	wait()
	if n.closeCode.Load() != 1001 || n.pongs.Load() != 0 || n.texts.Load() != 0 {
		t.Errorf("the server read close code %d, %d pongs, %d data frames; want 1001, 0, 0", n.closeCode.Load(), n.pongs.Load(), n.texts.Load())
	}
}

// TestWSVerify: the client's checks of the 101 answer (RFC 6455 §4.1), with the accept key of
// the RFC's own example.
func TestWSVerify(t *testing.T) {
	const key, accept = "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
	if got := wsAccept(key); got != accept {
		t.Fatalf("accept %q, want the RFC's %q", got, accept)
	}
	ok := func() http.Header {
		return http.Header{"Upgrade": {"WebSocket"}, "Connection": {"keep-alive, Upgrade"}, "Sec-Websocket-Accept": {accept}}
	}
	cases := []struct {
		name   string
		status int
		edit   func(http.Header)
		protos []string
		bad    bool
	}{
		{name: "valid", status: 101, edit: func(http.Header) {}},
		{name: "status 200", status: 200, edit: func(http.Header) {}, bad: true},
		{name: "no Upgrade", status: 101, edit: func(h http.Header) { h.Del("Upgrade") }, bad: true},
		{name: "Connection without upgrade", status: 101, edit: func(h http.Header) { h.Set("Connection", "close") }, bad: true},
		{name: "wrong accept", status: 101, edit: func(h http.Header) { h.Set("Sec-WebSocket-Accept", "x") }, bad: true},
		{name: "offered subprotocol", status: 101, protos: []string{"a", "B"}, edit: func(h http.Header) { h.Set("Sec-WebSocket-Protocol", "b") }},
		{name: "subprotocol not offered", status: 101, protos: []string{"a"}, edit: func(h http.Header) { h.Set("Sec-WebSocket-Protocol", "b") }, bad: true},
		{name: "extension not offered", status: 101, edit: func(h http.Header) { h.Set("Sec-WebSocket-Extensions", "permessage-deflate") }, bad: true},
		{name: "empty extensions header", status: 101, edit: func(h http.Header) { h.Set("Sec-WebSocket-Extensions", " ") }},
	}
	for _, tc := range cases {
		h := ok()
		tc.edit(h)
		err := wsVerify(&http.Response{StatusCode: tc.status, Header: h}, key, tc.protos)
		if (err != nil) != tc.bad {
			t.Errorf("%s: %v, want an error: %v", tc.name, err, tc.bad)
		}
	}
}
