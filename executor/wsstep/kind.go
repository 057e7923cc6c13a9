package wsstep

import (
	"context"
	"errors"
	"fmt"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/plan"
)

// Kind is the websocket step kind: a block of message steps (send, expect, receive, ...) on
// one logical session, per iteration or persistent for the VU.
var Kind = step.Kind{Compile: compile, NewState: newState}

// block is a compiled websocket block: it runs from its plan.WebSocketStep, whose templates the
// plan already compiled.
type block struct {
	ps *plan.WebSocketStep
	// shared holds the handshake clients of every VU that runs the block first: one transport
	// per target for the run rather than one per VU (about 1 KB a session).
	shared *wsShared
	// trace is the block's tracing: its handshakes' trace headers; nil when off.
	trace *step.TraceConf
}

func compile(s *plan.Step, env *step.Env) (step.Compiled, error) {
	ps := s.WebSocket
	if ps == nil {
		return step.Compiled{}, fmt.Errorf("websocket step without its block")
	}
	var hdrs []plan.KV
	if ps.Target != nil {
		hdrs = append(hdrs, ps.Target.Headers...)
	}
	b := &block{ps: ps, shared: newWSShared(),
		trace: step.CompileTrace(plan.EffectiveTracing(env.Tracing, ps.Target), env.Run, env.Scenario, ps.Name, append(hdrs, ps.Headers...))}
	env.Targets.Index(ps.Target) // registers the target: its TLS files, its reachability
	// Run-wide, whatever the block: a VU's blocks share the wsShared of the first it runs.
	if tc := env.Targets.Target(0); tc != nil {
		b.shared.proxyEnv = tc.ProxyEnv // the run's, for blocks with their own URL
	}
	b.shared.debug = env.Debug
	if ps.URL != nil && ps.URL.IsConstant() {
		env.Targets.AddHost(b.shared.preflightURL(ps.Target, ps.URL.Display()))
	} else if ps.Target != nil {
		env.Targets.AddHost(b.shared.preflightURL(ps.Target, ps.Target.BaseURL))
	}
	return step.Compiled{Step: b, Tags: ps.Tags}, nil
}

// vuState is a VU's WebSocket state. Its wsVU lives for one activation: End closes its
// sessions (persistent ones included) and handshake clients, as a user leaving would.
type vuState struct {
	vu      step.VU
	targets []*step.Target // the run's targets, shared by every VU: indexes for the backoff
	w       *wsVU          // nil until the activation's first websocket block
}

func newState(vu step.VU, targets []*step.Target) step.State {
	return &vuState{vu: vu, targets: targets}
}

// Begin does nothing: connections are made by the blocks that use them.
func (s *vuState) Begin(context.Context) {}

// End closes the VU's persistent sessions and releases its handshake clients.
func (s *vuState) End() {
	if s.w != nil {
		s.w.Close()
		s.w = nil
	}
}

// connected is wsVU.connected: the outcome of one handshake to target t (nil: a block with its
// own URL).
func (s *vuState) connected(t *plan.Target, reached bool, cause string) {
	i := 0 // a handshake is rare next to frames: a scan of the few targets, no per-VU map
	for j, x := range s.targets {
		if t != nil && x.Plan == t {
			i = j
		}
	}
	s.vu.ConnResult(i, reached, cause)
}

// stopContexter is a step.VU that also gives the context behind Stopping (the executor's VUs
// do): a kick registered on it costs no goroutine.
type stopContexter interface {
	StopContext() context.Context
}

// Run runs the block for the VU's current iteration. A failed block ends the iteration with a
// short, fixed error label ("STEP: KIND"); the details are in the block's own samples.
func (b *block) Run(ctx context.Context, vu step.VU, state step.State) error {
	s := state.(*vuState)
	if s.w == nil {
		s.w = &wsVU{shared: b.shared, rt: vu.Runtime(), emit: vu.Emit, stop: vu.Stopping(), connected: s.connected}
		if sc, ok := vu.(stopContexter); ok {
			s.w.stopCtx = sc.StopContext()
		}
	}
	s.w.trace, s.w.traceConf = vu.Trace(), b.trace // the block's handshakes carry its trace headers
	err := s.w.run(ctx, b.ps)
	if err == nil || ctx.Err() != nil {
		return err
	}
	var se *wsStepError
	if errors.As(err, &se) {
		return &step.Error{Label: se.label(), Reported: se.Counted}
	}
	return err
}
