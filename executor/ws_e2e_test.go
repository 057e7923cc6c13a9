package executor

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/demo"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// wsSink collects every sample the executor pushes.
type wsSink struct {
	mu      sync.Mutex // guards samples: VUs push from their own goroutines
	samples []metrics.Sample
}

func (s *wsSink) Push(batch []metrics.Sample) {
	s.mu.Lock()
	s.samples = append(s.samples, batch...)
	s.mu.Unlock()
}

// sum adds the values of metric m, and counts its samples; with step non-empty only the samples
// of that step.
func (s *wsSink) sum(m metrics.Metric, step string) (total float64, n int) {
	for _, x := range s.samples {
		if x.Metric == m && (step == "" || (x.Tags != nil && x.Tags.Step == step)) {
			total += x.Value
			n++
		}
	}
	return total, n
}

// wsRunPlan loads an example plan against a fresh demo backend, runs it for d (stages scaled)
// and returns the samples and what the demo saw.
func wsRunPlan(t *testing.T, file string, d time.Duration, vars map[string]string) (*wsSink, demo.Counts) {
	t.Helper()
	srv, err := demo.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if vars == nil {
		vars = map[string]string{}
	}
	vars["host"] = srv.URL()
	p, diags := plan.LoadPlan([]string{file}, plan.Options{Vars: vars, Env: map[string]string{}})
	if diags.HasErrors() {
		t.Fatalf("%s: %v", file, diags)
	}
	sink := &wsSink{}
	e, err := New(Config{Plan: p, Sink: sink, Duration: d})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // safety net only
	defer cancel()
	res := e.Run(ctx)
	if res.Err != nil || res.Aborted {
		t.Fatalf("run: %+v", res)
	}
	if err := srv.Close(); err != nil { // every handler has ended: the counts are final
		t.Fatal(err)
	}
	c := srv.Counts()
	sessions, _ := sink.sum(metrics.WSSessions, "")
	sent, _ := sink.sum(metrics.WSMsgsSent, "")
	recv, _ := sink.sum(metrics.WSMsgsReceived, "")
	iters, _ := sink.sum(metrics.Iterations, "")
	t.Logf("%s: %v iterations; loadplan: %v sessions, %v sent, %v received; demo: %d sessions, %d received, %d sent, %d dropped",
		file, iters, sessions, sent, recv, c.WSSessions, c.WSFramesReceived, c.WSFramesSent, c.WSDropped)
	return sink, c
}

// wsAgree checks that loadplan's WebSocket figures equal what the demo backend counted.
func wsAgree(t *testing.T, s *wsSink, c demo.Counts) {
	t.Helper()
	sessions, _ := s.sum(metrics.WSSessions, "")
	sent, _ := s.sum(metrics.WSMsgsSent, "")
	recv, _ := s.sum(metrics.WSMsgsReceived, "")
	if sessions == 0 || uint64(sessions) != c.WSSessions {
		t.Errorf("ws_sessions %v, demo accepted %d", sessions, c.WSSessions)
	}
	if uint64(sent) != c.WSFramesReceived {
		t.Errorf("ws_msgs_sent %v, demo received %d", sent, c.WSFramesReceived)
	}
	if uint64(recv) != c.WSFramesSent {
		t.Errorf("ws_msgs_received %v, demo sent %d", recv, c.WSFramesSent)
	}
}

func TestWSPlanWebsocketAgainstDemo(t *testing.T) {
	s, c := wsRunPlan(t, "../plans/websocket.hcl", 6*time.Second, nil)
	wsAgree(t, s, c)
	if c.Requests["GET /api/oscilloscope/ws"] != c.WSSessions {
		t.Errorf("upgrade requests %d, sessions %d", c.Requests["GET /api/oscilloscope/ws"], c.WSSessions)
	}
	failed, n := s.sum(metrics.WSExpectFailed, "")
	if n == 0 || failed != 0 {
		t.Errorf("ws_expect_failed %v of %d", failed, n)
	}
	if errs, _ := s.sum(metrics.WSErrors, ""); errs != 0 {
		t.Errorf("ws_errors %v", errs)
	}
	// Every completed iteration ran the whole protocol: one "stopped" frame each.
	iters, _ := s.sum(metrics.Iterations, "")
	if _, stopped := s.sum(metrics.WSExpectDuration, "scope.stopped"); iters == 0 || float64(stopped) != iters {
		t.Errorf("iterations %v, stopped expectations met %d", iters, stopped)
	}
}

func TestWSPlanReconnectAgainstDemo(t *testing.T) {
	s, c := wsRunPlan(t, "../plans/reconnect.hcl", 6*time.Second, map[string]string{"drop_after": "5"})
	sessions, _ := s.sum(metrics.WSSessions, "")
	sent, _ := s.sum(metrics.WSMsgsSent, "")
	recv, _ := s.sum(metrics.WSMsgsReceived, "")
	reconnects, _ := s.sum(metrics.WSReconnects, "")
	errs, _ := s.sum(metrics.WSErrors, "")
	t.Logf("ws_reconnects %v, ws_errors %v", reconnects, errs)
	if sessions == 0 || uint64(sessions) != c.WSSessions {
		t.Errorf("ws_sessions %v, demo accepted %d", sessions, c.WSSessions)
	}
	// Every drop loadplan saw (a drop after a VU's last iteration goes unseen) was reported once
	// and followed by one reconnect.
	if reconnects == 0 || reconnects != errs || uint64(reconnects) > c.WSDropped {
		t.Errorf("ws_reconnects %v, ws_errors %v, demo dropped %d of %d sessions", reconnects, errs, c.WSDropped, c.WSSessions)
	}
	// The demo cuts a connection the moment it wrote its K-th frame. When a client frame (a
	// subscribe, or the close at the end of the run) reaches the cut socket, the server's kernel
	// answers with a reset, and a reset may discard what was in flight either way: at most one
	// frame per drop. Everything else must agree exactly.
	if uint64(sent) < c.WSFramesReceived || uint64(sent)-c.WSFramesReceived > c.WSDropped {
		t.Errorf("ws_msgs_sent %v, demo received %d, drops %d", sent, c.WSFramesReceived, c.WSDropped)
	}
	if uint64(recv) > c.WSFramesSent || c.WSFramesSent-uint64(recv) > c.WSDropped {
		t.Errorf("ws_msgs_received %v, demo sent %d, drops %d", recv, c.WSFramesSent, c.WSDropped)
	}
}
