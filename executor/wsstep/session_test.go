package wsstep

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
	"go.uber.org/goleak"
)

// wsProtocolBlock exercises every counted path of the protocol server: a burst of data frames,
// repeated sends, heartbeats answered by an on_message rule, a ping, and a clean close.
func wsProtocolBlock(t testing.TB, url string, session plan.SessionMode) *plan.WebSocketStep {
	st := wsBlock(url,
		wsSendText("ask", `{"n":5}`),
		wsExpectJSON(t, "data", `{type = "data"}`, 5, 5*time.Second),
		wsExpectJSON(t, "done", `{type = "done"}`, 1, 5*time.Second),
		&plan.WSAction{Kind: plan.WSSend, Name: "nudge", Send: &plan.Message{Text: plan.Literal(`{"n":0}`)}, Repeat: 3, Interval: time.Millisecond},
		wsExpectJSON(t, "dones", `{type = "done"}`, 3, 5*time.Second),
		wsSendText("hb", `{"hb":2}`),
		wsExpectJSON(t, "hbdone", `{type = "done"}`, 1, 5*time.Second),
		&plan.WSAction{Kind: plan.WSPing, Name: "ping", Within: 5 * time.Second},
	)
	st.Session = session
	st.OnMessage = []*plan.AutoReply{{Name: "pong",
		Match: &plan.FrameMatch{JSON: wsTmpl(t, `{type = "heartbeat"}`)},
		Reply: &plan.Message{Text: plan.Literal(`{"type":"pong"}`)}}}
	return st
}

