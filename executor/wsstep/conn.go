package wsstep

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// wsQueueMax bounds the frames a connection keeps for steps that have not read them yet (a
// stream during a sleep step, or between iterations of a persistent session). Beyond it the
// oldest frame is discarded and counted as received and unmatched; the background reader never
// blocks, so auto-replies and control frames are always answered.
const wsQueueMax = 4096

// wsIdleRead is how long a persistent session whose block has no on_message rules may stay
// unread while its VU is outside the block (between iterations, in other steps) before a
// background reader starts. A VU that comes back sooner reads the frames that waited in the
// socket itself: no goroutine, no handoff. A block with rules starts the reader at once, since its
// auto-replies must go out while the VU is away. A variable only so that a test can shorten it.
var wsIdleRead = 200 * time.Millisecond

// wsConn is one WebSocket connection.
//
// Reading: one goroutine at a time reads the connection. While the VU runs the block's steps it
// reads itself (expect, receive, close: recv), so a frame reaches the step that waits for it with
// no handoff between goroutines. While the VU is away — outside the block for longer than
// wsIdleRead, or in a sleep or ping step — a background reader goroutine reads instead, answering
// auto-replies and pings and queueing the other frames for the steps; the VU takes the
// connection back by kicking it (wsWire.kick), which ends the reader at the next message
// boundary. An idle session therefore costs no goroutine of its own while its VU waits in a step.
//
// Ownership: the VU goroutine owns the steps, pops the queue and hands reading over; the
// background reader only pushes. mu guards the queue, the terminal error and the hand-over
// state. wsSock writes are safe for concurrent use (auto-replies and pongs from the reader,
// sends from the VU); what the reader does on its own it counts in atomics, which the VU goroutine
// turns into samples.
type wsConn struct {
	ws   wsSock
	wire *wsWire // what ws reads from: deadlines and kicks at message boundaries
	// ctx is the session's: its end closes ws (unhook deregisters that), and it bounds the
	// writes made with it. No context of the connection's own: one fewer per session.
	ctx    context.Context
	unhook func() bool
	opened time.Time
	bytes  *wsBytes // wire bytes since the last flush; nil when not counted

	mu     sync.Mutex
	q      []wsFrame // q[head:] are queued
	head   int
	rerr   error // the connection's terminal read error; valid once ended is true
	ended  bool
	bg     bool          // a background reader runs (the VU has not taken the connection back)
	bgDone chan struct{} // closed when the background reader returns
	away   bool          // the VU is outside the block: the idle timer may start a reader
	dead   bool          // closed or aborted: no reader starts any more
	idle   *time.Timer   // starts the background reader when the VU stays away
	// idle stays armed across the VU's visits (no Stop and Reset per iteration): firing, it starts
	// the reader only if the VU left at leftAt at least grace ago, else re-arms for the rest.
	idleArmed bool
	leftAt    time.Time
	grace     time.Duration

	closing atomic.Bool // our close frame is sent (or on its way): no auto-replies, every frame is queued

	rules     atomic.Pointer[[]wsRule] // rendered on_message rules; nil when none
	autoRecv  atomic.Int64             // frames consumed by an auto-reply rule
	autoSent  atomic.Int64             // auto-replies written
	overflow  atomic.Int64             // frames discarded because the queue was full
	autoWrErr atomic.Int64             // auto-replies that failed to write
}

// wsRule is an on_message rule rendered for the current captures.
type wsRule struct {
	match *wsMatcher
	typ   websocket.MessageType
	reply []byte
}

// newWSConn wraps an open connection, read through wire; the VU reads it first. parent bounds
// the connection's life: cancelling it closes the connection at once.
func newWSConn(parent context.Context, ws wsSock, wire *wsWire, rules *[]wsRule) *wsConn {
	c := &wsConn{ws: ws, wire: wire, ctx: parent, opened: time.Now()}
	if rules != nil {
		c.rules.Store(rules)
	}
	// No context per read or write (each would cost a registration): this one closes the conn.
	c.unhook = context.AfterFunc(parent, ws.closeNow)
	return c
}

