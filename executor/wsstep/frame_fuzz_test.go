package wsstep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsDiffMsg is one message of a differential script: its type, size, how many frames the
// writer cuts it into (the library's server only), and whether a ping goes before it.
type wsDiffMsg struct {
	typ   websocket.MessageType
	data  []byte
	frags int
	ping  bool
}

// wsDiffScript is what FuzzWSFraming runs on one connection: the client's messages (written by
// our framing, read by the library's server), then the server's (written by the library, read by
// ours), then a close handshake started by one side with code.
type wsDiffScript struct {
	client, server []wsDiffMsg
	serverCloses   bool
	code           websocket.StatusCode
	reason         string
}

// wsDiffSizes are the payload sizes a script draws from: every header length form and its edges.
var wsDiffSizes = []int{0, 1, 7, 64, 125, 126, 127, 200, 4095, 4096, 8191, 8192, 8193, 65535, 65536, 70000}

var wsDiffCodes = []websocket.StatusCode{1000, 1001, 1003, 1008, 1011, 1013, 3000, 4999}

// wsDiffParse turns fuzz input into a script (at most 6 messages each way).
func wsDiffParse(in []byte) wsDiffScript {
	next := func() byte {
		if len(in) == 0 {
			return 0
		}
		b := in[0]
		in = in[1:]
		return b
	}
	msgs := func(n int) []wsDiffMsg {
		var out []wsDiffMsg
		for i := 0; i < n; i++ {
			b, c := next(), next()
			m := wsDiffMsg{typ: websocket.MessageText, frags: 1 + int(c>>4)%4, ping: c&1 != 0}
			if b&0x80 != 0 {
				m.typ = websocket.MessageBinary
			}
			size := wsDiffSizes[int(b&0x7f)%len(wsDiffSizes)]
			m.data = make([]byte, size)
			for j := range m.data {
				m.data[j] = byte(j*7) ^ c
			}
			out = append(out, m)
		}
		return out
	}
	var s wsDiffScript
	s.client = msgs(int(next()) % 7)
	s.server = msgs(int(next()) % 7)
	b := next()
	s.serverCloses = b&1 != 0
	s.code = wsDiffCodes[int(b>>1)%len(wsDiffCodes)]
	s.reason = strings.Repeat("r", int(next())%124)
	return s
}

// wsDiffResult is what the library's server observed.
type wsDiffResult struct {
	got       []wsDiffMsg // the client's messages as the server read them
	pings     int         // the server's pings our client answered
	closeCode websocket.StatusCode
	closeErr  error // the server's Close (server-initiated close)
}