// wsRunMany runs block iters times on each of vus concurrent VUs and returns every VU's samples.
func wsRunMany(t *testing.T, sh *wsShared, st *plan.WebSocketStep, vus, iters int) []*wsCollector {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // safety net only
	defer cancel()
	cols := make([]*wsCollector, vus)
	errs := make(chan error, vus*iters)
	var wg sync.WaitGroup
	for i := range cols {
		vu, col := wsTestVU(sh)
		vu.rt.VU = int64(i + 1)
		cols[i] = col
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer vu.close()
			for j := 0; j < iters; j++ {
				vu.rt.Iter = int64(j)
				if err := vu.run(ctx, st); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("run: %v", err)
	}
	return cols
}

func wsTotal(cols []*wsCollector, m metrics.Metric, label string) float64 {
	var n float64
	for _, c := range cols {
		n += c.sum(m, label)
	}
	return n
}

func TestWSCountsMatchServer(t *testing.T) {
	for _, mode := range []plan.SessionMode{plan.PerIteration, plan.Persistent} {
		t.Run(string(mode), func(t *testing.T) {
			srv := newWSTestServer(t, wsProtocol)
			sh := newWSShared()
			defer sh.close()
			const vus, iters = 4, 5
			cols := wsRunMany(t, sh, wsProtocolBlock(t, srv.url(), mode), vus, iters)
			srv.close() // every handler has returned: the server's counts are final

			wantSessions := int64(vus * iters)
			if mode == plan.Persistent {
				wantSessions = vus
			}
			if got := wsTotal(cols, metrics.WSSessions, ""); int64(got) != srv.accepted.Load() || srv.accepted.Load() != wantSessions {
				t.Errorf("ws_sessions %v, server accepted %d, want %d", got, srv.accepted.Load(), wantSessions)
			}
			if got := wsTotal(cols, metrics.WSMsgsSent, ""); int64(got) != srv.framesIn.Load() {
				t.Errorf("ws_msgs_sent %v, server received %d", got, srv.framesIn.Load())
			}
			if got := wsTotal(cols, metrics.WSMsgsReceived, ""); int64(got) != srv.framesOut.Load() {
				t.Errorf("ws_msgs_received %v, server sent %d", got, srv.framesOut.Load())
			}
			// Per iteration: 1 + 3 + 1 sends and 2 pongs; 5 data + 1 + 3 + 2 heartbeats + 1 done.
			if srv.framesIn.Load() != vus*iters*7 || srv.framesOut.Load() != vus*iters*12 || srv.pongs.Load() != vus*iters*2 {
				t.Errorf("server: in %d, out %d, pongs %d", srv.framesIn.Load(), srv.framesOut.Load(), srv.pongs.Load())
			}
			if got := wsTotal(cols, metrics.WSMsgsUnmatched, ""); got != 0 {
				t.Errorf("ws_msgs_unmatched %v, want 0", got)
			}
			var expects, pings, durations int
			for _, c := range cols {
				expects += c.count(metrics.WSExpectFailed)
				pings += c.count(metrics.WSPing)
				durations += c.count(metrics.WSSessionDuration)
			}
			if expects != vus*iters*4 || wsTotal(cols, metrics.WSExpectFailed, "") != 0 || pings != vus*iters || int64(durations) != wantSessions {
				t.Errorf("expect samples %d (failed %v), pings %d, session durations %d", expects, wsTotal(cols, metrics.WSExpectFailed, ""), pings, durations)
			}
			if n := wsTotal(cols, metrics.WSErrors, ""); n != 0 {
				t.Errorf("ws_errors %v, want 0", n)
			}
		})
	}
}

// wsStepKind returns the kind of a *wsStepError.
func wsStepKind(err error) string {
	var se *wsStepError
	if errors.As(err, &se) {
		return se.Kind
	}
	return fmt.Sprintf("not a step error: %v", err)
}

func TestWSCaptureAndTemplates(t *testing.T) {
	srv := newWSTestServer(t, wsProtocol)
	sh := newWSShared()
	defer sh.close()
	exp := wsExpectJSON(t, "first", `{type = "echo"}`, 1, 5*time.Second)
	exp.Captures = []*plan.Capture{{Name: "id", Kind: plan.CaptureJSON, Path: "v", Required: true}}
	st := wsBlock(srv.url(),
		wsSendText("hello", `{"echo":"abc123"}`),
		exp,
		&plan.WSAction{Kind: plan.WSSend, Name: "again", Repeat: 1, Send: &plan.Message{Text: wsTmpl(t, `"{\"echo\":\"got-${capture.id}-${vu.id}\"}"`)}},
		wsExpectJSON(t, "second", `{type = "echo", v = "got-abc123-1"}`, 1, 5*time.Second),
	)
	vu, col := wsTestVU(sh)
	if err := vu.run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if vu.rt.Captures["id"] != "abc123" || col.sum(metrics.WSExpectFailed, "") != 0 || col.count(metrics.WSExpectDuration) != 2 {
		t.Errorf("captures %v, expect_failed %v", vu.rt.Captures, col.sum(metrics.WSExpectFailed, ""))
	}
}

func TestWSAutoReplyUsesLatestCaptures(t *testing.T) {
	srv := newWSTestServer(t, wsProtocol)
	sh := newWSShared()
	defer sh.close()
	exp := wsExpectJSON(t, "token", `{type = "echo"}`, 1, 5*time.Second)
	exp.Captures = []*plan.Capture{{Name: "tok", Kind: plan.CaptureJSON, Path: "v", Required: true}}
	st := wsBlock(srv.url(),
		wsSendText("login", `{"echo":"T-42"}`),
		exp,
		wsSendText("hb", `{"hb":1}`),
		wsExpectJSON(t, "done", `{type = "done"}`, 1, 5*time.Second))
	st.OnMessage = []*plan.AutoReply{{Name: "pong",
		Match: &plan.FrameMatch{JSON: wsTmpl(t, `{type = "heartbeat"}`)},
		Reply: &plan.Message{JSON: wsTmpl(t, `{type = "pong", token = capture.tok}`)}}}
	vu, _ := wsTestVU(sh)
	if err := vu.run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if got, _ := srv.lastPong.Load().(string); got != `{"token":"T-42","type":"pong"}` {
		t.Errorf("the auto-reply was %q", got)
	}
}

func TestWSStrictAndCloseCode(t *testing.T) {
	srv := newWSTestServer(t, wsProtocol)
	sh := newWSShared()
	defer sh.close()
	strict := wsExpectJSON(t, "strict", `{type = "done"}`, 1, 5*time.Second)
	strict.Strict = true
	vu, col := wsTestVU(sh)
	err := vu.run(context.Background(), wsBlock(srv.url(), wsSendText("ask", `{"n":2}`), strict))
	if wsStepKind(err) != "unexpected_frame" || col.sum(metrics.WSErrors, "unexpected_frame") != 1 || col.sum(metrics.WSMsgsUnmatched, "") != 1 {
		t.Errorf("strict: %v, unmatched %v", err, col.sum(metrics.WSMsgsUnmatched, ""))
	}

	for _, want := range []int{4000, 4001} {
		vu, col := wsTestVU(sh)
		st := wsBlock(srv.url(), wsSendText("bye", `{"close":4000}`), &plan.WSAction{Kind: plan.WSClose, Name: "close", ExpectCode: want})
		err := vu.run(context.Background(), st)
		if want == 4000 && (err != nil || col.sum(metrics.WSExpectFailed, "") != 0) {
			t.Errorf("close 4000: %v", err)
		}
		if want == 4001 && (wsStepKind(err) != "closed_4000" || col.sum(metrics.WSExpectFailed, "") != 1) {
			t.Errorf("close expecting 4001: %v", err)
		}
	}
}

func TestWSReceiveRate(t *testing.T) {
	srv := newWSTestServer(t, wsProtocol)
	sh := newWSShared()
	defer sh.close()
	for _, rate := range []float64{1, 1e9} {
		vu, col := wsTestVU(sh)
		st := wsBlock(srv.url(), wsSendText("ask", `{"n":50}`),
			&plan.WSAction{Kind: plan.WSReceive, Name: "watch", Duration: 500 * time.Millisecond, ExpectRate: rate})
		if err := vu.run(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		wantFailed := 0.0
		if rate > 1 {
			wantFailed = 1
		}
		if col.sum(metrics.WSExpectFailed, "") != wantFailed || col.count(metrics.WSExpectFailed) != 1 {
			t.Errorf("rate %v: expect_failed %v", rate, col.sum(metrics.WSExpectFailed, ""))
		}
		if col.sum(metrics.WSMsgsReceived, "") != 51 {
			t.Errorf("received %v, want 51", col.sum(metrics.WSMsgsReceived, ""))
		}
	}
}

func TestWSNoGoroutineLeft(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := newWSTestServer(t, wsProtocol)
	sh := newWSShared()
	cols := wsRunMany(t, sh, wsProtocolBlock(t, srv.url(), plan.PerIteration), 20, 15)
	cols = append(cols, wsRunMany(t, sh, wsProtocolBlock(t, srv.url(), plan.Persistent), 50, 2)...)
	sh.close()
	srv.close()
	if got := wsTotal(cols, metrics.WSSessions, ""); got != 350 || srv.accepted.Load() != 350 {
		t.Errorf("sessions %v, server accepted %d, want 350", got, srv.accepted.Load())
	}
}

// wsSignalServer runs wsProtocol sessions and reports each accepted connection on accepted and
// each ended one on ended.
func wsSignalServer(t *testing.T) (srv *wsTestServer, accepted, ended chan struct{}) {
	accepted, ended = make(chan struct{}, 16), make(chan struct{}, 16)
	srv = newWSTestServer(t, func(s *wsTestServer, c *websocket.Conn, r *http.Request) {
		accepted <- struct{}{}
		defer func() { ended <- struct{}{} }()
		wsProtocol(s, c, r)
	})
	return srv, accepted, ended
}

func TestWSHardContextClosesPersistentSession(t *testing.T) {
	srv, accepted, ended := wsSignalServer(t)
	sh := newWSShared()
	defer sh.close()
	st := wsBlock(srv.url(), &plan.WSAction{Kind: plan.WSReceive, Name: "forever", Duration: time.Hour})
	st.Session = plan.Persistent
	vu, _ := wsTestVU(sh)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- vu.run(ctx, st) }()
	<-accepted
	cancel() // the executor's hard context: the VU must come back, and the connection go
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("run returned %v, want context.Canceled", err)
	}
	<-ended
	if len(vu.sessions) != 0 {
		t.Errorf("an aborted persistent session is still held")
	}
	vu.close()
}

