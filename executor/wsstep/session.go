// Package wsstep is the websocket step kind (step.Kind): a block of message steps (send,
// expect, receive, sleep, ping, close) on one logical session, per iteration or persistent for
// the VU, with on_message auto-replies and a reconnect policy. While the VU runs a block's steps
// it reads its connection itself (conn.go): a frame reaches the expect waiting for it with no
// handoff between goroutines, and an idle session waiting in a receive step costs no goroutine
// of its own. A background reader goroutine answers auto-replies and pings only while the VU is
// away (sleep and ping steps, or outside the block for longer than wsIdleRead; at once when the
// block has on_message rules), queueing the other frames for the steps.
//
// Reads and writes bound their wait with deadlines on the connection (wire.go), not with a
// context per frame, whose registration the library makes on every read and write; the wire
// follows the server's frames so that a deadline or a hand-over ends a wait only between
// messages. Measured on a 2-core machine, 50 persistent sessions doing send → expect of an echo,
// 6 paired rounds: 1.45× (1.24–1.61×) the round trips per CPU-second of the reader-goroutine
// design, 27 → 3 allocations per round trip (BenchmarkWSRoundTrip, server's included);
// FuzzWSWireFollow holds the wire's message boundaries to a frame encoder's.
//
// An idle session costs its VU's goroutine and nothing else that runs: a graceful stop reaches a
// waiting receive step through a callback on the VU's stop context (not a goroutine per VU
// watching its stop channel), the run context's end through one registration per session (not
// one per run), and the idle-reader timer stays armed across the VU's visits (not stopped and
// reset every iteration). At 10,000 sessions of bench/plans/websocket.hcl that removed 10,002 of
// 20,015 goroutines; peak RSS per open session, median of 7 runs, went from 38.4 KB (37.5–40.7)
// to 36.4 (34.3–38.1) with Go's default GC target, 33.9 (32.1–36.5) with cmd/loadplan's GC policy
// for many VUs, and the echo's round trips per CPU-second 1.03× (1.01–1.17×, 5 paired rounds).
// What remained was mostly the library's 4 KB read and 4 KB write buffers, held for the
// session's life, the VU goroutine's 8 KB stack, and the collector's headroom over them.
//
// So the client side of the protocol is our own (frame.go, sock.go, handshake.go), not
// github.com/coder/websocket's: the opening handshake over the same dial path (plain and TLS,
// the plan's headers and subprotocols, Sec-WebSocket-Accept checked), masked frames written
// from a pooled buffer released after the write, and a reader that waits for the next message in
// a 64-byte array of its own, borrowing a pooled read-ahead only while frames stream in and
// reading large payloads straight into the message. An idle session holds no buffer. Measured on
// the 2-core machine, main and this code alternating: bench/plans/websocket.hcl at 10,000
// sessions, peak RSS per open session 34.0 KB (33.8–36.4, the 3 of 5 rounds of main that opened
// all 10,000 sessions) → 22.2 KB (20.9–26.4, 6 rounds, all 10,000 open, no ws_errors; paired
// 0.61×, 0.58–0.69×); BenchmarkWSIdleSessions at 10,000, live heap per session
// 14.2 → 4.2 KB (stacks 8.3 KB both); the bench's echo (50 sessions, send → expect), round
// trips per CPU-second 1.13× (1.07–1.17×, 6 paired rounds; 47.2k → 53.0k), counts equal to
// the server's in every round; BenchmarkWSRoundTrip (server in-process) 2 allocs/op both, its
// CPU equal within noise. Sessions with compression = true keep the library's framing
// (wsLib), which implements permessage-deflate; they pay its buffers. FuzzWSFraming holds our
// framing to the library's both ways on loopback (every header length, fragments, pings
// between them, close codes from either side), and TestWSFramingFaults to a raw server's counts.
// What an idle session costs now is mostly its VU goroutine's 8 KB stack: while it waits, 1,984
// bytes of it lie between wsVU.run and the wire's Read alone, and the collector halves a stack
// only when less than a quarter of it is in use.
//
// A failure is one ws_errors sample with its kind; the iteration it ends adds no errors sample
// of its own (step.Error.Reported). A handshake cut by the end of the run once its upgrade
// request has left is ws_errors{interrupted}, as an HTTP request cut on the wire is: every
// request the server read is then a session (its 101 was read) or an error.
package wsstep

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// Close ends the VU's persistent sessions and releases its handshake clients; vuState.End calls
// it when the VU's activation ends.
func (w *wsVU) Close() error {
	w.close()
	w.shared.close()
	return nil
}

