package wsstep

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// wsFaultRun runs st once with a generous safety deadline (far beyond every timeout in st), and
// fails the test if the run hit it: a fault must end the block at its own timeout.
func wsFaultRun(t *testing.T, vu *wsVU, st *plan.WebSocketStep) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := vu.run(ctx, st)
	if ctx.Err() != nil {
		t.Fatalf("the run hung until the safety deadline: %v", err)
	}
	return err
}

func TestWSFaults(t *testing.T) {
	silent := func(s *wsTestServer, c *websocket.Conn, _ *http.Request) { // reads, never answers
		for {
			if _, err := s.read(c); err != nil {
				return
			}
		}
	}
	cases := []struct {
		name    string
		handler func(s *wsTestServer, c *websocket.Conn, r *http.Request)
		limit   int64
		kind    string // the error kind of the failed step
		status  int    // the ws_errors sample's status (close code)
		extra   string // another ws_errors label expected once
	}{
		{name: "never answers", handler: silent, kind: "timeout"},
		{name: "closes with 1011", kind: "closed_1011", status: 1011, handler: func(s *wsTestServer, c *websocket.Conn, _ *http.Request) {
			s.read(c)
			s.write(c, `{"type":"data"}`)
			s.write(c, `{"type":"data"}`)
			c.Close(websocket.StatusInternalError, "boom")
		}},
		{name: "malformed JSON", kind: "timeout", extra: "malformed_json", handler: func(s *wsTestServer, c *websocket.Conn, r *http.Request) {
			s.read(c)
			s.write(c, `{"type":"data",`)
			silent(s, c, r)
		}},
		{name: "frame over max_message_size", limit: 1000, kind: "message_too_big", handler: func(s *wsTestServer, c *websocket.Conn, r *http.Request) {
			s.read(c)
			s.write(c, `{"type":"data","pad":"`+strings.Repeat("x", 2000)+`"}`)
			silent(s, c, r)
		}},
	}
	sh := newWSShared()
	defer sh.close()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newWSTestServer(t, tc.handler)
			st := wsBlock(srv.url(), wsSendText("ask", `{"n":5}`), wsExpectJSON(t, "data", `{type = "data"}`, 5, 300*time.Millisecond))
			st.MaxMessageSize = tc.limit
			vu, col := wsTestVU(sh)
			err := wsFaultRun(t, vu, st)
			srv.close()
			if got := wsStepKind(err); got != tc.kind {
				t.Fatalf("error kind %q, want %q (%v)", got, tc.kind, err)
			}
			if col.sum(metrics.WSErrors, tc.kind) != 1 || col.sum(metrics.WSExpectFailed, "") != 1 || col.count(metrics.WSExpectFailed) != 1 {
				t.Errorf("ws_errors{%s} %v, ws_expect_failed %v", tc.kind, col.sum(metrics.WSErrors, tc.kind), col.sum(metrics.WSExpectFailed, ""))
			}
			for _, s := range col.samples {
				if s.Metric == metrics.WSErrors && s.Label == tc.kind && s.Status != tc.status {
					t.Errorf("ws_errors{%s} status %d, want %d", tc.kind, s.Status, tc.status)
				}
			}
			if tc.extra != "" && col.sum(metrics.WSErrors, tc.extra) != 1 {
				t.Errorf("ws_errors{%s} = %v, want 1", tc.extra, col.sum(metrics.WSErrors, tc.extra))
			}
			if int64(col.sum(metrics.WSSessions, "")) != srv.accepted.Load() || srv.accepted.Load() != 1 {
				t.Errorf("ws_sessions %v, server accepted %d", col.sum(metrics.WSSessions, ""), srv.accepted.Load())
			}
			if int64(col.sum(metrics.WSMsgsSent, "")) != srv.framesIn.Load() {
				t.Errorf("ws_msgs_sent %v, server received %d", col.sum(metrics.WSMsgsSent, ""), srv.framesIn.Load())
			}
			// A frame over the limit is never received: the library fails the read instead.
			wantRecv := srv.framesOut.Load()
			if tc.limit > 0 {
				wantRecv--
			}
			if int64(col.sum(metrics.WSMsgsReceived, "")) != wantRecv {
				t.Errorf("ws_msgs_received %v, want %d", col.sum(metrics.WSMsgsReceived, ""), wantRecv)
			}
		})
	}
}

func TestWSConnectFaults(t *testing.T) {
	sh := newWSShared()
	defer sh.close()

	var refused atomic.Int64
	forbid := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refused.Add(1)
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer forbid.Close()
	reset, accepted := wsResetServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := ln.Addr().String()
	ln.Close() // nothing listens there any more: connection refused

	mute, err := net.Listen("tcp", "127.0.0.1:0") // accepts TCP, never answers the upgrade
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()

	cases := []struct {
		name, url, kind string
		sessions        float64
	}{
		{"upgrade refused with 403", forbid.URL, "handshake_403", 0},
		{"accepted then reset", reset.URL, "read", 1},
		{"nothing listening", "ws://" + closedAddr, "dial", 0},
		{"handshake never answered", "ws://" + mute.Addr().String(), "dial", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vu, col := wsTestVU(sh)
			st := wsBlock(tc.url, wsSendText("hi", `{"n":1}`), wsExpectJSON(t, "hello", `{type = "hello"}`, 1, 5*time.Second))
			st.Timeout = 300 * time.Millisecond // the connect timeout
			err := wsFaultRun(t, vu, st)
			if got := wsStepKind(err); got != tc.kind {
				t.Fatalf("error kind %q, want %q (%v)", got, tc.kind, err)
			}
			if col.sum(metrics.WSErrors, tc.kind) != 1 || col.sum(metrics.WSErrors, "") != 1 {
				t.Errorf("ws_errors %v, want exactly one %s", col.samples, tc.kind)
			}
			if col.sum(metrics.WSSessions, "") != tc.sessions {
				t.Errorf("ws_sessions %v, want %v", col.sum(metrics.WSSessions, ""), tc.sessions)
			}
		})
	}
	if refused.Load() != 1 || accepted.Load() != 1 {
		t.Errorf("403 server saw %d requests, reset server accepted %d; want 1 and 1", refused.Load(), accepted.Load())
	}
}