// TestWSGracefulStopEndsReceive: a graceful stop ends a receive step early and the block's
// remaining steps still run, whether the stop comes as a bare channel (wsWatchStop's goroutine)
// or as the executor's stop context (a context.AfterFunc kick, no goroutine).
func TestWSGracefulStopEndsReceive(t *testing.T) {
	for _, viaCtx := range []bool{false, true} {
		t.Run(fmt.Sprintf("context=%v", viaCtx), func(t *testing.T) { testWSGracefulStop(t, viaCtx) })
	}
}

func testWSGracefulStop(t *testing.T, viaCtx bool) {
	srv, accepted, _ := wsSignalServer(t)
	sh := newWSShared()
	defer sh.close()
	st := wsBlock(srv.url(),
		&plan.WSAction{Kind: plan.WSReceive, Name: "watch", Duration: time.Hour},
		wsSendText("bye", `{"n":1}`),
		wsExpectJSON(t, "done", `{type = "done"}`, 1, 5*time.Second))
	vu, col := wsTestVU(sh)
	stopCtx, stopNow := context.WithCancel(context.Background())
	defer stopNow()
	stop := make(chan struct{})
	vu.stop = stop
	if viaCtx {
		vu.stop, vu.stopCtx = stopCtx.Done(), stopCtx
	}
	done := make(chan error)
	go func() { done <- vu.run(context.Background(), st) }()
	<-accepted
	if viaCtx {
		stopNow()
	} else {
		close(stop) // graceful stop: the receive ends early, the remaining steps still run
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	srv.close()
	if col.sum(metrics.WSExpectFailed, "") != 0 || int64(col.sum(metrics.WSMsgsReceived, "")) != srv.framesOut.Load() || srv.framesOut.Load() != 2 {
		t.Errorf("received %v, server sent %d", col.sum(metrics.WSMsgsReceived, ""), srv.framesOut.Load())
	}
	if !viaCtx {
		return
	}
	wsStops.mu.Lock()
	watching := len(wsStops.m)
	wsStops.mu.Unlock()
	if watching != 0 {
		t.Errorf("%d stop channels watched by a goroutine with a stop context given", watching)
	}
}