// wsVU is the WebSocket state of one VU: where its samples go, its runtime values, and the
// persistent sessions it holds across iterations. It is owned by the VU goroutine; nothing in
// it is shared except through wsShared and the connections' reader goroutines.
type wsVU struct {
	shared *wsShared
	rt     *plan.Runtime
	emit   func(metrics.Sample) // appends to the VU's batch; called only from the VU goroutine
	// stop, when closed, ends receive steps, sleeps and send intervals early so that an
	// iteration in flight at a graceful stop finishes its remaining steps promptly. nil: never.
	stop <-chan struct{}
	// stopCtx, when not nil, is the context whose Done is stop: a receive step registers its kick
	// on it (context.AfterFunc, no goroutine) instead of watching stop with wsWatchStop, whose
	// goroutine per stop channel is one per VU when every VU has its own (the closed model).
	stopCtx  context.Context
	sessions map[*plan.WebSocketStep]*wsSession // persistent sessions, by block
	// connected, when set, learns the outcome of every handshake for the VU's backoff and the
	// target's reachability: reached (the server answered), cause (not empty: it failed).
	connected func(t *plan.Target, reached bool, cause string)
	// trace is the VU's trace context and traceConf the running block's tracing (handshake.go):
	// every handshake of the block carries its trace headers. nil: off.
	trace     *step.Trace
	traceConf *step.TraceConf
}

// wsSession is one websocket block's logical session: one connection at a time, replaced on a
// reconnect. A per-iteration session lives for one run of the block; a persistent one for the VU.
type wsSession struct {
	block    *plan.WebSocketStep
	ctx      context.Context // parent of every connection: cancelling it closes them at once
	cancel   context.CancelFunc
	hard     context.Context // a persistent session's: the run context whose end cancels ctx
	unhard   func() bool     // deregisters that (nil: none)
	inRun    atomic.Bool     // the VU runs the block: the hard context's end cancels ctx
	gen      atomic.Int64    // the registration on hard that may cancel ctx
	conn     *wsConn         // nil when not connected
	rules    *[]wsRule       // on_message rules rendered with the current captures; nil when none
	lastSend time.Time       // when the last message was sent, for ws_expect_duration
	sendRef  bool            // a send happened since the last expect or receive step
	sendBuf  []byte          // reused for rendering text messages
	readBuf  []byte          // reused for reading frames the steps only match and count (recv)
	dynamic  bool            // some on_message rule depends on the iteration
	streak   int             // reconnects since a frame last arrived (bounded by max_attempts)
}

// add emits one sample.
func (w *wsVU) add(m metrics.Metric, tags *metrics.Tags, v float64, status int, label string) {
	w.addAt(time.Now(), m, tags, v, status, label)
}

// addAt emits one sample taken at t: the steps that already read the clock share the reading.
func (w *wsVU) addAt(t time.Time, m metrics.Metric, tags *metrics.Tags, v float64, status int, label string) {
	w.emit(metrics.Sample{Metric: m, Time: t.UnixNano(), Value: v, Tags: tags, Status: status, Label: label})
}

// wsStepError is a failed websocket block: Kind is the ws_errors label of the cause.
type wsStepError struct {
	Block, Step string
	Kind        string
	Err         error
	// Counted: the failure already is a ws_errors sample (a refused handshake, a lost
	// connection, a failed expect), so the iteration it ends adds no `errors` sample of its own:
	// one failure, one sample, one row in the summary's errors table.
	Counted bool
}

func (e *wsStepError) Error() string {
	if e.Step == "" {
		return fmt.Sprintf("websocket %q: %v", e.Block, e.Err)
	}
	return fmt.Sprintf("websocket %q step %q: %v", e.Block, e.Step, e.Err)
}

func (e *wsStepError) Unwrap() error { return e.Err }

// label is the error's short, fixed form for the `errors` metric: no per-frame values, so that
// it does not multiply series.
func (e *wsStepError) label() string {
	if e.Step == "" {
		return "websocket: " + e.Kind
	}
	return e.Step + ": " + e.Kind
}

