package wsstep

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// wsTestHead is a 101 response head, as the wire sees it before the frames.
const wsTestHead = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"

// wsAppendFrame appends one unmasked server frame.
func wsAppendFrame(b []byte, fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, b0, byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, b0, 126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, b0, 127), uint64(n))
	}
	return append(b, payload...)
}

// wsTestStream builds msgs data messages as a server sends them: of every length form (7, 16
// and 64-bit), some fragmented, with pings between fragments and between messages. ends holds
// the offsets (from the start of frames) where the stream is between messages (after a message's
// final frame, and after a ping that follows it): the reference the wire's boundary is held to.
func wsTestStream(rng *rand.Rand, msgs int) (frames []byte, ends map[int]bool) {
	ends = map[int]bool{0: true}
	for range msgs {
		var size int
		switch rng.IntN(6) {
		case 0:
			size = 0
		case 1, 2:
			size = 1 + rng.IntN(125)
		case 3, 4:
			size = 126 + rng.IntN(3000)
		default:
			size = 65536 + rng.IntN(70000)
		}
		parts := 1 + rng.IntN(3)
		for p := range parts {
			chunk := size / parts
			if p == parts-1 {
				chunk = size - chunk*(parts-1)
			}
			op := byte(0) // continuation
			if p == 0 {
				op = byte(1 + rng.IntN(2)) // text or binary
			}
			payload := make([]byte, chunk)
			for i := range payload {
				payload[i] = 'a' + byte(i%26)
			}
			frames = wsAppendFrame(frames, p == parts-1, op, payload)
			if p == parts-1 {
				ends[len(frames)] = true // the message has ended: between messages, even if a ping follows
			}
			if rng.IntN(4) == 0 {
				frames = wsAppendFrame(frames, true, 9, []byte("hb")) // a ping: inside or after the message
				if p == parts-1 {
					ends[len(frames)] = true
				}
			}
		}
		ends[len(frames)] = true
	}
	return frames, ends
}

// FuzzWSWireFollow holds the wire's message boundaries to the encoder's: whatever the chunks the
// bytes arrive in, the wire is at a boundary exactly where a message (and any ping after it) has
// ended, and never within the HTTP head or a frame.
func FuzzWSWireFollow(f *testing.F) {
	f.Add(uint64(1), []byte{1})
	f.Add(uint64(2), []byte{7, 200, 3, 255, 1})
	f.Add(uint64(3), []byte{130, 2})
	f.Fuzz(func(t *testing.T, seed uint64, cuts []byte) {
		frames, ends := wsTestStream(rand.New(rand.NewPCG(seed, 11)), 12)
		stream := append([]byte(wsTestHead), frames...)
		w := newWSWire(nil)
		for off, i := 0, 0; off < len(stream); i++ {
			n := 1
			if len(cuts) > 0 {
				n = 1 + int(cuts[i%len(cuts)])*int(cuts[i%len(cuts)])
			}
			n = min(n, len(stream)-off)
			w.follow(stream[off : off+n])
			off += n
			at := off - len(wsTestHead)
			if want := at >= 0 && ends[at]; w.boundary() != want {
				t.Fatalf("after %d bytes of frames: boundary %v, want %v", at, w.boundary(), want)
			}
		}
	})
}

// wsStreamServer is a raw WebSocket server on 127.0.0.1 that writes its 101 head together with
// the first frames in one write, then the rest of a wsTestStream in pieces cut anywhere, then a
// "done" text. sent counts the data messages it wrote.
func wsStreamServer(t *testing.T, msgs int) (url string, sent *atomic.Int64) {
	sent = new(atomic.Int64)
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second)) // a safety bound, never reached
		h := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		rng := rand.New(rand.NewPCG(7, 7))
		frames, _ := wsTestStream(rng, msgs)
		head := []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n")
		first := min(len(frames), 40)
		if _, err := conn.Write(append(head, frames[:first]...)); err != nil {
			return
		}
		for off := first; off < len(frames); {
			n := min(1+rng.IntN(9000), len(frames)-off)
			if _, err := conn.Write(frames[off : off+n]); err != nil {
				return
			}
			off += n
		}
		sent.Store(int64(msgs))
		// The client's frames: pongs; a text once it has read for a while, answered with "done";
		// its close frame, echoed.
		for {
			op, _, err := wsReadClientFrame(brw.Reader)
			switch {
			case err != nil:
				return
			case op == 1:
				conn.Write(wsAppendFrame(nil, true, 1, []byte("done")))
				sent.Add(1)
			case op == 8:
				conn.Write(wsAppendFrame(nil, true, 8, binary.BigEndian.AppendUint16(nil, 1000)))
				return
			}
		}
	}))
	t.Cleanup(func() { srv.Close(); wg.Wait() })
	return "ws" + srv.URL[len("http"):], sent
}

// TestWSHandOverCountsEveryMessage hands reading back and forth between the VU and the
// background reader (sleep steps) and ends receive waits by deadline, on a stream whose kicks
// and deadlines land inside frames of every size: every message the server sent is counted,
// and none breaks the protocol.
func TestWSHandOverCountsEveryMessage(t *testing.T) {
	const msgs = 300
	url, sent := wsStreamServer(t, msgs)
	var steps []*plan.WSAction
	for i := range 40 {
		steps = append(steps,
			&plan.WSAction{Kind: plan.WSSleep, Name: "away" + wsItoa(i), Duration: 0},
			&plan.WSAction{Kind: plan.WSReceive, Name: "some" + wsItoa(i), Duration: time.Millisecond})
	}
	steps = append(steps, wsSendText("go", "go"), &plan.WSAction{Kind: plan.WSExpect, Name: "done", Match: &plan.FrameMatch{Equals: plan.Literal("done")}, Count: 1, Within: 10 * time.Second})
	st := wsBlock(url, steps...)
	st.MaxMessageSize = 1 << 20
	sh := newWSShared()
	defer sh.close()
	vu, col := wsTestVU(sh)
	if err := vu.run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if got := int64(col.sum(metrics.WSMsgsReceived, "")); got != sent.Load() || got != msgs+1 {
		t.Errorf("ws_msgs_received %d, server sent %d", got, sent.Load())
	}
	// Frames the 40 short receives left unread reach the expect, which skips them as unmatched
	// (still received): how many depends only on how fast the server wrote, so it is logged, not
	// held to 0 (it was, until a faster reader ended the receives before a slow server's writes).
	t.Logf("unmatched (read by the expect) %v", col.sum(metrics.WSMsgsUnmatched, ""))
	if col.sum(metrics.WSExpectFailed, "") != 0 {
		t.Errorf("expect failures %v", col.sum(metrics.WSExpectFailed, ""))
	}
	if n := col.sum(metrics.WSErrors, ""); n != 0 {
		t.Errorf("ws_errors %v", n)
	}
}

var _ net.Conn = (*wsWire)(nil)
