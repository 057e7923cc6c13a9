package wsstep

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// TestWSEchoCountsMatchServer runs persistent echo sessions on many VUs in every reading mode —
// the VU reading in its expect, the background reader during sleep steps, the idle reader
// between iterations (at once with an on_message rule, after wsIdleRead without), a receive
// step — and closes them at VU end: the messages loadplan counts sent and received equal what
// the server received and sent.
func TestWSEchoCountsMatchServer(t *testing.T) {
	defer func(d time.Duration) { wsIdleRead = d }(wsIdleRead)
	wsIdleRead = time.Millisecond // the idle reader starts between most iterations
	for _, rules := range []bool{false, true} {
		srv := newWSTestServer(t, wsEchoHandler)
		st := wsEchoBlock(srv.url())
		st.Steps = append(st.Steps,
			&plan.WSAction{Kind: plan.WSSleep, Name: "away", Duration: 0},
			wsSendText("again", "hello"),
			&plan.WSAction{Kind: plan.WSReceive, Name: "some", Duration: 0}) // the echo may come now or later
		st = wsBlock(srv.url(), st.Steps...)
		st.Session = plan.Persistent
		if rules {
			// Never matches the echo: the reader runs between iterations and queues what arrives.
			st.OnMessage = []*plan.AutoReply{{Name: "never", Match: &plan.FrameMatch{Equals: plan.Literal("nothing")},
				Reply: &plan.Message{Text: plan.Literal("x")}}}
		}
		sh := newWSShared()
		cols := wsRunMany(t, sh, st, 20, 30)
		sh.close()
		srv.close()
		sent, recv := wsTotal(cols, metrics.WSMsgsSent, ""), wsTotal(cols, metrics.WSMsgsReceived, "")
		if int64(sent) != srv.framesIn.Load() || int64(recv) != srv.framesOut.Load() || sent != 20*30*2 || recv != sent {
			t.Errorf("rules %v: sent %v, server received %d; received %v, server sent %d", rules, sent, srv.framesIn.Load(), recv, srv.framesOut.Load())
		}
		if n := wsTotal(cols, metrics.WSErrors, ""); n != 0 {
			t.Errorf("rules %v: ws_errors %v", rules, n)
		}
	}
}

// TestWSPingAnsweredWhileAway: a server pings a persistent session while its VU is outside the
// block, after a send whose write bound has long passed; the idle reader answers, and the pong
// goes out (no write deadline left from the send fails it).
func TestWSPingAnsweredWhileAway(t *testing.T) {
	t.Run("after one visit", func(t *testing.T) { testWSPingAway(t, time.Millisecond, 1) })
	// The idle timer stays armed across visits (enter does not stop it): after many short
	// visits, the timer that fired while the VU was in re-arms at the next leave, and the one
	// that fired while it was out for less than the grace re-arms for the rest.
	t.Run("after many visits", func(t *testing.T) { testWSPingAway(t, 3*time.Millisecond, 50) })
}

func testWSPingAway(t *testing.T, grace time.Duration, visits int) {
	defer func(d time.Duration) { wsIdleRead = d }(wsIdleRead)
	wsIdleRead = grace
	ping, pinged := make(chan struct{}), make(chan error, 1)
	var pongs atomic.Int64
	srv := newWSTestServer(t, func(s *wsTestServer, c *websocket.Conn, r *http.Request) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // safety bound
		defer cancel()
		go func() {
			<-ping
			err := c.Ping(ctx) // returns once the pong came, read by the loop below
			if err == nil {
				pongs.Add(1)
			}
			pinged <- err
		}()
		wsEchoHandler(s, c, r)
	})
	st := wsEchoBlock(srv.url())
	st.Steps[0].Within = 5 * time.Millisecond
	sh := newWSShared()
	defer sh.close()
	vu, col := wsTestVU(sh)
	for i := 0; i < visits; i++ {
		if err := vu.run(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond) // the send's write bound passes
	close(ping)
	if err := <-pinged; err != nil || pongs.Load() != 1 {
		t.Errorf("server's ping: %v (pongs %d)", err, pongs.Load())
	}
	if err := vu.run(context.Background(), st); err != nil { // the VU takes the connection back
		t.Fatal(err)
	}
	vu.close()
	srv.close()
	if col.sum(metrics.WSMsgsSent, "") != float64(visits+1) || int64(col.sum(metrics.WSMsgsReceived, "")) != srv.framesOut.Load() || col.sum(metrics.WSSessions, "") != 1 {
		t.Errorf("sent %v, received %v (server sent %d), sessions %v", col.sum(metrics.WSMsgsSent, ""),
			col.sum(metrics.WSMsgsReceived, ""), srv.framesOut.Load(), col.sum(metrics.WSSessions, ""))
	}
}
