package wsstep

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// wsEchoHandler writes every message back as it came, counting both ways.
func wsEchoHandler(s *wsTestServer, c *websocket.Conn, _ *http.Request) {
	ctx := context.Background()
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			return
		}
		s.framesIn.Add(1)
		if c.Write(ctx, typ, b) != nil {
			return
		}
		s.framesOut.Add(1)
	}
}

// wsEchoBlock is the round trip the benchmarks and the hand-over tests run: send a text, expect
// it back.
func wsEchoBlock(url string) *plan.WebSocketStep {
	st := wsBlock(url, wsSendText("ping", "hello"),
		&plan.WSAction{Kind: plan.WSExpect, Name: "pong", Match: &plan.FrameMatch{Equals: plan.Literal("hello")}, Count: 1})
	st.Session = plan.Persistent
	return st
}

// wsCounter sums the samples of the metrics the round-trip checks need, without keeping them.
type wsCounter struct{ sent, recv, errs atomic.Int64 }

func (c *wsCounter) emit(s metrics.Sample) {
	switch s.Metric {
	case metrics.WSMsgsSent:
		c.sent.Add(int64(s.Value))
	case metrics.WSMsgsReceived:
		c.recv.Add(int64(s.Value))
	case metrics.WSErrors:
		c.errs.Add(int64(s.Value))
	}
}

// BenchmarkWSRoundTrip runs a persistent session's send → expect of an echo per iteration, as
// the WebSocket bench plan does: the cost of one round trip on the client (the server runs in
// the same process, so ns/op includes it; allocs/op are almost all the client's).
//
//	go test -run '^$' -bench WSRoundTrip -benchmem ./executor/wsstep/
func BenchmarkWSRoundTrip(b *testing.B) {
	srv := newWSTestServer(b, wsEchoHandler)
	st := wsEchoBlock(srv.url())
	var n wsCounter
	vu := &wsVU{shared: newWSShared(), rt: &plan.Runtime{VU: 1}, emit: n.emit}
	if err := vu.run(context.Background(), st); err != nil { // connect outside the timing
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := vu.run(context.Background(), st); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	vu.Close()
	srv.close()
	if n.sent.Load() != srv.framesIn.Load() || n.recv.Load() != srv.framesOut.Load() || n.errs.Load() != 0 {
		b.Fatalf("sent %d, server received %d; received %d, server sent %d; errors %d",
			n.sent.Load(), srv.framesIn.Load(), n.recv.Load(), srv.framesOut.Load(), n.errs.Load())
	}
}
