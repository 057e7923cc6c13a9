package wsstep

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// wsDefaultWithin bounds an expect or ping step that has no timeout of its own, so that nothing
// ever waits forever.
const wsDefaultWithin = 10 * time.Second

// step runs one message step of a websocket block.
func (w *wsVU) step(ctx context.Context, s *wsSession, st *plan.WSAction) error {
	switch st.Kind {
	case plan.WSSend:
		return w.send(ctx, s, st)
	case plan.WSExpect:
		return w.expect(ctx, s, st)
	case plan.WSReceive:
		return w.receive(ctx, s, st)
	case plan.WSSleep:
		c := s.conn
		if c != nil {
			c.background() // auto-replies and pings are answered during the sleep
		}
		err := wsWait(ctx, w.stop, st.Duration)
		if c != nil {
			c.enter()
		}
		return err
	case plan.WSPing:
		return w.ping(ctx, s, st)
	case plan.WSClose:
		return w.closeStep(s, st)
	}
	return &wsStepError{Block: s.block.Name, Step: st.Name, Kind: "plan", Err: fmt.Errorf("unknown step kind %d", st.Kind)}
}

// fail reports a failed step: ws_errors with kind (unless empty) and a *wsStepError.
func (w *wsVU) fail(s *wsSession, st *plan.WSAction, kind string, err error) error {
	if kind != "" {
		w.add(metrics.WSErrors, st.Tags, 1, 0, kind)
	}
	return &wsStepError{Block: s.block.Name, Step: st.Name, Kind: kind, Err: err, Counted: kind != ""}
}

// lost handles a connection that failed under a step (a write or ping error): the reader's own
// terminal error names the cause when it has one, else kind does. With a reconnect policy the
// session reconnects and lost returns nil; otherwise the step fails.
func (w *wsVU) lost(ctx context.Context, s *wsSession, st *plan.WSAction, kind string, cause error) error {
	c := s.conn
	if ended, rerr := c.hasEnded(); ended {
		kind, cause = wsErrorKind(rerr), rerr
	}
	c.abort()
	w.add(metrics.WSErrors, st.Tags, 1, wsCloseCode(cause), kind)
	w.flushConn(s)
	w.leftovers(s)
	w.add(metrics.WSSessionDuration, s.block.Tags, wsMillis(time.Since(c.opened)), 0, "")
	s.conn = nil
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if s.block.Reconnect != nil {
		return w.reconnect(ctx, s)
	}
	return &wsStepError{Block: s.block.Name, Step: st.Name, Kind: kind, Err: fmt.Errorf("connection lost: %v", cause), Counted: true}
}

