package wsstep

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// TestWSConnectionOptions: the handshake carries the target's and the block's headers, the
// query, the subprotocols, and the compression offer only when the block asks for it — with our
// framing (no compression) and with the library's (permessage-deflate).
func TestWSConnectionOptions(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compression=%v", compress), func(t *testing.T) { wsConnectionOptions(t, compress) })
	}
}

func wsConnectionOptions(t *testing.T, compress bool) {
	var seen atomic.Value // the handshake request's details, as the server saw them
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			Subprotocols:    []string{"v2.stream"},
			CompressionMode: websocket.CompressionNoContextTakeover,
		})
		if err != nil {
			return
		}
		defer c.CloseNow()
		seen.Store(strings.Join([]string{
			r.Header.Get("Authorization"), r.Header.Get("X-Client"), r.URL.Query().Get("token"),
			r.URL.Query().Get("user"), c.Subprotocol(), r.Header.Get("Sec-WebSocket-Extensions"),
		}, "|"))
		for {
			typ, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			c.Write(context.Background(), typ, b) // echo
		}
	}))
	defer srv.Close()

	target := &plan.Target{Name: "api", Headers: []plan.KV{
		{Name: "Authorization", Value: plan.Literal("Bearer target")},
		{Name: "X-Client", Value: plan.Literal("loadplan")},
	}}
	st := wsBlock(srv.URL, // an http:// URL is turned into ws://
		&plan.WSAction{Kind: plan.WSSend, Name: "bin", Repeat: 1, Send: &plan.Message{Binary: []byte{0, 1, 2, 255}}},
		&plan.WSAction{Kind: plan.WSExpect, Name: "binback", Count: 1, Within: 5 * time.Second, Match: &plan.FrameMatch{Binary: []byte{0, 1, 2, 255}}},
		&plan.WSAction{Kind: plan.WSSend, Name: "json", Repeat: 1, Send: &plan.Message{JSON: wsTmpl(t, `{user = "u${vu.id}", n = 1}`)}},
		&plan.WSAction{Kind: plan.WSExpect, Name: "jsonback", Count: 1, Within: 5 * time.Second, Match: &plan.FrameMatch{JSON: wsTmpl(t, `{user = "u7"}`)}},
		&plan.WSAction{Kind: plan.WSSend, Name: "big", Repeat: 1, Send: &plan.Message{Text: plan.Literal(strings.Repeat("compress me ", 200))}},
		&plan.WSAction{Kind: plan.WSExpect, Name: "bigback", Count: 1, Within: 5 * time.Second, Match: &plan.FrameMatch{Equals: plan.Literal(strings.Repeat("compress me ", 200))}},
	)
	st.Target = target
	st.Headers = []plan.KV{{Name: "Authorization", Value: wsTmpl(t, `"Bearer ${vu.id}"`)}} // overrides the target's
	st.Query = []plan.KV{{Name: "token", Value: plan.Literal("a b&c")}, {Name: "user", Value: wsTmpl(t, `"u${vu.id}"`)}}
	st.Subprotocols = []string{"v1.stream", "v2.stream"}
	st.Compression = compress
	sh := newWSShared()
	defer sh.close()
	vu, col := wsTestVU(sh)
	vu.rt.VU = 7
	if err := vu.run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	want := "Bearer 7|loadplan|a b&c|u7|v2.stream|"
	if compress {
		want += "permessage-deflate; client_no_context_takeover; server_no_context_takeover"
	}
	if got, _ := seen.Load().(string); got != want {
		t.Errorf("server saw %q\nwant        %q", got, want)
	}
	if col.sum(metrics.WSExpectFailed, "") != 0 || col.sum(metrics.WSMsgsSent, "") != 3 || col.sum(metrics.WSMsgsReceived, "") != 3 {
		t.Errorf("samples %v", col.samples)
	}
	// The 2400-byte text went out deflated: the whole session's wire bytes are fewer.
	if sent := col.sum(metrics.DataSent, ""); sent <= 0 || (sent >= 2400) == compress || col.sum(metrics.DataReceived, "") <= 0 {
		t.Errorf("data_sent %v, data_received %v", col.sum(metrics.DataSent, ""), col.sum(metrics.DataReceived, ""))
	}
}

