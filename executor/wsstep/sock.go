package wsstep

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math/bits"
	"math/rand/v2"
	"net"
	"sync"

	"github.com/coder/websocket"
)

// wsSock is the framing a connection speaks: ours (wsFramer) for every session, or the
// library's (wsLib) for a session with permessage-deflate, which ours does not implement.
//
// readMessage is called by one goroutine at a time (wsConn hands reading over); write, ping and
// closeNow are safe for concurrent use with it and with each other.
type wsSock interface {
	// readMessage reads one whole data message, into buf's array when it is large enough (else
	// a new array of the message's size), answering pings and the close handshake on the way.
	readMessage(buf []byte) (websocket.MessageType, []byte, error)
	// write writes one message (wsOpClose: a close frame, after which nothing more is written).
	write(typ websocket.MessageType, p []byte) error
	// ping sends a ping and waits for its pong, which a reader must be reading.
	ping(ctx context.Context) error
	// closeNow closes the connection without a handshake.
	closeNow()
}

// wsFramer is our RFC 6455 client framing over a handshaken connection. It holds no buffer of
// its own but a small read array: the read-ahead is borrowed from a pool while frames stream in
// and given back between messages, and each write borrows a buffer for the frame it writes.
type wsFramer struct {
	rwc   io.ReadWriteCloser // the upgraded connection (net/http's 101 body: its buffered bytes first)
	limit int64              // the largest message read; a larger one ends the connection (1009)

	// The read side: the goroutine that reads owns it (one at a time, handed over by wsConn).
	small [wsSmallRead]byte
	big   *[]byte // the borrowed read-ahead, nil when none
	r, w  int     // buf()[r:w] is read and not yet consumed
	hot   bool    // the last read filled the small buffer: the next borrows the read-ahead

	wmu sync.Mutex // serializes frames on the wire (the VU's sends, the reader's pongs and replies)

	mu        sync.Mutex // guards what follows
	closeSent bool       // our close frame is written: nothing more is
	closed    bool       // rwc is closed
	closeRecv error      // the server's close frame, as the terminal error
	readErr   error      // the error that ended reading otherwise
	pingWant  [8]byte    // the payload of the ping waiting for its pong
	pingCh    chan error // the waiting ping's answer; nil when none waits
}

func newWSFramer(rwc io.ReadWriteCloser, limit int64) *wsFramer {
	return &wsFramer{rwc: rwc, limit: limit}
}

// wsWriteBuf is the size of the pooled buffer a write borrows: a frame of up to this much,
// header included, goes out in one write; a larger one in chunks of it.
const wsWriteBuf = 8 << 10

var wsWriteBufs = sync.Pool{New: func() any { b := make([]byte, 0, wsWriteBuf); return &b }}

func (f *wsFramer) write(typ websocket.MessageType, p []byte) error {
	return f.writeFrame(byte(typ), p)
}

// writeClose writes a close frame with code and reason (no payload for 1005, as the library).
func (f *wsFramer) writeClose(code websocket.StatusCode, reason string) error {
	if code == websocket.StatusNoStatusRcvd {
		return f.writeFrame(wsOpCloseB, nil)
	}
	if len(reason) > 123 {
		reason = reason[:123]
	}
	var a [125]byte
	binary.BigEndian.PutUint16(a[:], uint16(code))
	n := copy(a[2:], reason)
	return f.writeFrame(wsOpCloseB, a[:2+n])
}

// writeFrame writes one final frame of opcode op, masked with a fresh key (RFC 6455 §5.3: the
// runtime's per-thread ChaCha8 generator, seeded from the system's entropy).
func (f *wsFramer) writeFrame(op byte, p []byte) error {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	f.mu.Lock()
	done := f.closeSent || f.closed
	f.mu.Unlock()
	if done {
		return net.ErrClosed
	}
	bp := wsWriteBufs.Get().(*[]byte)
	key := rand.Uint32()
	b := wsAppendHeader((*bp)[:0], op, len(p), key)
	var err error
	for {
		k := min(len(p), cap(b)-len(b))
		at := len(b)
		b = append(b, p[:k]...)
		key = wsMask(b[at:], key)
		p = p[k:]
		if _, err = f.rwc.Write(b); err != nil || len(p) == 0 {
			break
		}
		b = b[:0]
	}
	*bp = b[:0]
	wsWriteBufs.Put(bp)
	if err == nil && op == wsOpCloseB {
		f.mu.Lock()
		f.closeSent = true
		recv := f.closeRecv != nil
		f.mu.Unlock()
		if recv { // the handshake is complete
			f.closeNow()
		}
	}
	return err
}

