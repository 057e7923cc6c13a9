package wsstep

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
	"go.uber.org/goleak"
)

// wsLingerServer is a raw WebSocket server on 127.0.0.1 that goes on sending data frames while
// a connection closes, as RFC 6455 allows a peer to until it sends its own close frame. It
// counts every data frame and every byte it writes, so tests compare loadplan's figures with
// what the server really sent.
//
// Client-initiated (burst < 0): it sends pre frames at once, then reads; on the client's close
// frame it sends after more frames, and only then its close frame echoing the client's code.
// Server-initiated (burst >= 0): on the client's first data frame it sends pre+burst frames and
// its close frame (1001) at once, without waiting, then reads until the client's close frame.
type wsLingerServer struct {
	srv               *httptest.Server
	pre, after, burst int
	sent, wrote       atomic.Int64 // data frames; bytes (the handshake response included)
	closes            atomic.Int64 // close frames received from the client
	code              atomic.Int64 // the code of the client's last close frame
	mute              bool         // never answer the client's close frame (set before a dial)
	wg                sync.WaitGroup
}

func newWSLingerServer(t testing.TB, pre, after, burst int) *wsLingerServer {
	s := &wsLingerServer{pre: pre, after: after, burst: burst}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		s.wg.Add(1)
		defer s.wg.Done()
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second)) // a safety bound, never reached
		h := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		s.send(conn, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+
			base64.StdEncoding.EncodeToString(h[:])+"\r\n\r\n"))
		s.serve(conn, brw.Reader)
	}))
	t.Cleanup(s.close)
	return s
}

func (s *wsLingerServer) close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.wg.Wait()
}

func (s *wsLingerServer) url() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") }

// send writes b and counts its bytes.
func (s *wsLingerServer) send(conn net.Conn, b []byte) error {
	n, err := conn.Write(b)
	s.wrote.Add(int64(n))
	return err
}

// frame writes one unmasked frame (payload < 126 bytes); a data frame is counted once written.
func (s *wsLingerServer) frame(conn net.Conn, op byte, payload []byte) error {
	err := s.send(conn, append([]byte{0x80 | op, byte(len(payload))}, payload...))
	if err == nil && op == 1 {
		s.sent.Add(1)
	}
	return err
}

func (s *wsLingerServer) data(conn net.Conn, n int) error {
	for i := 0; i < n; i++ {
		if err := s.frame(conn, 1, []byte(`{"type":"data","i":`+wsItoa(i)+`}`)); err != nil {
			return err
		}
	}
	return nil
}

func (s *wsLingerServer) serve(conn net.Conn, br *bufio.Reader) {
	if s.burst < 0 && s.data(conn, s.pre) != nil {
		return
	}
	for {
		op, payload, err := wsReadClientFrame(br)
		if err != nil {
			return
		}
		switch {
		case op == 8: // the client's close
			s.closes.Add(1)
			if len(payload) >= 2 {
				s.code.Store(int64(binary.BigEndian.Uint16(payload)))
			}
			if s.mute {
				continue // read on until loadplan gives up and closes the TCP connection
			}
			if s.burst < 0 && s.data(conn, s.after) == nil {
				s.frame(conn, 8, payload[:min(len(payload), 2)])
			}
			return
		case op == 1 && s.burst >= 0:
			if s.data(conn, s.pre+s.burst) != nil || s.frame(conn, 8, []byte{0x03, 0xe9}) != nil { // 1001
				return
			}
		}
	}
}

// wsReadClientFrame reads one masked client frame and returns its opcode and unmasked payload.
func wsReadClientFrame(br *bufio.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	var mask [4]byte
	if _, err := io.ReadFull(br, mask[:]); err != nil {
		return 0, nil, err
	}
	if n > 1<<20 {
		return 0, nil, io.ErrUnexpectedEOF
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return 0, nil, err
	}
	for i := range p {
		p[i] ^= mask[i%4]
	}
	return h[0] & 0x0f, p, nil
}

