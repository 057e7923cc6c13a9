package wsstep

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// errWSWait is what a read returns when it stopped waiting for the next message: its deadline
// passed or it was kicked (wsWire). The connection is intact and can be read again.
var errWSWait = errors.New("websocket: stopped waiting for a message")

// wsWire is the connection the framing (ours, wsFramer, or the library's for compressed
// sessions) reads from, with read deadlines that are safe to use under it: a wait for the next
// message ends (errWSWait) only where the framing is between messages, never in the middle of a
// frame, so that its state stays valid and the same connection can be read again by whichever
// goroutine reads next (the VU, or the session's background reader while the VU is away).
//
// The library's own reads take a context, and a context that ends closes the connection: that
// is why deadlines are applied here. To know where messages end, wsWire follows the frames the
// server sends (RFC 6455 §5.2): every byte the framing reads passes through Read. Both framings
// call Read only when what they buffered is used up, so when the bytes read so far end on a
// message boundary, the framing is waiting for the first byte of a new frame and an error is
// harmless.
//
// Before the WebSocket starts, the same Read carries the HTTP response head, which it skips in
// the frame count.
type wsWire struct {
	net.Conn

	mu     sync.Mutex // guards until, kicked and set: a kick comes from another goroutine
	until  int64      // wall-clock UnixNano: a wait at a boundary ends past it; 0: no deadline
	kicked bool       // a wait at a boundary ends now
	set    int64      // the read deadline last put on Conn (0: none, 1: in the past)

	// wtimeout bounds each write (wsWire.Write; 0: wsDefaultWithin); wdl is the write deadline
	// last put on Conn, touched only in Write (the library writes one frame at a time).
	wtimeout atomic.Int64
	wdl      int64

	// What the server's byte stream is in: touched only by the goroutine in Read (the library
	// lets one reader at a time in).
	head    bool     // still in the HTTP response head
	crlf    int      // bytes of "\r\n\r\n" matched so far in the head
	hdr     [14]byte // the frame header being collected
	hn      int      // bytes of it collected
	payload int64    // payload bytes of the current frame still to come
	inMsg   bool     // a fragmented data message has begun and not ended
}

func newWSWire(c net.Conn) *wsWire { return &wsWire{Conn: c, head: true} }

// arm sets the deadline of the waits that follow (zero: none) and clears a kick. Only the
// goroutine that reads next calls it.
func (w *wsWire) arm(deadline time.Time) {
	w.mu.Lock()
	w.until, w.kicked = 0, false
	if !deadline.IsZero() {
		w.until = deadline.UnixNano()
	}
	w.mu.Unlock()
}

// kick ends the current or next wait at a message boundary: the background reader hands the
// connection back to the VU, or a graceful stop ends a receive step. Any goroutine may call it.
func (w *wsWire) kick() {
	w.mu.Lock()
	w.kicked = true
	w.set = 1
	_ = w.Conn.SetReadDeadline(time.Unix(0, 1)) // wakes a read that is blocked now
	w.mu.Unlock()
}

// boundary reports whether the bytes read so far end between messages.
func (w *wsWire) boundary() bool {
	return !w.head && w.hn == 0 && w.payload == 0 && !w.inMsg
}

// Read reads from the connection. At a message boundary it applies the armed deadline and the
// kick, returning errWSWait when the wait is over; inside a message it reads on without one.
func (w *wsWire) Read(p []byte) (int, error) {
	for {
		w.mu.Lock()
		now := time.Now().UnixNano()
		want := int64(0)
		if w.boundary() {
			switch {
			case w.kicked:
				w.mu.Unlock()
				return 0, errWSWait
			case w.until != 0:
				if now >= w.until {
					w.mu.Unlock()
					return 0, errWSWait
				}
				want = w.until
			}
		}
		// A deadline already set that is still ahead and no later than wanted is kept: when it
		// passes early, the loop comes back here and sets the one wanted. Successive expects
		// then set the connection's deadline once per timeout rather than once each.
		if w.set != want && (w.set <= now || (want != 0 && w.set > want)) {
			var t time.Time
			if want != 0 {
				t = time.Unix(0, want)
			}
			_ = w.Conn.SetReadDeadline(t)
			w.set = want
		}
		w.mu.Unlock()
		n, err := w.Conn.Read(p)
		timeout := err != nil && errors.Is(err, os.ErrDeadlineExceeded)
		if n > 0 {
			w.follow(p[:n])
			if timeout {
				err = nil
			}
			return n, err
		}
		if !timeout {
			return n, err
		}
		// A deadline passed or a kick came: decided again above, at or inside a message.
	}
}

// writeWithin sets the bound of the writes that follow, the library's own (pongs, close
// replies) included.
func (w *wsWire) writeWithin(d time.Duration) { w.wtimeout.Store(int64(d)) }