func TestWSQueueOverflowIsCounted(t *testing.T) {
	srv := newWSTestServer(t, wsProtocol)
	sh := newWSShared()
	defer sh.close()
	// More frames than the queue holds arrive while the VU sleeps; the oldest are discarded, but
	// every frame is still counted as received.
	st := wsBlock(srv.url(),
		wsSendText("flood", `{"n":6000}`),
		&plan.WSAction{Kind: plan.WSSleep, Name: "sleep", Duration: 200 * time.Millisecond},
		wsExpectJSON(t, "done", `{type = "done"}`, 1, 10*time.Second))
	vu, col := wsTestVU(sh)
	if err := vu.run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	srv.close()
	if int64(col.sum(metrics.WSMsgsReceived, "")) != srv.framesOut.Load() || srv.framesOut.Load() != 6001 {
		t.Errorf("ws_msgs_received %v, server sent %d", col.sum(metrics.WSMsgsReceived, ""), srv.framesOut.Load())
	}
	if col.sum(metrics.WSMsgsUnmatched, "") != 6000 {
		t.Errorf("ws_msgs_unmatched %v, want the 6000 data frames", col.sum(metrics.WSMsgsUnmatched, ""))
	}
}

func TestWSBackoff(t *testing.T) {
	ms := time.Millisecond
	exp := &plan.Reconnect{Backoff: "exponential", Initial: 100 * ms, Max: time.Second}
	con := &plan.Reconnect{Backoff: "constant", Initial: 250 * ms, Max: time.Second}
	def := &plan.Reconnect{}
	cases := []struct {
		p    *plan.Reconnect
		n    int
		want time.Duration
	}{
		{exp, 0, 100 * ms}, {exp, 1, 200 * ms}, {exp, 2, 400 * ms}, {exp, 3, 800 * ms}, {exp, 4, time.Second}, {exp, 60, time.Second},
		{con, 0, 250 * ms}, {con, 5, 250 * ms},
		{def, 0, 100 * ms}, {def, 6, 5 * time.Second},
	}
	for _, c := range cases {
		if got := wsBackoff(c.p, c.n); got != c.want {
			t.Errorf("wsBackoff(%+v, %d) = %s, want %s", *c.p, c.n, got, c.want)
		}
	}
}

func TestWSTLS(t *testing.T) {
	var accepted atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		accepted.Add(1)
		defer c.CloseNow()
		for {
			typ, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			c.Write(context.Background(), typ, b)
		}
	}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		target *plan.Target
		kind   string // "" when the session must work
	}{
		{"ca file", &plan.Target{Name: "ca", CAFile: caFile}, ""},
		{"insecure_skip_verify", &plan.Target{Name: "insecure", InsecureSkipVerify: true}, ""},
		{"unknown authority", &plan.Target{Name: "strict"}, "tls"},
		{"missing ca file", &plan.Target{Name: "nofile", CAFile: filepath.Join(t.TempDir(), "none.pem")}, "tls"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sh := newWSShared()
			defer sh.close()
			st := wsBlock(srv.URL, // https:// becomes wss://
				wsSendText("hi", "hello"),
				&plan.WSAction{Kind: plan.WSExpect, Name: "back", Count: 1, Within: 5 * time.Second, Match: &plan.FrameMatch{Equals: plan.Literal("hello")}})
			st.Target = tc.target
			vu, col := wsTestVU(sh)
			err := vu.run(context.Background(), st)
			if tc.kind == "" && (err != nil || col.sum(metrics.WSExpectFailed, "") != 0 || col.sum(metrics.WSSessions, "") != 1) {
				t.Errorf("run: %v", err)
			}
			if tc.kind != "" && (wsStepKind(err) != tc.kind || col.sum(metrics.WSErrors, tc.kind) != 1) {
				t.Errorf("error %v, want kind %s", err, tc.kind)
			}
		})
	}
	if accepted.Load() != 2 {
		t.Errorf("server accepted %d sessions, want 2", accepted.Load())
	}
}

func TestWSJitter(t *testing.T) {
	floor := func(int64) int64 { return 0 }
	ceil := func(k int64) int64 { return k - 1 }
	exp := &plan.Reconnect{Backoff: "exponential"}
	con := &plan.Reconnect{Backoff: "constant"}
	for _, c := range []struct {
		p      *plan.Reconnect
		d      time.Duration
		lo, hi time.Duration
	}{
		{exp, 800 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond},
		{exp, 5 * time.Second, 2500 * time.Millisecond, 5 * time.Second}, // never past max
		{con, 250 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond},
		{exp, 0, 0, 0},
	} {
		if lo, hi := wsJitter(c.p, c.d, floor), wsJitter(c.p, c.d, ceil); lo != c.lo || hi != c.hi {
			t.Errorf("wsJitter(%s, %s) in [%s, %s], want [%s, %s]", c.p.Backoff, c.d, lo, hi, c.lo, c.hi)
		}
	}
}