// run runs one websocket block for the current iteration. ctx is the iteration's hard context:
// cancelling it closes the connection at once and run returns promptly with ctx's error. A
// failed step ends the block (the protocol is broken); run returns a *wsStepError for it.
func (w *wsVU) run(ctx context.Context, st *plan.WebSocketStep) error {
	persistent := st.Session == plan.Persistent
	var s *wsSession
	if persistent {
		s = w.sessions[st]
		if s == nil {
			s = w.newSession(context.Background(), st)
			if w.sessions == nil {
				w.sessions = make(map[*plan.WebSocketStep]*wsSession)
			}
			w.sessions[st] = s
		}
		// The executor's hard context ends a persistent session too while the VU runs the block:
		// a VU is never held by it. That context is the VU's for the activation, the same every
		// iteration, so the callback is registered once per session rather than once per run
		// (about 3% of the CPU of an echo round trip) and acts only while the VU is in the block;
		// outside it, the VU's End closes the session with a handshake as before.
		if s.hard != ctx {
			if s.unhard != nil {
				s.unhard()
			}
			// A callback of an earlier context that fires late (its goroutine scheduled after
			// this run began) finds another generation and does nothing.
			g := s.gen.Add(1)
			s.hard, s.unhard = ctx, context.AfterFunc(ctx, func() {
				if s.inRun.Load() && s.gen.Load() == g {
					s.cancel()
				}
			})
		}
		s.inRun.Store(true)
		defer s.inRun.Store(false)
		if ctx.Err() != nil {
			s.cancel() // ended before inRun was set: the callback may have passed us by
		}
	} else {
		s = w.newSession(ctx, st)
	}
	s.sendRef = false
	if s.conn != nil {
		s.conn.enter() // the VU reads the connection itself while it runs the block
	}
	err := w.renderRules(s)
	if err == nil {
		err = w.ensureConn(ctx, s, nil)
	}
	for _, step := range st.Steps {
		if err != nil {
			break
		}
		err = w.step(ctx, s, step)
	}
	// Once per run, not per step: the same totals with fewer samples (a connection replaced on
	// the way was flushed as it went).
	w.flushConn(s)
	if ctx.Err() != nil {
		w.endSession(s, true)
		if persistent {
			delete(w.sessions, st)
		}
		return ctx.Err()
	}
	if !persistent {
		w.endSession(s, false)
	} else if s.conn != nil {
		grace := wsIdleRead
		if len(st.OnMessage) > 0 {
			grace = 0 // auto-replies go out while the VU is away
		}
		s.conn.leave(grace)
	}
	return err
}

// close ends every persistent session of the VU (at VU exit). Safe to call more than once.
func (w *wsVU) close() {
	for st, s := range w.sessions {
		w.endSession(s, false)
		delete(w.sessions, st)
	}
}

func (w *wsVU) newSession(parent context.Context, st *plan.WebSocketStep) *wsSession {
	ctx, cancel := context.WithCancel(parent)
	s := &wsSession{block: st, ctx: ctx, cancel: cancel}
	for _, r := range st.OnMessage {
		if !wsConstMatch(r.Match) || (r.Reply != nil && (!r.Reply.Text.IsConstant() || !r.Reply.JSON.IsConstant())) {
			s.dynamic = true
		}
	}
	return s
}

// wsConstMatch reports whether a frame match does not depend on the iteration.
func wsConstMatch(m *plan.FrameMatch) bool {
	return m == nil || (m.JSON.IsConstant() && m.Equals.IsConstant())
}

// renderRules renders the block's on_message rules with the current runtime values and hands
// them to the connection's reader. Constant rules are rendered once per session. A rule that
// depends on the iteration and cannot be rendered yet (it reads a capture that a later step
// sets) stays inactive until a rendering succeeds; rules are rendered again at the start of each
// run of the block and after every step that captures.
func (w *wsVU) renderRules(s *wsSession) error {
	if len(s.block.OnMessage) == 0 || (s.rules != nil && !s.dynamic) {
		return nil
	}
	rules := make([]wsRule, 0, len(s.block.OnMessage))
	for _, r := range s.block.OnMessage {
		m, err := newWSMatcher(r.Match, w.rt)
		var typ websocket.MessageType
		var b []byte
		if err == nil {
			typ, b, err = wsMessage(r.Reply, w.rt, nil)
		}
		if err != nil {
			if s.dynamic {
				continue // not renderable with this iteration's values yet
			}
			return &wsStepError{Block: s.block.Name, Kind: "template", Err: fmt.Errorf("on_message %q: %w", r.Name, err)}
		}
		rules = append(rules, wsRule{match: m, typ: typ, reply: append([]byte(nil), b...)})
	}
	s.rules = &rules
	if s.conn != nil {
		s.conn.rules.Store(s.rules)
	}
	return nil
}

