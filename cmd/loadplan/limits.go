package main

import (
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/outputs/registry"
	"github.com/loadplan/loadplan/plan"
)

// Resource limits said plainly (issue 9, item 4). Before a run sends anything, apply raises the
// open-file soft limit to the hard limit and estimates what the plan holds open at its peak: a
// socket per VU per destination, WebSocket sessions, the outputs' files and sockets and a margin
// for the runtime, and the memory all of it takes. A plan that cannot fit fails at once (exit 1)
// with a message that names the limit and the fix, instead of a run of "too many open files"
// errors that never reach the target, or an out-of-memory kill. How many VUs run when is the
// executor's compiled schedule (executor/loads.go), the one apply runs and `plan` prints; this
// file only costs each scenario's VUs in descriptors and bytes.

const (
	// runtimeFiles is the margin for what the process holds besides VUs and outputs: stdio, the
	// network poller, the signal pipe, Preflight's dials, the demo backend's listener.
	runtimeFiles = 32
	// vuMemory and sessionMemory are the peak RSS of an idle HTTP VU and of a WebSocket session,
	// measured at 21.3 and 47.3 KB (bench/RESULTS.md, 10,000 of each) and rounded up.
	vuMemory      = 25 << 10
	sessionMemory = 50 << 10
	// baseMemory is the process itself: a small arrival-rate run peaks at 20.9 MB RSS.
	baseMemory = 32 << 20
	// maxCount bounds every count the estimate multiplies, so absurd plans (vus = 1e18) cannot
	// overflow it (a billion VUs is beyond any machine), and it fits a 32-bit int.
	maxCount = 1 << 30
)

// needInput is what, besides the plan, decides a run's peak: apply's overrides (the executor's
// schedule takes them), its outputs and exports, and the demo backend.
type needInput struct {
	scenarios []string            // --scenario; empty runs all
	maxVUs    int                 // --vus; 0 is no cap
	duration  time.Duration       // --duration; 0 runs as planned
	segment   executor.Segment    // --segment; the zero value runs all of it
	outs      []*plan.OutputBlock // the plan's outputs and --out's
	exports   int                 // files written at the end: --summary-export, --junit, --segment-summary
	local     string              // host:port served by this very process (--demo), "" for none
}

// resourceNeed is what one instance holds open at its peak, estimated from the plan.
type resourceNeed struct {
	vus      int // VUs at the open-file peak, every load summed
	dests    int // the most destinations one VU of any scenario connects to, for the message
	conns    int // HTTP connections the VUs keep: one per VU per destination
	ws       int // WebSocket connections open at the peak
	sessions int // persistent WebSocket sessions among ws
	local    int // connections to the in-process demo backend, whose end is a socket of ours too
	outFiles int // outputs' files and sockets
	// memVUs and memWS are the VUs and WebSocket sessions at the memory peak, which may come at
	// another time than the open-file peak when scenarios' costs differ.
	memVUs, memWS int
}

// files returns the open files the run needs at its peak.
func (n resourceNeed) files() int {
	return n.conns + n.ws + n.local + n.outFiles + runtimeFiles
}

// memory returns the bytes the run needs at its peak.
func (n resourceNeed) memory() uint64 {
	return uint64(n.memVUs)*vuMemory + uint64(n.memWS)*sessionMemory + baseMemory
}

// schedule compiles the executor's schedule of p with apply's overrides: the one apply runs.
// executor.New sends nothing; run.New builds the executor again to run it.
func schedule(p *plan.Plan, in needInput) (*executor.Schedule, error) {
	e, err := executor.New(executor.Config{Plan: p, Scenarios: in.scenarios, Duration: in.duration,
		MaxVUs: in.maxVUs, Segment: in.segment})
	if err != nil {
		return nil, err
	}
	return e.Schedule(), nil
}

// estimateNeed returns what the plan holds open at its peak on this instance, on the schedule
// the executor compiles with in's overrides; an error is the executor's (a plan it cannot compile).
func estimateNeed(p *plan.Plan, in needInput) (resourceNeed, error) {
	sched, err := schedule(p, in)
	if err != nil {
		return resourceNeed{}, err
	}
	return needOf(p, sched, in), nil
}