// send sends the step's message Repeat times, Interval apart. A connection lost on the way is
// reconnected (with a policy) and the message that failed is sent again, once.
func (w *wsVU) send(ctx context.Context, s *wsSession, st *plan.WSAction) error {
	sent := 0
	defer func() {
		if sent > 0 {
			w.addAt(s.lastSend, metrics.WSMsgsSent, st.Tags, float64(sent), 0, "")
		}
	}()
	timeout := st.Within
	if timeout <= 0 {
		timeout = wsDefaultWithin
	}
	for i := 0; i < max(st.Repeat, 1); i++ {
		if i > 0 && st.Interval > 0 {
			if err := wsWait(ctx, w.stop, st.Interval); err != nil {
				return err
			}
			if wsClosed(w.stop) {
				return nil // graceful stop: the publisher stops publishing
			}
		}
		typ, b, err := wsMessage(st.Send, w.rt, s.sendBuf)
		if err != nil {
			return w.fail(s, st, "template", err)
		}
		if st.Send.Text != nil {
			s.sendBuf = b[:0]
		}
		for attempt := 0; ; attempt++ {
			if err := w.ensureConn(ctx, s, st); err != nil {
				return err
			}
			// A deadline on the connection bounds the write (wsWire.Write): a context would cost
			// the library a registration per message. Cancelling ctx closes the connection.
			s.conn.wire.writeWithin(timeout)
			err = s.conn.ws.write(typ, b)
			if err == nil {
				sent++
				s.lastSend, s.sendRef = time.Now(), true
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := w.lost(ctx, s, st, "write", err); err != nil || attempt > 0 {
				if err == nil {
					err = w.fail(s, st, "", fmt.Errorf("message not sent after a reconnect"))
				}
				return err
			}
		}
	}
	return nil
}

// wsClosed reports whether ch is closed (a nil channel never is).
func wsClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// expect waits for Count frames that match, within the step's timeout. Frames that do not match
// are skipped and counted, or fail the step when Strict.
func (w *wsVU) expect(ctx context.Context, s *wsSession, st *plan.WSAction) error {
	ref := time.Now()
	start := ref
	if s.sendRef {
		ref = s.lastSend
	}
	s.sendRef = false
	var recv, unmatched int
	var last wsFrame
	defer func() {
		at := last.at
		if at.IsZero() {
			at = time.Now()
		}
		if recv > 0 {
			w.addAt(at, metrics.WSMsgsReceived, st.Tags, float64(recv), 0, "")
		}
		if unmatched > 0 {
			w.addAt(at, metrics.WSMsgsUnmatched, st.Tags, float64(unmatched), 0, "")
		}
	}()
	failed := func(kind string, err error) error {
		w.add(metrics.WSExpectFailed, st.Tags, 1, 0, "")
		return w.fail(s, st, kind, err)
	}
	m, err := wsStepMatcher(st.Match, w.rt)
	if err != nil {
		return failed("template", err)
	}
	within := st.Within
	if within <= 0 {
		within = wsDefaultWithin
	}
	deadline := start.Add(within)
	var armed *wsConn // the connection whose reads the deadline is armed on
	count, matched := max(st.Count, 1), 0
	for matched < count {
		if err := w.ensureConn(ctx, s, st); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			w.add(metrics.WSExpectFailed, st.Tags, 1, 0, "")
			return err
		}
		c := s.conn
		f, ok, ended, _ := c.pop()
		if !ok && !ended {
			if armed != c {
				c.wire.arm(deadline)
				armed = c
			}
			var err error
			if f, err = s.recv(c); err == nil {
				ok = true // the last frame read: its data stays valid until the next read
			} else {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if errors.Is(err, errWSWait) {
					return failed("timeout", fmt.Errorf("%d of %d matching frames within %s (%d others skipped)", matched, count, within, unmatched))
				}
				continue // ended: ensureConn reports the drop and reconnects or fails
			}
		}
		if ok {
			recv++
			s.streak = 0
			hit, malformed := m.match(&f)
			if malformed {
				w.add(metrics.WSErrors, st.Tags, 1, 0, "malformed_json")
			}
			if hit {
				matched++
				last = f
				continue
			}
			unmatched++
			if st.Strict {
				return failed("unexpected_frame", fmt.Errorf("strict: frame %s does not match", wsShort(f.data)))
			}
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// ended: ensureConn reports the drop and reconnects or fails
	}
	if err := wsCapture(st.Captures, &last, w.rt); err != nil {
		return failed("capture", err)
	}
	w.addAt(last.at, metrics.WSExpectDuration, st.Tags, wsMillis(max(0, last.at.Sub(ref))), 0, "")
	w.addAt(last.at, metrics.WSExpectFailed, st.Tags, 0, 0, "")
	if len(st.Captures) > 0 {
		return w.renderRules(s)
	}
	return nil
}

// wsShort quotes the start of a frame for an error message.
func wsShort(b []byte) string {
	if len(b) > 64 {
		return strconv.Quote(string(b[:64])) + "..."
	}
	return strconv.Quote(string(b))
}

// receive reads every frame for Duration (or until a graceful stop), counting them, and checks
// ExpectRate against the frames per second actually seen over the whole Duration.
func (w *wsVU) receive(ctx context.Context, s *wsSession, st *plan.WSAction) error {
	s.sendRef = false
	start := time.Now()
	n := 0
	defer func() {
		if n > 0 {
			w.add(metrics.WSMsgsReceived, st.Tags, float64(n), 0, "")
		}
	}()
	deadline := start.Add(max(st.Duration, 0))
	var armed *wsConn // the connection whose reads the deadline is armed on
	unwatch := func() {}
	defer func() { unwatch() }()
loop:
	for {
		if err := w.ensureConn(ctx, s, st); err != nil {
			if ctx.Err() == nil && st.ExpectRate > 0 {
				w.add(metrics.WSExpectFailed, st.Tags, 1, 0, "")
			}
			return err
		}
		c := s.conn
		_, ok, ended, _ := c.pop()
		if !ok && !ended {
			if armed != c {
				unwatch()
				c.wire.arm(deadline)
				unwatch = w.watchStop(c.wire) // a graceful stop kicks the read
				armed = c
			}
			if wsClosed(w.stop) {
				// Cut short by a graceful stop: the window is the tester's, not the server's, so
				// there is no rate verdict.
				return nil
			}
			_, err := s.recv(c)
			switch {
			case err == nil:
				ok = true
			case ctx.Err() != nil:
				return ctx.Err()
			case errors.Is(err, errWSWait) && wsClosed(w.stop):
				return nil
			case errors.Is(err, errWSWait):
				break loop
			}
		}
		if ok {
			n++
			s.streak = 0
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if st.ExpectRate > 0 {
		rate := float64(n) / max(time.Since(start).Seconds(), 1e-9)
		if rate < st.ExpectRate {
			w.add(metrics.WSExpectFailed, st.Tags, 1, 0, "")
			return nil // the stream was slow, but the protocol is intact: the block goes on
		}
		w.add(metrics.WSExpectFailed, st.Tags, 0, 0, "")
	}
	return nil
}

// ping sends a WebSocket ping and measures the round trip to the pong.
func (w *wsVU) ping(ctx context.Context, s *wsSession, st *plan.WSAction) error {
	if err := w.ensureConn(ctx, s, st); err != nil {
		return err
	}
	timeout := st.Within
	if timeout <= 0 {
		timeout = wsDefaultWithin
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	c := s.conn
	c.background() // a ping needs a reader to see the pong
	err := c.ws.ping(pctx)
	c.enter()
	switch {
	case err == nil:
		w.add(metrics.WSPing, st.Tags, wsMillis(time.Since(start)), 0, "")
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case pctx.Err() != nil:
		return w.fail(s, st, "timeout", fmt.Errorf("no pong within %s", timeout))
	}
	if err := w.lost(ctx, s, st, "read", err); err != nil {
		return err
	}
	return w.fail(s, st, "", fmt.Errorf("connection lost during ping"))
}

// closeStep closes the connection with the step's code and checks the server's close code. A
// connection the server already closed is checked as it is.
func (w *wsVU) closeStep(s *wsSession, st *plan.WSAction) error {
	c := s.conn
	if c == nil {
		return nil
	}
	code := st.CloseCode
	if code == 0 {
		code = int(websocket.StatusNormalClosure)
	}
	got := 0
	if ended, rerr := c.hasEnded(); ended {
		got = wsCloseCode(rerr)
	} else {
		got = c.close(websocket.StatusCode(code))
	}
	w.flushConn(s)
	w.leftovers(s)
	w.add(metrics.WSSessionDuration, s.block.Tags, wsMillis(time.Since(c.opened)), 0, "")
	s.conn = nil
	if st.ExpectCode == 0 {
		return nil
	}
	if got != st.ExpectCode {
		w.add(metrics.WSExpectFailed, st.Tags, 1, 0, "")
		kind := "closed_" + strconv.Itoa(got)
		if got == 0 {
			kind = "closed_none"
		}
		w.add(metrics.WSErrors, st.Tags, 1, got, kind)
		return &wsStepError{Block: s.block.Name, Step: st.Name, Kind: kind,
			Err: fmt.Errorf("server closed with code %d, want %d", got, st.ExpectCode), Counted: true}
	}
	w.add(metrics.WSExpectFailed, st.Tags, 0, 0, "")
	return nil
}

// recv reads the next frame of c for a step, into the session's read buffer, which grows to the
// largest message the session has read (up to wsReadBufMax) and is reused: an expect or receive
// that only matches and counts allocates nothing per frame.
func (s *wsSession) recv(c *wsConn) (wsFrame, error) {
	f, err := c.recv(s.readBuf)
	if err == nil && cap(f.data) > cap(s.readBuf) && cap(f.data) <= wsReadBufMax {
		s.readBuf = f.data[:0]
	}
	return f, err
}

// wsReadBufMax bounds the read buffer a session keeps between frames.
const wsReadBufMax = 64 << 10