// TestWSCloseCountsLingeringFrames: every data frame the server sent before its close frame is
// one ws_msgs_received, and every byte it wrote is in data_received — also the frames it sent
// after loadplan's close frame (the library's own Close would read and discard them), and the
// burst of a server that closes while loadplan is closing too.
func TestWSCloseCountsLingeringFrames(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	expect1 := func() *plan.WSAction { return wsExpectJSON(t, "first", `{type = "data"}`, 1, 5*time.Second) }
	cases := []struct {
		name              string
		pre, after, burst int
		steps             func() []*plan.WSAction
		code, errs        int  // the close code the server received (0: none checked); ws_errors
		persistent, rules bool // a persistent session closed at VU end; an on_message rule for data
	}{
		{name: "iteration end", pre: 3, after: 200, burst: -1, code: 1000,
			steps: func() []*plan.WSAction { return []*plan.WSAction{expect1()} }},
		{name: "close step", pre: 3, after: 200, burst: -1, code: 4000, steps: func() []*plan.WSAction {
			return []*plan.WSAction{expect1(), {Kind: plan.WSClose, Name: "bye", CloseCode: 4000, ExpectCode: 4000}}
		}},
		{name: "VU end closes a persistent session", pre: 5, after: 200, burst: -1, code: 1000, persistent: true,
			steps: func() []*plan.WSAction { return []*plan.WSAction{expect1()} }},
		{name: "auto-reply rule matches frames after our close", pre: 3, after: 200, burst: -1, code: 1000, rules: true,
			steps: func() []*plan.WSAction { return []*plan.WSAction{wsSendText("hi", "hi")} }},
		{name: "server closes after a burst as the client closes", pre: 1, burst: 200, steps: func() []*plan.WSAction {
			return []*plan.WSAction{wsSendText("go", "go"), expect1()}
		}},
		{name: "server closes after a burst during an expect", pre: 1, burst: 200, errs: 1, steps: func() []*plan.WSAction {
			return []*plan.WSAction{wsSendText("go", "go"), wsExpectJSON(t, "all", `{type = "data"}`, 500, 10*time.Second)}
		}},
	}
	sh := newWSShared()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const runs = 5
			srv := newWSLingerServer(t, tc.pre, tc.after, tc.burst)
			vu, col := wsTestVU(sh)
			st := wsBlock(srv.url(), tc.steps()...)
			conns := runs
			if tc.persistent {
				st.Session, conns = plan.Persistent, 1
			}
			if tc.rules {
				st.OnMessage = []*plan.AutoReply{{Name: "ack", Match: &plan.FrameMatch{JSON: wsTmpl(t, `{type = "data"}`)},
					Reply: &plan.Message{Text: plan.Literal("ack")}}}
			}
			for i := 0; i < runs; i++ {
				wsFaultRun(t, vu, st)
			}
			vu.close()
			srv.close()
			per := tc.pre + max(tc.after, 0)
			if tc.burst >= 0 {
				per = runs * (tc.pre + tc.burst) / conns // a burst answers each run's "go"
			}
			want := int64(conns * per)
			if got := col.sum(metrics.WSMsgsReceived, ""); int64(got) != srv.sent.Load() || srv.sent.Load() != want {
				t.Errorf("ws_msgs_received %v, server sent %d data frames (want %d)", got, srv.sent.Load(), want)
			}
			if got := col.sum(metrics.DataReceived, ""); int64(got) != srv.wrote.Load() {
				t.Errorf("data_received %v, server wrote %d bytes", got, srv.wrote.Load())
			}
			if got := col.sum(metrics.WSErrors, ""); int(got) != runs*tc.errs {
				t.Errorf("ws_errors %v, want %d", got, runs*tc.errs)
			}
			if srv.closes.Load() != int64(conns) || (tc.code != 0 && srv.code.Load() != int64(tc.code)) {
				t.Errorf("server received %d close frames (last code %d), want %d with code %d", srv.closes.Load(), srv.code.Load(), conns, tc.code)
			}
		})
	}
	sh.close()
}

// TestWSCloseStepWithLibraryServer: a close step's frame is a well-formed close the library's
// server side reads as such, and the code it echoes is the step's close code.
func TestWSCloseStepWithLibraryServer(t *testing.T) {
	var codes sync.Map // close code the server read → count
	srv := newWSTestServer(t, func(s *wsTestServer, c *websocket.Conn, r *http.Request) {
		for {
			if _, err := s.read(c); err != nil {
				n, _ := codes.LoadOrStore(int(websocket.CloseStatus(err)), new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
				return
			}
		}
	})
	sh := newWSShared()
	defer sh.close()
	vu, col := wsTestVU(sh)
	for _, code := range []int{1000, 4001, 1005} { // 1005 may not be sent: 1011 goes out instead
		want := code
		if code == 1005 {
			want = 1011
		}
		st := wsBlock(srv.url(), wsSendText("hi", "hi"), &plan.WSAction{Kind: plan.WSClose, Name: "bye", CloseCode: code, ExpectCode: want})
		if err := wsFaultRun(t, vu, st); err != nil {
			t.Errorf("close %d: %v", code, err)
		}
	}
	srv.close()
	for _, code := range []int{1000, 4001, 1011} {
		if n, ok := codes.Load(code); !ok || n.(*atomic.Int64).Load() != 1 {
			t.Errorf("the server read no close frame with code %d", code)
		}
	}
	if srv.framesIn.Load() != 3 || col.sum(metrics.WSMsgsSent, "") != 3 || col.sum(metrics.WSErrors, "") != 0 {
		t.Errorf("server received %d frames, ws_msgs_sent %v, ws_errors %v", srv.framesIn.Load(), col.sum(metrics.WSMsgsSent, ""), col.sum(metrics.WSErrors, ""))
	}
}

func TestWSClosePayload(t *testing.T) {
	for code, want := range map[websocket.StatusCode]uint16{1000: 1000, 1003: 1003, 1004: 1011, 1005: 1011, 1006: 1011,
		1014: 1014, 1015: 1011, 2999: 1011, 3000: 3000, 4999: 4999} {
		if got := binary.BigEndian.Uint16(wsClosePayload(code)); got != want {
			t.Errorf("close %d sends %d, want %d", code, got, want)
		}
	}
}

// TestWSCloseUnansweredIsBounded: a server that never answers loadplan's close frame holds the
// VU no longer than wsCloseWait (the run's safety deadline is far beyond it), and every frame it
// sent before is still counted.
func TestWSCloseUnansweredIsBounded(t *testing.T) {
	defer func(d time.Duration) { wsCloseWait = d }(wsCloseWait)
	wsCloseWait = 50 * time.Millisecond
	srv := newWSLingerServer(t, 3, 0, -1)
	srv.mute = true
	sh := newWSShared()
	defer sh.close()
	vu, col := wsTestVU(sh)
	wsFaultRun(t, vu, wsBlock(srv.url(), wsExpectJSON(t, "first", `{type = "data"}`, 1, 5*time.Second)))
	srv.close()
	if got := col.sum(metrics.WSMsgsReceived, ""); int64(got) != srv.sent.Load() || got != 3 || srv.closes.Load() != 1 {
		t.Errorf("ws_msgs_received %v, server sent %d, read %d close frames", got, srv.sent.Load(), srv.closes.Load())
	}
	if col.count(metrics.WSSessionDuration) != 1 || col.sum(metrics.WSErrors, "") != 0 {
		t.Errorf("samples %v", col.samples)
	}
}