// needOf returns what p holds open at its peak when run on sched. The VUs are the schedule's
// (executor/loads.go: ramps, max_vus, --vus, the segment's share, weights, --duration); here each
// scenario's VUs are costed. The loads' sum can peak only at one of sched.Instants, so the costs
// are summed there; the open-file peak and the memory peak are kept apart, as the scenarios'
// per-VU costs differ and may make them come at different times.
func needOf(p *plan.Plan, sched *executor.Schedule, in needInput) resourceNeed {
	costs := map[string]vuCost{}
	for _, sc := range p.Scenarios {
		costs[sc.Name] = scenarioCost(sc, in.local)
	}
	var best resourceNeed
	var bestMem uint64
	for _, t := range sched.Instants() { // ascending: ties go to the earliest, for a steady message
		var n resourceNeed
		for _, l := range sched.Loads {
			for i, vus := range l.ScenarioVUs(t) {
				vus = min(max(vus, 0), maxCount)
				c := costs[l.Scenarios[i]]
				n.vus += vus
				if vus > 0 {
					n.dests = max(n.dests, c.conns)
				}
				n.conns += vus * c.conns
				n.ws += vus * c.ws
				n.sessions += vus * c.sessions
				n.local += vus * c.local
			}
		}
		if n.files() > best.files() {
			best.vus, best.dests, best.conns, best.ws, best.sessions, best.local = n.vus, n.dests, n.conns, n.ws, n.sessions, n.local
		}
		if m := uint64(n.vus)*vuMemory + uint64(n.ws)*sessionMemory; m > bestMem {
			bestMem, best.memVUs, best.memWS = m, n.vus, n.ws
		}
	}
	for _, o := range in.outs {
		best.outFiles += registry.Default.Files(o) // each kind says how many it holds
	}
	best.outFiles += in.exports
	return best
}

// vuCost is what one VU of a scenario keeps open.
type vuCost struct {
	conns    int // HTTP connections: one per destination (the VU's client keeps each alive)
	ws       int // WebSocket connections: each persistent block's, plus one for per-iteration blocks
	sessions int // persistent WebSocket sessions
	local    int // of conns and ws, those to the in-process demo backend
}

// scenarioCost returns what one VU of sc keeps open. local is the host:port this process serves.
func scenarioCost(sc *plan.Scenario, local string) vuCost {
	var c vuCost
	type dest struct {
		t    *plan.Target
		host string // "" for a per-iteration URL without a target: one key for all of them
	}
	dests := map[dest]bool{}
	perIteration, perIterationLocal := false, false
	sc.Walk(func(st *plan.Step) { // setup's, tasks', repeats' and teardown's steps too
		switch {
		case st.Kind == plan.HTTPStepKind && st.HTTP != nil:
			// The VU keeps a client per target, and each client a connection per address.
			host := destination(st.HTTP.URL, st.HTTP.Target)
			key := dest{st.HTTP.Target, host}
			if !dests[key] {
				dests[key] = true
				c.conns++
				if local != "" && host == local {
					c.local++
				}
			}
		case st.Kind == plan.WebSocketStepKind && st.WebSocket != nil:
			ws := st.WebSocket
			isLocal := local != "" && destination(ws.URL, ws.Target) == local
			if ws.Session == plan.Persistent {
				c.ws++
				c.sessions++
				if isLocal {
					c.local++
				}
				return
			}
			// Per-iteration blocks run one after another: one of them is open at a time.
			perIteration = true
			perIterationLocal = perIterationLocal || isLocal
		}
	})
	if perIteration {
		c.ws++
		if perIterationLocal {
			c.local++
		}
	}
	return c
}

// destination returns the host:port a step dials: its URL's when constant, else its target's
// base URL's, else "". It is used for counting only, never shown (it may be a secret).
func destination(u *plan.Template, t *plan.Target) string {
	if u != nil && u.IsConstant() {
		if s, err := u.String(&plan.Runtime{}); err == nil {
			if hp := hostPort(s); hp != "" {
				return hp
			}
		}
	}
	if t != nil {
		return hostPort(t.BaseURL)
	}
	return ""
}
