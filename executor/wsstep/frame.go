package wsstep

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/coder/websocket"
)

// RFC 6455 §5.2 opcodes.
const (
	wsOpCont   = 0x0
	wsOpText   = 0x1
	wsOpBinary = 0x2
	wsOpCloseB = 0x8
	wsOpPing   = 0x9
	wsOpPong   = 0xa
)

// wsSmallRead is the read buffer every connection of ours holds in its own struct: a wait for
// the next message reads into it, so an idle connection holds no other buffer. Small messages
// (an echo, a tick) arrive whole in it, header and payload, in one read.
const wsSmallRead = 64

// wsBigRead is the pooled read-ahead a connection borrows while a stream keeps its small buffer
// full (many frames back to back), and gives back as soon as it has consumed everything it read.
const wsBigRead = 8 << 10

var wsBigReads = sync.Pool{New: func() any { b := make([]byte, wsBigRead); return &b }}

// wsHeader is a frame header as read from the server.
type wsHeader struct {
	fin    bool
	rsv    byte // RSV1-3 bits, as in the first byte
	op     byte
	masked bool
	length int64
}

// wsProtoError is a violation of RFC 6455 by the server: the connection answers it with a close
// frame of 1002 (as the library does) and ends.
type wsProtoError struct{ msg string }

func (e *wsProtoError) Error() string { return "websocket protocol violation: " + e.msg }

// buf is the read buffer in use: the pooled read-ahead while one is borrowed, else the small one.
func (f *wsFramer) buf() []byte {
	if f.big != nil {
		return *f.big
	}
	return f.small[:]
}