// enter hands reading to the VU: it ends the background reader, which stops at the next message
// boundary having queued every frame it read (an armed idle timer finds the VU in). VU only.
func (c *wsConn) enter() {
	c.mu.Lock()
	c.away = false
	bg, done := c.bg, c.bgDone
	c.mu.Unlock()
	if !bg {
		return
	}
	c.wire.kick()
	<-done
	c.mu.Lock()
	c.bg = false
	c.mu.Unlock()
}

// leave tells the connection that the VU leaves the block with the session open: a background
// reader starts after grace (at once when grace is 0), unless the VU enters again first.
func (c *wsConn) leave(grace time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.away = true
	if grace <= 0 {
		c.startLocked()
		return
	}
	c.leftAt, c.grace = time.Now(), grace
	switch {
	case c.idleArmed:
	case c.idle == nil:
		c.idle, c.idleArmed = time.AfterFunc(grace, c.idleRead), true
	default:
		c.idle.Reset(grace)
		c.idleArmed = true
	}
}

// background starts the background reader for a step during which the VU does not read
// (sleep, ping); enter takes the connection back.
func (c *wsConn) background() {
	c.mu.Lock()
	c.startLocked()
	c.mu.Unlock()
}

func (c *wsConn) idleRead() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idleArmed = false
	if !c.away || c.dead {
		return
	}
	if rest := c.grace - time.Since(c.leftAt); rest > 0 { // the VU came back and left again
		c.idle.Reset(rest)
		c.idleArmed = true
	} else {
		c.startLocked()
	}
}

func (c *wsConn) startLocked() {
	if c.bg || c.ended || c.dead {
		return
	}
	c.wire.arm(time.Time{})
	c.bg, c.bgDone = true, make(chan struct{})
	go c.readLoop(c.bgDone)
}

// readLoop is the background reader: it reads frames until kicked or until the connection ends,
// answering auto-reply rules and queueing the rest for the steps.
func (c *wsConn) readLoop(done chan struct{}) {
	defer close(done)
	for {
		f, err := c.readFrame(nil)
		if err != nil {
			if !errors.Is(err, errWSWait) {
				c.end(err)
			}
			return
		}
		if c.autoReply(&f) {
			continue
		}
		c.push(f)
	}
}

// recv reads the next frame for the VU, which owns reading (enter), answering auto-replies on
// the way. Its data is read into buf's array when it is large enough (nil: a new array of the
// frame's size). It returns errWSWait when the armed deadline passed or a kick came first, and
// the connection's terminal error once it has ended.
func (c *wsConn) recv(buf []byte) (wsFrame, error) {
	for {
		if ended, rerr := c.hasEnded(); ended {
			return wsFrame{}, rerr
		}
		f, err := c.readFrame(buf)
		if err != nil {
			if !errors.Is(err, errWSWait) {
				c.end(err)
			}
			return wsFrame{}, err
		}
		if !c.autoReply(&f) {
			return f, nil
		}
	}
}

// end records the connection's terminal error.
func (c *wsConn) end(err error) {
	c.mu.Lock()
	if !c.ended {
		c.rerr, c.ended = err, true
	}
	c.mu.Unlock()
}

// push queues a frame for the steps.
func (c *wsConn) push(f wsFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.q)-c.head >= wsQueueMax {
		c.q[c.head] = wsFrame{}
		c.head++
		c.overflow.Add(1)
	}
	if c.head > 0 && c.head == len(c.q) {
		c.q, c.head = c.q[:0], 0
	} else if c.head >= wsQueueMax/2 && c.head*2 >= len(c.q) {
		n := copy(c.q, c.q[c.head:])
		clear(c.q[n:])
		c.q, c.head = c.q[:n], 0
	}
	c.q = append(c.q, f)
}

// readFrame reads one whole data message, into buf's array when it has room for it (else into
// a new array of the message's size).
func (c *wsConn) readFrame(buf []byte) (wsFrame, error) {
	typ, b, err := c.ws.readMessage(buf)
	if err != nil {
		return wsFrame{}, err
	}
	return wsFrame{typ: typ, data: b, at: time.Now()}, nil
}