// FuzzWSFraming holds our framing to coder/websocket's, both ways on one real loopback
// connection: messages our client writes (every header length, text and binary, pings between
// them) are read by the library's server exactly; messages the library's server writes
// (fragmented, pings interleaved between fragments) are read by our client exactly, its pings
// answered; and the close handshake carries the closing side's code to the other and back.
func FuzzWSFraming(f *testing.F) {
	f.Add([]byte{3, 5, 0x04, 0x11, 0x85, 0x20, 0x0d, 0x31, 0x05, 0x21, 0x8e, 0x30, 0x0f, 0x01, 0x8d, 0x10, 0x0e, 0x21, 3, 10})
	f.Add([]byte{1, 2, 0x8c, 0x31, 0x0d, 0x30, 0x8e, 0x01, 0x06, 200})
	f.Add([]byte{0, 0, 4, 0})
	f.Add([]byte{6, 6, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 0x86, 0x7f, 0x87, 0x71, 0x88, 0x61, 0x89, 0x51, 0x8a, 0x41, 0x8b, 0x31, 9, 123})
	var (
		mu      sync.Mutex
		scripts = map[string]wsDiffScript{}
		results = map[string]chan wsDiffResult{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Case")
		mu.Lock()
		s, out := scripts[id], results[id]
		mu.Unlock()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		out <- wsDiffServe(c, s)
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	n := 0
	f.Fuzz(func(t *testing.T, in []byte) {
		s := wsDiffParse(in)
		mu.Lock()
		n++
		id := fmt.Sprint(n)
		out := make(chan wsDiffResult, 1)
		scripts[id], results[id] = s, out
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		rwc, resp, err := wsHandshake(ctx, client, "ws"+srv.URL[len("http"):], http.Header{"X-Case": {id}}, nil)
		if err != nil {
			t.Fatalf("handshake: %v (%v)", err, resp)
		}
		fr := newWSFramer(rwc, 1<<20)
		defer fr.closeNow()
		werr := make(chan error, 1)
		go func() { // our client's messages, pings between them answered through our reader
			for _, m := range s.client {
				if m.ping {
					if err := fr.ping(ctx); err != nil {
						werr <- fmt.Errorf("ping: %w", err)
						return
					}
				}
				if err := fr.write(m.typ, m.data); err != nil {
					werr <- err
					return
				}
			}
			werr <- nil
		}()
		// Our reader runs throughout: it answers the server's pings and delivers our pings' pongs.
		var got []wsDiffMsg
		rerr := make(chan error, 1)
		all := make(chan struct{}) // closed once every server message was read
		go func() {
			if len(s.server) == 0 {
				close(all)
			}
			for {
				typ, b, err := fr.readMessage(nil)
				if err != nil {
					rerr <- err
					return
				}
				got = append(got, wsDiffMsg{typ: typ, data: b})
				if len(got) == len(s.server) {
					close(all)
				}
			}
		}()
		if err := <-werr; err != nil {
			t.Fatalf("client write: %v", err)
		}
		if !s.serverCloses {
			select { // our close goes after the server's messages, or it would cut them
			case <-all:
			case err := <-rerr:
				t.Fatalf("our reader ended early: %v", err)
			}
			if err := fr.writeClose(s.code, s.reason); err != nil {
				t.Fatalf("close: %v", err)
			}
		}
		err = <-rerr
		if code := websocket.CloseStatus(err); code != s.code {
			t.Fatalf("our reader ended with %v (close code %d), want the close code %d", err, code, s.code)
		}
		if len(got) != len(s.server) {
			t.Fatalf("we read %d messages, the server wrote %d", len(got), len(s.server))
		}
		for i, want := range s.server {
			if got[i].typ != want.typ || !bytes.Equal(got[i].data, want.data) {
				t.Fatalf("server message %d: type %v, %d bytes; want %v, %d bytes", i, got[i].typ, len(got[i].data), want.typ, len(want.data))
			}
		}
		var res wsDiffResult
		select {
		case res = <-out:
		case <-ctx.Done():
			t.Fatal("the server did not finish")
		}
		if len(res.got) != len(s.client) {
			t.Fatalf("the server read %d messages, our client wrote %d", len(res.got), len(s.client))
		}
		for i, m := range s.client {
			if res.got[i].typ != m.typ || !bytes.Equal(res.got[i].data, m.data) {
				t.Fatalf("client message %d: the server read type %v, %d bytes; we wrote %v, %d bytes", i, res.got[i].typ, len(res.got[i].data), m.typ, len(m.data))
			}
		}
		// The library's Close returns nil only when the echo carried its code; its reader then
		// ends on its own close, not the client's.
		if s.serverCloses && res.closeErr != nil {
			t.Fatalf("the server's Close(%d): %v", s.code, res.closeErr)
		}
		if !s.serverCloses && res.closeCode != s.code {
			t.Fatalf("the server saw close code %d, want %d", res.closeCode, s.code)
		}
		wantPings := 0
		for _, m := range s.server {
			if m.ping {
				wantPings++
			}
		}
		if res.pings != wantPings {
			t.Fatalf("%d of the server's %d pings answered", res.pings, wantPings)
		}
	})
}

// wsDiffServe is the library's side of a script on c.
func wsDiffServe(c *websocket.Conn, s wsDiffScript) (res wsDiffResult) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for range s.client {
		typ, b, err := c.Read(ctx)
		if err != nil {
			return res
		}
		res.got = append(res.got, wsDiffMsg{typ: typ, data: b})
	}
	// A reader for the pongs from here on, until the close frame ends it.
	rerr := make(chan error, 1)
	go func() {
		_, _, err := c.Read(ctx)
		rerr <- err
	}()
	for _, m := range s.server {
		w, err := c.Writer(ctx, m.typ)
		if err != nil {
			return res
		}
		cut := len(m.data) / m.frags
		for i := 0; i < m.frags; i++ {
			part := m.data[i*cut : (i+1)*cut]
			if i == m.frags-1 {
				part = m.data[i*cut:]
			}
			if _, err := w.Write(part); err != nil {
				return res
			}
			if i == 0 && m.ping { // a ping between a message's fragments
				if err := c.Ping(ctx); err == nil {
					res.pings++
				}
			}
		}
		if err := w.Close(); err != nil {
			return res
		}
	}
	if s.serverCloses {
		res.closeErr = c.Close(s.code, s.reason)
		if errors.Is(res.closeErr, context.Canceled) {
			return res
		}
	}
	res.closeCode = websocket.CloseStatus(<-rerr)
	return res
}
