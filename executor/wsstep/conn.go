package wsstep

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// wsQueueMax bounds the frames a connection keeps for steps that have not read them yet (a
// stream during a sleep step, or between iterations of a persistent session). Beyond it the
// oldest frame is discarded and counted as received and unmatched; the reader never blocks, so
// auto-replies and control frames are always answered.
const wsQueueMax = 4096

// wsConn is one WebSocket connection and its reader goroutine.
//
// Ownership: the VU goroutine owns the connection's steps and is the only one to pop frames; the
// reader goroutine is the only one to push. mu guards the queue and the reader's terminal error.
// The reader also writes auto-replies (websocket.Conn writes are safe for concurrent use) and
// counts what it did in atomics, which the VU goroutine turns into samples.
type wsConn struct {
	ws     *websocket.Conn
	ctx    context.Context // cancelled by cancel: aborts the reader and closes ws
	cancel context.CancelFunc
	opened time.Time
	bytes  *wsBytes // wire bytes since the last flush; nil when not counted

	mu     sync.Mutex
	q      []wsFrame // q[head:] are queued
	head   int
	rerr   error // the reader's terminal error; valid once ended is true
	ended  bool
	notify chan struct{} // capacity 1; signalled on every push and when the reader ends
	done   chan struct{} // closed when the reader goroutine has returned

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

// startWSConn wraps an open connection and starts its reader. parent bounds the connection's
// life: cancelling it closes the connection at once.
func startWSConn(parent context.Context, ws *websocket.Conn, rules *[]wsRule) *wsConn {
	ctx, cancel := context.WithCancel(parent)
	c := &wsConn{ws: ws, ctx: ctx, cancel: cancel, opened: time.Now(),
		notify: make(chan struct{}, 1), done: make(chan struct{})}
	if rules != nil {
		c.rules.Store(rules)
	}
	go c.readLoop()
	return c
}

// readLoop reads frames until the connection ends, answering auto-reply rules and queueing the
// rest for the steps.
func (c *wsConn) readLoop() {
	defer close(c.done)
	for {
		typ, b, err := c.read()
		if err != nil {
			c.mu.Lock()
			c.rerr, c.ended = err, true
			c.mu.Unlock()
			c.signal()
			return
		}
		f := wsFrame{typ: typ, data: b, at: time.Now()}
		if c.autoReply(&f) {
			continue
		}
		c.mu.Lock()
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
		c.mu.Unlock()
		c.signal()
	}
}

// wsReadBufs are the buffers frames are read into before being copied out at their exact size,
// so that a queued frame holds no slack and an idle connection holds no buffer.
var wsReadBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// read reads one whole data frame.
func (c *wsConn) read() (websocket.MessageType, []byte, error) {
	typ, r, err := c.ws.Reader(c.ctx)
	if err != nil {
		return 0, nil, err
	}
	buf := wsReadBufs.Get().(*bytes.Buffer)
	defer wsReadBufs.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(r); err != nil {
		return 0, nil, err
	}
	b := append(make([]byte, 0, buf.Len()), buf.Bytes()...)
	if buf.Cap() > 1<<20 { // do not keep a huge frame's buffer in the pool
		*buf = bytes.Buffer{}
	}
	return typ, b, nil
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
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		err := c.ws.Write(ctx, r.typ, r.reply)
		cancel()
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

func (c *wsConn) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// pop returns the oldest queued frame. When the queue is empty it returns ok false, and ended
// true with the reader's terminal error once the connection has ended.
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

// hasEnded reports whether the reader has ended, and its error.
func (c *wsConn) hasEnded() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended, c.rerr
}

// drained reports whether the reader has ended and every frame it read has been popped: only
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
// write.go: writeFrame). Its Close is not used because, while it waits for the server's close
// frame, it reads and discards data frames the server still sends: those were never counted.
const wsOpClose websocket.MessageType = 8

// close closes the connection with a close handshake and returns the close code the server
// answered with (0 when it sent none). It writes the close frame and lets the reader go on
// reading, counting and queueing every data frame until the server's close frame ends it, so
// frames the server sent before its close are all received. Each half is bounded by
// wsCloseWait; cancelling the connection's context closes it at once.
func (c *wsConn) close(code websocket.StatusCode) int {
	c.closing.Store(true)
	wctx, cancel := context.WithTimeout(c.ctx, wsCloseWait)
	// An error means the connection is closing or closed already (the server's close frame was
	// answered, a protocol error, a write timeout): the reader ends on its own.
	_ = c.ws.Write(wctx, wsOpClose, wsClosePayload(code))
	cancel()
	t := time.NewTimer(wsCloseWait)
	select {
	case <-c.done:
	case <-t.C:
	case <-c.ctx.Done():
	}
	t.Stop()
	c.cancel()
	_ = c.ws.CloseNow()
	<-c.done
	// The reader's terminal error holds the server's close frame: our code echoed, or its own.
	return wsCloseCode(c.rerr)
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

// abort closes the connection without a handshake and waits for the reader.
func (c *wsConn) abort() {
	c.closing.Store(true)
	c.cancel()
	_ = c.ws.CloseNow()
	<-c.done
}
