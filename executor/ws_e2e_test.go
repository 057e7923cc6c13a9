package executor

import (
	"context"
	"fmt"
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

// failedSteps counts the failed expectations of each step.
func (s *wsSink) failedSteps() map[string]int {
	failed := map[string]int{}
	for _, x := range s.samples {
		if x.Metric == metrics.WSExpectFailed && x.Value != 0 && x.Tags != nil {
			failed[x.Tags.Step]++
		}
	}
	return failed
}

// received lists the frames each run of step received, to tell a slow server from a broken
// protocol in a failure message.
func (s *wsSink) received(step string) []float64 {
	var frames []float64
	for _, x := range s.samples {
		if x.Metric == metrics.WSMsgsReceived && x.Tags != nil && x.Tags.Step == step {
			frames = append(frames, x.Value)
		}
	}
	return frames
}

// tickProbe runs a ticker of the given period until the returned func is called, which
// reports how many ticks it lost. A Go ticker drops the ticks its goroutine is not scheduled
// in time to take, just as the demo's stream ticker (same process, same period) drops frames
// when the machine is too loaded to run it: a lost tick says this process stalled for longer
// than period, so timing verdicts finer than that are the machine's, not the code's.
func tickProbe(period time.Duration) (stop func() (lost int)) {
	quit, res := make(chan struct{}), make(chan int)
	go func() {
		tk := time.NewTicker(period)
		defer tk.Stop()
		start, got := time.Now(), 0
		for {
			select {
			case <-tk.C:
				got++
			case <-quit:
				res <- int(time.Since(start)/period) - got
				return
			}
		}
	}()
	return func() int { close(quit); return <-res }
}

// wsRunPlan loads an example plan against a fresh demo backend, runs it for d (stages scaled)
// and returns the samples and what the demo saw.
func wsRunPlan(t *testing.T, file string, d time.Duration, vars map[string]string) (*wsSink, demo.Counts) {
	t.Helper()
	return wsRunTweaked(t, file, d, vars, nil)
}

// wsRunTweaked is wsRunPlan with tweak (when not nil) applied to the loaded plan before it runs.
func wsRunTweaked(t *testing.T, file string, d time.Duration, vars map[string]string, tweak func(*plan.Plan)) (*wsSink, demo.Counts) {
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
	if tweak != nil {
		tweak(p)
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

// wsLoadedScale stretches the expect windows of a plan run on the shared test machine.
const wsLoadedScale = 3

func TestWSPlanWebsocketAgainstDemo(t *testing.T) {
	// The plan's timing verdicts are about the server, and on a loaded 2-core CI machine (load
	// average ~20, -race) the demo server is the one that falls behind: its 50 Hz ticker drops
	// the ticks it cannot serve, so the 3 s "stream" window saw 66-79 frames where the plan
	// expects 120 (expect_rate 40/s) and the demo had indeed sent only those (loadplan's and the
	// demo's frame counts were equal). Asking for 10 Hz (the plan's frequency variable; the
	// stream's rate check becomes 8/s) takes a fifth of the CPU and loses a tick only to a stall
	// of 100 ms, and the expect windows are stretched wsLoadedScale times for stalls of a second.
	// The protocol, the rate check and the exact count equality are still all checked.
	stretch := func(p *plan.Plan) {
		for _, sc := range p.Scenarios {
			for _, st := range sc.Steps {
				if st.WebSocket == nil {
					continue
				}
				for _, ws := range st.WebSocket.Steps {
					if ws.Kind == plan.WSExpect {
						ws.Within *= wsLoadedScale
					}
				}
			}
		}
	}
	const frequency = 10
	probe := tickProbe(time.Second / frequency)
	s, c := wsRunTweaked(t, "../plans/websocket.hcl", 6*time.Second, map[string]string{"frequency": fmt.Sprint(frequency)}, stretch)
	lost := probe()
	wsAgree(t, s, c)
	if c.Requests["GET /api/oscilloscope/ws"] != c.WSSessions {
		t.Errorf("upgrade requests %d, sessions %d", c.Requests["GET /api/oscilloscope/ws"], c.WSSessions)
	}
	// The stream's rate verdict is the demo's pace, which only a machine that kept a ticker of the
	// stream's period on time can vouch for: when the probe lost ticks the demo lost frames too,
	// and a rate failure is the truth about the stream (logged, not an error). Every other
	// expectation is about frame contents and must hold.
	failed, n := s.sum(metrics.WSExpectFailed, "")
	byStep := s.failedSteps()
	if lost > 1 && byStep["scope.stream"] > 0 {
		t.Logf("loaded machine: a %d Hz ticker lost %d ticks; %d stream windows below the rate (frames %v)",
			frequency, lost, byStep["scope.stream"], s.received("scope.stream"))
		failed -= float64(byStep["scope.stream"])
		delete(byStep, "scope.stream")
	}
	if n == 0 || failed != 0 {
		t.Errorf("ws_expect_failed %v of %d: %v (a %d Hz ticker lost %d ticks; stream frames %v)",
			failed, n, byStep, frequency, lost, s.received("scope.stream"))
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