// Write writes to the connection within the write bound: the deadline is moved only when less
// than seven eighths of the bound is left, so a write is bounded by between 7/8 and all of it,
// at one deadline update per eighth of the bound rather than one per frame.
func (w *wsWire) Write(p []byte) (int, error) {
	d := w.wtimeout.Load()
	if d <= 0 {
		d = int64(wsDefaultWithin)
	}
	now := time.Now().UnixNano()
	if w.wdl-now < d-d/8 {
		w.wdl = now + d
		_ = w.Conn.SetWriteDeadline(time.Unix(0, w.wdl))
	}
	return w.Conn.Write(p)
}

// follow advances the frame count over b, bytes the server sent, in order.
func (w *wsWire) follow(b []byte) {
	for len(b) > 0 {
		switch {
		case w.head:
			for i, c := range b {
				switch {
				case c == "\r\n\r\n"[w.crlf]:
					w.crlf++
				case c == '\r':
					w.crlf = 1
				default:
					w.crlf = 0
				}
				if w.crlf == 4 {
					w.head = false
					b = b[i+1:]
					break
				}
			}
			if w.head {
				return
			}
		case w.payload > 0:
			k := min(w.payload, int64(len(b)))
			w.payload -= k
			b = b[k:]
		default:
			w.hdr[w.hn] = b[0]
			w.hn++
			b = b[1:]
			if w.hn >= 2 && w.hn == wsHeaderLen(w.hdr[1]) {
				w.frame()
			}
		}
	}
}

// wsHeaderLen is the length of a frame header whose second byte is b1.
func wsHeaderLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4 // a masking key (a server must not send one; the library will refuse the frame)
	}
	return n
}

// frame takes in a complete frame header.
func (w *wsWire) frame() {
	fin, op := w.hdr[0]&0x80 != 0, w.hdr[0]&0x0f
	var n int64
	switch l := w.hdr[1] & 0x7f; l {
	case 126:
		n = int64(w.hdr[2])<<8 | int64(w.hdr[3])
	case 127:
		for _, c := range w.hdr[2:10] {
			n = n<<8 | int64(c)
		}
		n &= 1<<63 - 1
	default:
		n = int64(l)
	}
	if op < 8 { // data or continuation: control frames may come between a message's fragments
		w.inMsg = !fin
	}
	w.hn, w.payload = 0, n
}

// wsStops kicks the connections of the receive steps waiting when a VU's stop channel closes (a
// graceful stop ends them early): one goroutine per stop channel that has steps waiting, rather
// than one per step or session. mu guards m.
var wsStops = struct {
	mu sync.Mutex
	m  map[<-chan struct{}]*wsStopSet
}{m: make(map[<-chan struct{}]*wsStopSet)}

// wsStopSet is the wires waiting on one stop channel; quit ends its goroutine once none waits.
type wsStopSet struct {
	wires map[*wsWire]struct{}
	quit  chan struct{}
}

// watchStop kicks wire when the VU's stop comes, until the returned function is called: a
// callback on the stop context when the VU has one, else wsWatchStop. Once it returns, no kick
// comes any more (a late one would end the next step's wait).
func (w *wsVU) watchStop(wire *wsWire) (unwatch func()) {
	if w.stopCtx == nil {
		return wsWatchStop(w.stop, wire)
	}
	k := &wsStopKick{wire: wire}
	stop := context.AfterFunc(w.stopCtx, k.kick)
	return func() {
		if !stop() { // the kick ran, runs now, or is about to: wait for it, or cancel it
			k.mu.Lock()
			k.off = true
			k.mu.Unlock()
		}
	}
}

// wsStopKick is a kick that context.AfterFunc runs on its own goroutine, cancellable while it waits.
type wsStopKick struct {
	mu   sync.Mutex
	wire *wsWire
	off  bool
}

func (k *wsStopKick) kick() {
	k.mu.Lock()
	if !k.off {
		k.wire.kick()
	}
	k.mu.Unlock()
}

// wsWatchStop kicks w when stop closes, until the returned function is called. A nil stop
// never closes.
func wsWatchStop(stop <-chan struct{}, w *wsWire) (unwatch func()) {
	if stop == nil {
		return func() {}
	}
	wsStops.mu.Lock()
	set := wsStops.m[stop]
	if set == nil {
		set = &wsStopSet{wires: make(map[*wsWire]struct{}), quit: make(chan struct{})}
		wsStops.m[stop] = set
		go set.wait(stop)
	}
	set.wires[w] = struct{}{}
	wsStops.mu.Unlock()
	return func() {
		wsStops.mu.Lock()
		delete(set.wires, w)
		if len(set.wires) == 0 && wsStops.m[stop] == set {
			delete(wsStops.m, stop)
			close(set.quit)
		}
		wsStops.mu.Unlock()
	}
}

func (set *wsStopSet) wait(stop <-chan struct{}) {
	select {
	case <-stop:
	case <-set.quit:
		return
	}
	wsStops.mu.Lock()
	for w := range set.wires {
		w.kick()
	}
	if wsStops.m[stop] == set {
		delete(wsStops.m, stop)
	}
	wsStops.mu.Unlock()
}
