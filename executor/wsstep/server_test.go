package wsstep

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// wsTestServer is a WebSocket server on 127.0.0.1 that counts what it accepts, receives and
// sends, so tests compare loadplan's figures with the server's.
type wsTestServer struct {
	srv                 *httptest.Server
	requests, accepted  atomic.Int64
	framesIn, framesOut atomic.Int64
	pongs               atomic.Int64
	lastPong            atomic.Value // string: the last pong frame's text
	handler             func(s *wsTestServer, c *websocket.Conn, r *http.Request)
	wg                  sync.WaitGroup // running handlers, so counts are final after Close
}

// newWSTestServer starts a server whose accepted connections run handler.
func newWSTestServer(t testing.TB, handler func(s *wsTestServer, c *websocket.Conn, r *http.Request)) *wsTestServer {
	s := &wsTestServer{handler: handler}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		s.accepted.Add(1)
		s.wg.Add(1)
		defer s.wg.Done()
		defer c.CloseNow()
		s.handler(s, c, r)
	}))
	t.Cleanup(s.close)
	return s
}

// close stops the server and waits for every handler.
func (s *wsTestServer) close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.wg.Wait()
}

func (s *wsTestServer) url() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") }

// read reads one frame and counts it.
func (s *wsTestServer) read(c *websocket.Conn) ([]byte, error) {
	_, b, err := c.Read(context.Background())
	if err == nil {
		s.framesIn.Add(1)
	}
	return b, err
}

// write writes one text frame and counts it.
func (s *wsTestServer) write(c *websocket.Conn, text string) error {
	err := c.Write(context.Background(), websocket.MessageText, []byte(text))
	if err == nil {
		s.framesOut.Add(1)
	}
	return err
}

// wsProtocol is a small request/response protocol with exactly known frame counts:
// {"n":K} → K {"type":"data","i":I} then {"type":"done"}; {"hb":K} → K heartbeats, then
// {"type":"done"} once K pongs came back; {"echo":X} → {"type":"echo","v":X};
// {"close":C} → close with code C; {"type":"pong"} is counted; anything else is ignored.
func wsProtocol(s *wsTestServer, c *websocket.Conn, _ *http.Request) {
	waitPongs := 0
	for {
		b, err := s.read(c)
		if err != nil {
			return
		}
		var m struct {
			N, HB, Close int
			Echo         any
			Type         string
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch {
		case m.Type == "pong":
			s.pongs.Add(1)
			s.lastPong.Store(string(b))
			if waitPongs--; waitPongs == 0 {
				s.write(c, `{"type":"done"}`)
			}
		case m.HB > 0:
			waitPongs = m.HB
			for i := 0; i < m.HB; i++ {
				s.write(c, `{"type":"heartbeat"}`)
			}
		case m.Close > 0:
			c.Close(websocket.StatusCode(m.Close), "bye")
			return
		case m.Echo != nil:
			e, _ := json.Marshal(m.Echo)
			s.write(c, `{"type":"echo","v":`+string(e)+`}`)
		default:
			for i := 0; i < m.N; i++ {
				s.write(c, `{"type":"data","i":`+wsItoa(i)+`}`)
			}
			s.write(c, `{"type":"done"}`)
		}
	}
}

func wsItoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// wsResetServer completes the WebSocket handshake by hand, waits for the client's first frame,
// then resets the TCP connection.
func wsResetServer(t testing.TB) (*httptest.Server, *atomic.Int64) {
	var accepted atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		h := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n")
		brw.Flush()
		accepted.Add(1)
		brw.ReadByte()                   // the client's first frame: its handshake is surely done
		conn.(*net.TCPConn).SetLinger(0) // close sends RST
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv, &accepted
}

// wsCollector gathers the samples a wsVU emits.
type wsCollector struct{ samples []metrics.Sample }

func (c *wsCollector) emit(s metrics.Sample) { c.samples = append(c.samples, s) }

// sum adds the values of metric m; with label non-empty, only samples with that label.
func (c *wsCollector) sum(m metrics.Metric, label string) float64 {
	var n float64
	for _, s := range c.samples {
		if s.Metric == m && (label == "" || s.Label == label) {
			n += s.Value
		}
	}
	return n
}

// count counts the samples of metric m.
func (c *wsCollector) count(m metrics.Metric) int {
	n := 0
	for _, s := range c.samples {
		if s.Metric == m {
			n++
		}
	}
	return n
}

// wsTestVU returns a wsVU emitting into a new wsCollector.
func wsTestVU(sh *wsShared) (*wsVU, *wsCollector) {
	c := &wsCollector{}
	return &wsVU{shared: sh, rt: &plan.Runtime{VU: 1}, emit: c.emit}, c
}

// wsTmpl compiles an HCL expression into a template, as plan.Load would.
func wsTmpl(t testing.TB, src string) *plan.Template {
	t.Helper()
	expr, diags := hclsyntax.ParseExpression([]byte(src), "test.hcl", hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tp, diags := plan.CompileTemplate(expr, []byte(src), &hcl.EvalContext{}, nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return tp
}

// wsBlock builds a websocket block on url with steps; every step gets its own tags.
func wsBlock(url string, steps ...*plan.WSAction) *plan.WebSocketStep {
	st := &plan.WebSocketStep{Name: "ws", URL: plan.Literal(url), Session: plan.PerIteration, Steps: steps,
		Tags: &metrics.Tags{Scenario: "s", Step: "ws", Method: "WS", Group: "ws"}}
	for _, s := range steps {
		s.Tags = &metrics.Tags{Scenario: "s", Step: "ws." + s.Name, Method: "WS", Group: "ws"}
	}
	return st
}

func wsSendText(name, text string) *plan.WSAction {
	return &plan.WSAction{Kind: plan.WSSend, Name: name, Send: &plan.Message{Text: plan.Literal(text)}, Repeat: 1}
}

func wsExpectJSON(t testing.TB, name, obj string, count int, within time.Duration) *plan.WSAction {
	return &plan.WSAction{Kind: plan.WSExpect, Name: name, Match: &plan.FrameMatch{JSON: wsTmpl(t, obj)}, Count: count, Within: within}
}