// ensureConn makes sure s has a live connection. A connection found dead and drained (dropped
// while the session was idle, or during a step: step says which) is reported and replaced — by a
// reconnect when the block has a reconnect policy, otherwise by a fresh connection for a session
// that is starting (step nil) or an error for a step in progress.
func (w *wsVU) ensureConn(ctx context.Context, s *wsSession, step *plan.WSAction) error {
	if s.conn != nil {
		ended, rerr := s.conn.drained()
		if !ended {
			return nil
		}
		tags := s.block.Tags
		if step != nil {
			tags = step.Tags
		}
		kind := w.dropped(s, rerr, tags)
		if s.block.Reconnect != nil {
			return w.reconnect(ctx, s)
		}
		if step != nil {
			return &wsStepError{Block: s.block.Name, Step: step.Name, Kind: kind, Err: fmt.Errorf("connection lost: %v", rerr), Counted: true}
		}
	}
	c, err := w.dial(ctx, s)
	if err != nil {
		var de *wsDialError
		if errors.As(err, &de) {
			return &wsStepError{Block: s.block.Name, Kind: de.Kind, Err: de.Err, Counted: true}
		}
		return err
	}
	s.conn = c
	return nil
}

// dropped reports a connection the server ended (or that broke): ws_errors with its kind,
// ws_session_duration, and what it had received. It returns the kind.
func (w *wsVU) dropped(s *wsSession, rerr error, tags *metrics.Tags) string {
	kind := wsErrorKind(rerr)
	w.add(metrics.WSErrors, tags, 1, wsCloseCode(rerr), kind)
	c := s.conn
	c.abort()
	w.flushConn(s)
	w.leftovers(s)
	w.add(metrics.WSSessionDuration, s.block.Tags, wsMillis(time.Since(c.opened)), 0, "")
	s.conn = nil
	return kind
}

// wsCloseCode returns the close code carried by err, or 0.
func wsCloseCode(err error) int {
	if code := websocket.CloseStatus(err); code > 0 {
		return int(code)
	}
	return 0
}

// wsErrorKind names a connection's terminal error for ws_errors.
func wsErrorKind(err error) string {
	switch {
	case errors.Is(err, websocket.ErrMessageTooBig):
		return "message_too_big"
	case websocket.CloseStatus(err) > 0:
		return "closed_" + strconv.Itoa(int(websocket.CloseStatus(err)))
	}
	return "read"
}

// flushConn turns what the reader counted on its own (auto-replies, frames lost to a full
// queue, bytes on the wire) into samples tagged with the block.
func (w *wsVU) flushConn(s *wsSession) {
	c := s.conn
	if c == nil {
		return
	}
	tags := s.block.Tags
	recv, sent, over := c.autoRecv.Swap(0), c.autoSent.Swap(0), c.overflow.Swap(0)
	if recv+over > 0 {
		w.add(metrics.WSMsgsReceived, tags, float64(recv+over), 0, "")
	}
	if over > 0 {
		w.add(metrics.WSMsgsUnmatched, tags, float64(over), 0, "")
	}
	if sent > 0 {
		w.add(metrics.WSMsgsSent, tags, float64(sent), 0, "")
	}
	if n := c.autoWrErr.Swap(0); n > 0 {
		w.add(metrics.WSErrors, tags, float64(n), 0, "write")
	}
	if c.bytes != nil {
		if n := c.bytes.out.Swap(0); n > 0 {
			w.add(metrics.DataSent, tags, float64(n), 0, "")
		}
		if n := c.bytes.in.Swap(0); n > 0 {
			w.add(metrics.DataReceived, tags, float64(n), 0, "")
		}
	}
}

// leftovers counts frames still queued on a finished connection as received.
func (w *wsVU) leftovers(s *wsSession) {
	if n := s.conn.queued(); n > 0 {
		w.add(metrics.WSMsgsReceived, s.block.Tags, float64(n), 0, "")
	}
}

// endSession closes s's connection — with a close handshake, or at once when abort — and emits
// its final counts and ws_session_duration.
func (w *wsVU) endSession(s *wsSession, abort bool) {
	if c := s.conn; c != nil {
		if abort {
			c.abort()
		} else {
			c.close(websocket.StatusNormalClosure)
		}
		w.flushConn(s)
		w.leftovers(s)
		w.add(metrics.WSSessionDuration, s.block.Tags, wsMillis(time.Since(c.opened)), 0, "")
		s.conn = nil
	}
	if s.unhard != nil {
		s.unhard()
		s.hard, s.unhard = nil, nil
	}
	s.cancel()
}