// fill reads at least one more byte into the read buffer. It moves what is unread to the
// buffer's start when the buffer is full, and borrows the read-ahead when the last read filled
// the small buffer (more was probably waiting) or when want, the bytes the caller will consume,
// do not fit the small buffer. A read that returns bytes and an error returns the bytes; the
// error comes again on the next read.
func (f *wsFramer) fill(want int) error {
	if f.big == nil && (f.hot || want > wsSmallRead-(f.w-f.r)) {
		big := wsBigReads.Get().(*[]byte)
		f.w = copy(*big, f.small[f.r:f.w])
		f.r, f.big = 0, big
	}
	b := f.buf()
	if f.r == f.w {
		f.r, f.w = 0, 0
	} else if f.w == len(b) {
		f.w = copy(b, b[f.r:f.w])
		f.r = 0
	}
	n, err := f.rwc.Read(b[f.w:])
	f.hot = f.big == nil && f.w+n == len(b)
	f.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// release gives the read-ahead back once nothing in it is unread: between messages a
// connection holds no buffer but its small one.
func (f *wsFramer) release() {
	if f.big != nil && f.r == f.w {
		wsBigReads.Put(f.big)
		f.big, f.r, f.w, f.hot = nil, 0, 0, false
	}
}

// need makes n (<= wsSmallRead) unread bytes available in the read buffer. mid says whether the
// bytes started a frame already: an end of stream there is unexpected.
func (f *wsFramer) need(n int, mid bool) error {
	for f.w-f.r < n {
		if f.r > 0 && len(f.buf())-f.r < n {
			b := f.buf()
			f.w = copy(b, b[f.r:f.w])
			f.r = 0
		}
		if err := f.fill(n); err != nil {
			if err == io.EOF && (mid || f.w > f.r) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// readHeader reads the next frame header. It returns the read's error untouched (errWSWait
// included) when no byte of the header had arrived.
func (f *wsFramer) readHeader() (wsHeader, error) {
	if err := f.need(2, false); err != nil {
		return wsHeader{}, err
	}
	b := f.buf()[f.r:]
	h := wsHeader{fin: b[0]&0x80 != 0, rsv: b[0] & 0x70, op: b[0] & 0x0f, masked: b[1]&0x80 != 0}
	n := wsHeaderLen(b[1])
	if err := f.need(n, true); err != nil {
		return wsHeader{}, err
	}
	b = f.buf()[f.r:]
	switch l := b[1] & 0x7f; l {
	case 126:
		h.length = int64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		u := binary.BigEndian.Uint64(b[2:])
		if u > 1<<63-1 {
			f.r += n
			return h, &wsProtoError{"frame length with its most significant bit set"}
		}
		h.length = int64(u)
	default:
		h.length = int64(l)
	}
	f.r += n
	return h, nil
}

// readFull reads exactly len(dst) payload bytes: first what the buffer holds, then straight
// into dst when the rest is large, else through the buffer (which may read ahead).
func (f *wsFramer) readFull(dst []byte) error {
	k := copy(dst, f.buf()[f.r:f.w])
	f.r += k
	dst = dst[k:]
	for len(dst) > 0 {
		if len(dst) >= wsBigRead/2 {
			n, err := f.rwc.Read(dst)
			dst = dst[n:]
			if n == 0 {
				if err == nil || err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
			continue
		}
		if err := f.fill(len(dst)); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		k := copy(dst, f.buf()[f.r:f.w])
		f.r += k
		dst = dst[k:]
	}
	return nil
}

// readMessage reads one whole data message, answering the control frames on the way (a ping
// with its pong, a close frame with the close handshake, a pong to the pending ping). Its
// payload is read into buf's array when it is large enough for it, else into a new array of the
// message's size. It returns the read's own error (errWSWait) when it stopped waiting between
// messages, and the connection's terminal error once the connection has ended.
func (f *wsFramer) readMessage(buf []byte) (websocket.MessageType, []byte, error) {
	if err := f.readEnded(); err != nil {
		return 0, nil, err
	}
	typ, msg, err := f.readData(buf)
	f.release() // between messages (or stopped at a boundary): nothing unread is left
	if err != nil {
		return 0, nil, f.fail(err)
	}
	return typ, msg, nil
}

func (f *wsFramer) readData(buf []byte) (websocket.MessageType, []byte, error) {
	var typ websocket.MessageType
	var msg []byte
	frag := false
	for {
		h, err := f.readHeader()
		if err != nil {
			return 0, nil, err
		}
		switch {
		case h.rsv != 0:
			return 0, nil, &wsProtoError{fmt.Sprintf("RSV bits %#x set, no extension negotiated", h.rsv>>4)}
		case h.masked:
			return 0, nil, &wsProtoError{"masked frame from the server"}
		case h.op >= 8:
			if err := f.control(h); err != nil {
				return 0, nil, err
			}
			continue
		case h.op == wsOpCont && typ == 0:
			return 0, nil, &wsProtoError{"continuation frame without a message to continue"}
		case (h.op == wsOpText || h.op == wsOpBinary) && typ != 0:
			return 0, nil, &wsProtoError{"new data message before the previous one ended"}
		case h.op != wsOpCont && h.op != wsOpText && h.op != wsOpBinary:
			return 0, nil, &wsProtoError{fmt.Sprintf("unknown opcode %#x", h.op)}
		}
		if typ == 0 {
			typ = websocket.MessageType(h.op)
		}
		total := int64(len(msg)) + h.length
		if total > f.limit {
			reason := fmt.Sprintf("read limited at %d bytes", f.limit+1)
			_ = f.writeClose(websocket.StatusMessageTooBig, reason)
			return 0, nil, fmt.Errorf("%w: %s", websocket.ErrMessageTooBig, reason)
		}
		at := len(msg)
		switch {
		case msg == nil && h.fin && total <= int64(cap(buf)):
			msg = buf[:total]
		case msg == nil && h.fin:
			msg = make([]byte, total)
		default: // a fragmented message: grown as it comes, then copied out at its size
			frag = true
			msg = append(msg, make([]byte, h.length)...)
		}
		if err := f.readFull(msg[at:]); err != nil {
			return 0, nil, err
		}
		if h.fin {
			switch {
			case !frag:
			case len(msg) <= cap(buf):
				msg = append(buf[:0], msg...)
			case cap(msg) > len(msg):
				msg = append(make([]byte, 0, len(msg)), msg...)
			}
			return typ, msg, nil
		}
	}
}

// control handles a control frame whose header h was read.
func (f *wsFramer) control(h wsHeader) error {
	if !h.fin {
		return &wsProtoError{"fragmented control frame"}
	}
	if h.length > 125 {
		return &wsProtoError{fmt.Sprintf("control frame payload of %d bytes", h.length)}
	}
	var a [125]byte
	p := a[:h.length]
	if err := f.readFull(p); err != nil {
		return err
	}
	switch h.op {
	case wsOpPing:
		// An error means the connection is closing or broken: the next read says which.
		_ = f.writeFrame(wsOpPong, p)
		return nil
	case wsOpPong:
		f.pong(p)
		return nil
	case wsOpCloseB:
		return f.closeReceived(p)
	}
	return &wsProtoError{fmt.Sprintf("unknown control opcode %#x", h.op)}
}

// closeReceived answers the server's close frame p: it echoes its code unless our close frame
// went first, closes the connection and returns the terminal error carrying the code (as the
// library's: websocket.CloseStatus reads it).
func (f *wsFramer) closeReceived(p []byte) error {
	ce := websocket.CloseError{Code: websocket.StatusNoStatusRcvd}
	if len(p) == 1 {
		return &wsProtoError{"close payload of one byte"}
	}
	if len(p) >= 2 {
		ce = websocket.CloseError{Code: websocket.StatusCode(binary.BigEndian.Uint16(p)), Reason: string(p[2:])}
		if !wsValidWireCode(ce.Code) {
			return &wsProtoError{fmt.Sprintf("invalid close code %d", ce.Code)}
		}
	}
	err := fmt.Errorf("received close frame: %w", ce)
	f.mu.Lock()
	f.closeRecv = err
	sent := f.closeSent
	f.mu.Unlock()
	if !sent {
		_ = f.writeClose(ce.Code, ce.Reason)
	}
	f.closeNow()
	return err
}

// wsValidWireCode reports whether code may travel in a close frame (RFC 6455 §7.4).
func wsValidWireCode(code websocket.StatusCode) bool {
	switch {
	case code == 1004 || code == 1005 || code == 1006 || code == 1015:
		return false
	case code >= 1000 && code <= 1014, code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// fail turns a read error into the connection's: a protocol violation is answered with a close
// frame of 1002; errWSWait is no failure and leaves the connection as it was.
func (f *wsFramer) fail(err error) error {
	if errors.Is(err, errWSWait) {
		return err
	}
	var pe *wsProtoError
	if errors.As(err, &pe) {
		_ = f.writeClose(websocket.StatusProtocolError, pe.msg)
	}
	f.mu.Lock()
	if f.closeRecv == nil && f.readErr == nil {
		f.readErr = err
	}
	f.mu.Unlock()
	f.pongErr(err)
	return err
}

// readEnded returns the error that ended reading, nil while the connection reads on.
func (f *wsFramer) readEnded() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closeRecv != nil {
		return f.closeRecv
	}
	return f.readErr
}
