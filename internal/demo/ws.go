package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// wsConn is one accepted WebSocket session. The handler goroutine owns it: it is the only writer
// and owns every field; a single reader goroutine hands incoming data frames over on in.
type wsConn struct {
	s         *Server
	c         *websocket.Conn
	ctx       context.Context // cancelled when the handler returns; closes c
	in        chan []byte     // data frames from the client; closed when the reader ends
	dropAfter int             // cut the connection after this many frames sent; 0 = never
	sent      int             // frames sent in this session
	closed    bool            // the session is over; stop writing
}

// accept upgrades the request, counts the session and starts the reader. It returns nil when the
// upgrade failed (Accept has already answered the client). The caller must call finish.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, rt route) (*wsConn, context.CancelFunc) {
	dropAfter, ok := intParam(r, "drop_after", 0, 0, 1<<30)
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "drop_after must be a non-negative integer"})
		return nil, nil
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // a demo: any Origin may connect
		CompressionMode:    websocket.CompressionNoContextTakeover,
	})
	if err != nil {
		return nil, nil
	}
	s.counts.sessionTotal.Add(1)
	s.counts.sessions[rt].Add(1)
	ctx, cancel := context.WithCancel(context.Background())
	wc := &wsConn{s: s, c: c, ctx: ctx, in: make(chan []byte, 16), dropAfter: dropAfter}
	s.wsWG.Add(1)
	go wc.readLoop()
	return wc, cancel
}

// readLoop reads data frames until the connection ends and hands them to the handler.
func (wc *wsConn) readLoop() {
	defer wc.s.wsWG.Done()
	defer close(wc.in)
	for {
		_, b, err := wc.c.Read(wc.ctx)
		if err != nil {
			return
		}
		wc.s.counts.framesIn.Add(1)
		select {
		case wc.in <- b:
		case <-wc.ctx.Done():
			return
		}
	}
}

// finish ends the session: it closes the connection if still open and waits for the reader.
func (wc *wsConn) finish(cancel context.CancelFunc) {
	if !wc.closed {
		wc.closed = true
		_ = wc.c.CloseNow()
	}
	cancel()
	for range wc.in { // drain until the reader closed in
	}
}

// send writes v as a JSON text frame. It returns false when the session is over: a write error,
// or drop_after reached (the connection is then cut without a close frame, like a crash).
func (wc *wsConn) send(v any) bool {
	if wc.closed {
		return false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(wc.ctx, 10*time.Second)
	err = wc.c.Write(ctx, websocket.MessageText, b)
	cancel()
	if err != nil {
		wc.closed = true
		return false
	}
	wc.s.counts.framesOut.Add(1)
	wc.sent++
	if wc.dropAfter > 0 && wc.sent >= wc.dropAfter {
		wc.s.counts.dropped.Add(1)
		wc.closed = true
		_ = wc.c.CloseNow()
		return false
	}
	return true
}

// close ends the session with a close handshake.
func (wc *wsConn) close(code websocket.StatusCode, reason string) {
	if wc.closed {
		return
	}
	wc.closed = true
	_ = wc.c.Close(code, reason)
}

// errorFrame is what the demo answers to a command it does not understand.
type errorFrame struct {
	Type  string `json:"type"`
	Error string `json:"error"`
}

// scopeFrame is one oscilloscope sample.
type scopeFrame struct {
	Type   string     `json:"type"`
	Seq    int        `json:"seq"`
	T      float64    `json:"t"` // seconds since start
	Values [4]float64 `json:"values"`
}

// oscilloscope serves GET /api/oscilloscope/ws: {"command":"start"} starts data frames at
// `frequency` Hz (default 20, or ?frequency=), {"command":"configure","frequency":N} changes it
// and is acknowledged, {"command":"stop"} stops the stream and reports the frames sent.
func (s *Server) oscilloscope(w http.ResponseWriter, r *http.Request) {
	freq, ok := intParam(r, "frequency", 20, 1, 1000)
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "frequency must be an integer from 1 to 1000"})
		return
	}
	wc, cancel := s.accept(w, r, routeOscilloscope)
	if wc == nil {
		return
	}
	defer wc.finish(cancel)

	var (
		ticker  *time.Ticker
		tick    <-chan time.Time
		start   time.Time
		seq     int
		stopped = func() {
			if ticker != nil {
				ticker.Stop()
				ticker, tick = nil, nil
			}
		}
	)
	defer stopped()
	run := func() {
		stopped()
		ticker = time.NewTicker(time.Second / time.Duration(freq))
		tick = ticker.C
	}
	for {
		select {
		case <-s.ctx.Done():
			wc.close(websocket.StatusGoingAway, "server shutting down")
			return
		case now := <-tick:
			seq++
			t := now.Sub(start).Seconds()
			f := scopeFrame{Type: "data", Seq: seq, T: t}
			for ch := range f.Values {
				f.Values[ch] = sineSample(t, ch)
			}
			if !wc.send(&f) {
				return
			}
		case b, ok := <-wc.in:
			if !ok {
				return
			}
			var cmd struct {
				Command   string   `json:"command"`
				Frequency *float64 `json:"frequency"`
			}
			if err := json.Unmarshal(b, &cmd); err != nil {
				if !wc.send(errorFrame{"error", "malformed JSON: " + err.Error()}) {
					return
				}
				continue
			}
			if cmd.Frequency != nil && (*cmd.Frequency < 1 || *cmd.Frequency > 1000) {
				if !wc.send(errorFrame{"error", "frequency must be from 1 to 1000 Hz"}) {
					return
				}
				continue
			}
			var reply any
			switch cmd.Command {
			case "start":
				if cmd.Frequency != nil {
					freq = int(*cmd.Frequency)
				}
				if ticker == nil {
					start = time.Now()
				}
				run()
			case "configure":
				if cmd.Frequency != nil {
					freq = int(*cmd.Frequency)
				}
				if ticker != nil {
					run()
				}
				reply = map[string]any{"type": "configured", "frequency": freq}
			case "stop":
				stopped()
				reply = map[string]any{"type": "stopped", "frames": seq}
			default:
				reply = errorFrame{"error", "unknown command " + string(mustJSON(cmd.Command)) + "; use start, configure or stop"}
			}
			if reply != nil && !wc.send(reply) {
				return
			}
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