// wsAppendHeader appends a final, masked frame's header to b.
func wsAppendHeader(b []byte, op byte, n int, key uint32) []byte {
	b = append(b, 0x80|op)
	switch {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return binary.LittleEndian.AppendUint32(b, key)
}

// wsMask masks (or unmasks) b with key, whose first byte is its least significant, and returns
// the key turned for the byte that follows b.
func wsMask(b []byte, key uint32) uint32 {
	k8 := uint64(key) | uint64(key)<<32
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k8)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= byte(key)
		key = bits.RotateLeft32(key, -8)
	}
	return key
}

// ping sends a ping with a random payload and waits for the pong that echoes it, which the
// connection's reader reports (pong); the connection's end ends the wait with its error.
func (f *wsFramer) ping(ctx context.Context) error {
	var p [8]byte
	binary.LittleEndian.PutUint64(p[:], rand.Uint64())
	ch := make(chan error, 1)
	f.mu.Lock()
	ended := f.closeRecv
	if ended == nil {
		ended = f.readErr
	}
	f.pingWant, f.pingCh = p, ch
	f.mu.Unlock()
	if ended != nil { // no reader will see a pong any more
		return ended
	}
	defer func() {
		f.mu.Lock()
		if f.pingCh == ch {
			f.pingCh = nil
		}
		f.mu.Unlock()
	}()
	if err := f.writeFrame(wsOpPing, p[:]); err != nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pong answers the waiting ping when p is its payload.
func (f *wsFramer) pong(p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pingCh != nil && bytes.Equal(p, f.pingWant[:]) {
		f.pingCh <- nil
		f.pingCh = nil
	}
}

// pongErr ends the waiting ping, if any, with err.
func (f *wsFramer) pongErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pingCh != nil {
		f.pingCh <- err
		f.pingCh = nil
	}
}

func (f *wsFramer) closeNow() {
	f.mu.Lock()
	was := f.closed
	f.closed = true
	f.mu.Unlock()
	if !was {
		_ = f.rwc.Close()
	}
	f.pongErr(net.ErrClosed)
}

// wsLib is the library's framing, for sessions with permessage-deflate.
type wsLib struct{ c *websocket.Conn }

// wsReadBufs are the buffers the library's messages are read into before being copied out at
// their exact size, so that a queued frame holds no slack.
var wsReadBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (l wsLib) readMessage(buf []byte) (websocket.MessageType, []byte, error) {
	typ, r, err := l.c.Reader(context.Background())
	if err != nil {
		return 0, nil, err
	}
	pb := wsReadBufs.Get().(*bytes.Buffer)
	defer wsReadBufs.Put(pb)
	pb.Reset()
	if _, err := pb.ReadFrom(r); err != nil {
		return 0, nil, err
	}
	var b []byte
	if pb.Len() <= cap(buf) {
		b = append(buf[:0], pb.Bytes()...)
	} else {
		b = append(make([]byte, 0, pb.Len()), pb.Bytes()...)
	}
	if pb.Cap() > 1<<20 { // do not keep a huge message's buffer in the pool
		*pb = bytes.Buffer{}
	}
	return typ, b, nil
}

// write bounds nothing itself: the wire's write deadline bounds the library's writes.
func (l wsLib) write(typ websocket.MessageType, p []byte) error {
	return l.c.Write(context.Background(), typ, p)
}

func (l wsLib) ping(ctx context.Context) error { return l.c.Ping(ctx) }

func (l wsLib) closeNow() { _ = l.c.CloseNow() }