// autoReply answers f when an on_message rule matches it, and reports whether it did.
func (c *wsConn) autoReply(f *wsFrame) bool {
	rules := c.rules.Load()
	if rules == nil || c.closing.Load() {
		return false // closing: a reply cannot be sent after our close frame; the frame is queued
	}
	for _, r := range *rules {
		if ok, _ := r.match.match(f); !ok {
			continue
		}
		c.autoRecv.Add(1)
		// The wire's write deadline bounds it; the session's end closes the connection.
		err := c.ws.write(r.typ, r.reply)
		switch {
		case err != nil && c.closing.Load():
			// we are closing: a reply our close frame went ahead of is not sent, and no failure
		case err != nil:
			c.autoWrErr.Add(1)
		default:
			c.autoSent.Add(1)
		}
		return true
	}
	return false
}

// pop returns the oldest queued frame. When the queue is empty it returns ok false, and ended
// true with the terminal error once the connection has ended.
func (c *wsConn) pop() (f wsFrame, ok, ended bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.head < len(c.q) {
		f = c.q[c.head]
		c.q[c.head] = wsFrame{}
		c.head++
		return f, true, false, nil
	}
	return wsFrame{}, false, c.ended, c.rerr
}

// queued returns how many frames wait in the queue.
func (c *wsConn) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.q) - c.head
}

// hasEnded reports whether the connection has ended, and its terminal error.
func (c *wsConn) hasEnded() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended, c.rerr
}

// drained reports whether the connection has ended and every frame read has been popped: only
// then is the connection of no more use to the steps.
func (c *wsConn) drained() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended && c.head == len(c.q), c.rerr
}

// wsCloseWait bounds each half of a close handshake loadplan starts: writing its close frame,
// then reading on until the server's close frame (the library's own Close waits as long). A
// variable only so that a test can shorten it.
var wsCloseWait = 5 * time.Second

// wsOpClose is the close frame's opcode (RFC 6455 §5.5.1) as a message type. The library's
// Write puts a message type into the frame header as its opcode and, once a close frame is
// written, marks the close as sent exactly as its own Close does (coder/websocket v1.8.15,
// write.go: writeFrame); ours (wsFramer.writeFrame) does the same. The library's Close is not
// used because, while it waits for the server's close frame, it reads and discards data frames
// the server still sends: those were never counted.
const wsOpClose websocket.MessageType = 8

// close closes the connection with a close handshake and returns the close code the server
// answered with (0 when it sent none). It writes the close frame and reads on, counting and
// queueing every data frame until the server's close frame ends the connection, so frames the
// server sent before its close are all received. Each half is bounded by wsCloseWait;
// cancelling the connection's context closes it at once.
func (c *wsConn) close(code websocket.StatusCode) int {
	c.closing.Store(true)
	c.enter()
	c.wire.writeWithin(wsCloseWait)
	// An error means the connection is closing or closed already (the server's close frame was
	// answered, a protocol error, a write timeout): the read below ends on its own.
	_ = c.ws.write(wsOpClose, wsClosePayload(code))
	c.wire.arm(time.Now().Add(wsCloseWait))
	for {
		f, err := c.recv(nil)
		if err != nil {
			break // the server's close frame, a broken connection, or wsCloseWait passed
		}
		c.push(f)
	}
	c.shut()
	_, rerr := c.hasEnded()
	// The terminal error holds the server's close frame: our code echoed, or its own.
	return wsCloseCode(rerr)
}

// wsClosePayload is a close frame's payload for code; a code that may not be sent on the wire
// becomes 1011, as the library's Close does.
func wsClosePayload(code websocket.StatusCode) []byte {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
	default:
		code = websocket.StatusInternalError
	}
	return binary.BigEndian.AppendUint16(nil, uint16(code))
}

// abort closes the connection without a handshake and waits for the background reader.
func (c *wsConn) abort() {
	c.closing.Store(true)
	c.shut()
}

// shut closes the connection at once; no reader starts after it, and a background reader has
// returned when it returns.
func (c *wsConn) shut() {
	c.mu.Lock()
	c.dead = true
	if c.idle != nil {
		c.idle.Stop()
		c.idleArmed = false
	}
	bg, done := c.bg, c.bgDone
	c.mu.Unlock()
	c.unhook()
	c.ws.closeNow()
	if bg {
		<-done
	}
}