// dropper sends k ticks on every connection and then cuts it without a close frame.
func dropper(k int) func(s *wsTestServer, c *websocket.Conn, _ *http.Request) {
	return func(s *wsTestServer, c *websocket.Conn, _ *http.Request) {
		for i := 0; i < k; i++ {
			s.write(c, `{"type":"tick"}`)
		}
		c.CloseNow()
	}
}

func TestWSReconnect(t *testing.T) {
	const k = 3
	sh := newWSShared()
	defer sh.close()
	policy := &plan.Reconnect{MaxAttempts: 3, Backoff: "exponential", Initial: time.Millisecond, Max: 20 * time.Millisecond}

	t.Run("within a step", func(t *testing.T) {
		srv := newWSTestServer(t, dropper(k))
		st := wsBlock(srv.url(), wsExpectJSON(t, "ticks", `{type = "tick"}`, 4*k, 30*time.Second))
		st.Reconnect = policy
		vu, col := wsTestVU(sh)
		if err := wsFaultRun(t, vu, st); err != nil {
			t.Fatal(err)
		}
		srv.close()
		if srv.accepted.Load() != 4 || col.sum(metrics.WSSessions, "") != 4 || col.sum(metrics.WSReconnects, "") != 3 || col.count(metrics.WSReconnectDuration) != 3 {
			t.Errorf("server accepted %d; ws_sessions %v, ws_reconnects %v", srv.accepted.Load(), col.sum(metrics.WSSessions, ""), col.sum(metrics.WSReconnects, ""))
		}
		if col.sum(metrics.WSErrors, "read") != 3 || int64(col.sum(metrics.WSMsgsReceived, "")) != srv.framesOut.Load() {
			t.Errorf("ws_errors{read} %v, received %v of %d", col.sum(metrics.WSErrors, "read"), col.sum(metrics.WSMsgsReceived, ""), srv.framesOut.Load())
		}
	})

	t.Run("persistent across iterations", func(t *testing.T) {
		srv := newWSTestServer(t, dropper(k))
		st := wsBlock(srv.url(), wsExpectJSON(t, "ticks", `{type = "tick"}`, k, 30*time.Second))
		st.Session, st.Reconnect = plan.Persistent, policy
		vu, col := wsTestVU(sh)
		for i := 0; i < 5; i++ {
			if err := wsFaultRun(t, vu, st); err != nil {
				t.Fatal(err)
			}
		}
		vu.close()
		srv.close()
		if srv.accepted.Load() != 5 || col.sum(metrics.WSSessions, "") != 5 || col.sum(metrics.WSReconnects, "") != 4 {
			t.Errorf("server accepted %d; ws_sessions %v, ws_reconnects %v", srv.accepted.Load(), col.sum(metrics.WSSessions, ""), col.sum(metrics.WSReconnects, ""))
		}
	})

	t.Run("gives up after max_attempts", func(t *testing.T) {
		var served atomic.Bool
		srv := newWSTestServer(t, func(s *wsTestServer, c *websocket.Conn, r *http.Request) {
			if served.CompareAndSwap(false, true) { // only the first connection is served
				dropper(k)(s, c, r)
				return
			}
			c.Close(websocket.StatusTryAgainLater, "") // later ones are closed at once
		})
		st := wsBlock(srv.url(), wsExpectJSON(t, "ticks", `{type = "tick"}`, 2*k, 30*time.Second))
		st.Reconnect = policy
		vu, col := wsTestVU(sh)
		err := wsFaultRun(t, vu, st)
		srv.close()
		if wsStepKind(err) != "reconnect" {
			t.Errorf("error %v, want a reconnect failure", err)
		}
		// 1 served connection + 3 attempts that connected but delivered nothing.
		if srv.accepted.Load() != 4 || col.sum(metrics.WSSessions, "") != 4 || col.sum(metrics.WSReconnects, "") != 3 {
			t.Errorf("server accepted %d; ws_sessions %v, ws_reconnects %v", srv.accepted.Load(), col.sum(metrics.WSSessions, ""), col.sum(metrics.WSReconnects, ""))
		}
		if col.sum(metrics.WSErrors, "closed_1013") != 3 || col.sum(metrics.WSErrors, "read") != 1 || col.sum(metrics.WSExpectFailed, "") != 1 {
			t.Errorf("ws_errors %v", col.samples)
		}
	})
}
