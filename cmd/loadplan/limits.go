package main

import (
	"math"
	"slices"
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
// errors that never reach the target, or an out-of-memory kill.

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

// needInput is what, besides the plan, decides a run's peak: apply's overrides and outputs.
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
	vus      int // peak VUs, every load summed
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

// estimateNeed returns what the plan holds open at its peak on this instance. VUs are sized as
// the executor sizes them (executor/group.go, arrival.go): the ramp of the users model, max_vus
// for arrival_rate (it allocates that many when the target is slow), vus for the iterations
// models; --vus caps each load, --segment takes this instance's share, weights split a shared
// load, --duration scales the stages. Loads run at once from the start, so the sum is taken over
// time: it can peak only at a stage boundary of a users load or where another load ends, and is
// evaluated there. The open-file peak and the memory peak are kept apart (their per-VU costs
// differ by scenario).
func estimateNeed(p *plan.Plan, in needInput) resourceNeed {
	seg := in.segment
	if seg.Total < 1 || seg.Index < 1 || seg.Index > seg.Total {
		seg = executor.Segment{Index: 1, Total: 1}
	}
	runs := loadRuns(p, in)
	costs := map[*plan.Scenario]vuCost{}
	for _, r := range runs {
		for _, sc := range r.scs {
			costs[sc] = scenarioCost(sc, in.local)
		}
	}
	points := []time.Duration{0}
	for _, r := range runs {
		points = append(points, r.end)
		if r.l.Model == plan.Users {
			var at time.Duration
			for _, st := range r.l.Stages {
				at += r.stage(st)
				points = append(points, at)
			}
		}
	}
	slices.Sort(points) // ties go to the earliest peak, for a message that does not vary
	var best resourceNeed
	var bestMem uint64
	for _, t := range points {
		var n resourceNeed
		for _, r := range runs {
			for i, vus := range r.vusAt(t, in.maxVUs, seg) {
				c := costs[r.scs[i]]
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

// loadRun is one load as the executor runs it: the scenarios that share it and its timing.
type loadRun struct {
	l       *plan.Load
	scs     []*plan.Scenario
	weights []int
	scale   float64       // --duration's factor on stage lengths, 1 without
	end     time.Duration // when the load stops starting iterations
}

// stage returns the length of a stage of r as run.
func (r loadRun) stage(s plan.Stage) time.Duration {
	return time.Duration(float64(s.Duration) * r.scale)
}

// loadRuns groups the running scenarios by load as executor/compile.go does and applies
// --duration as executor/group.go's scale does: stage-based loads shrink by one factor so that the
// longest fits, iteration loads have their max_duration capped.
func loadRuns(p *plan.Plan, in needInput) []loadRun {
	want := map[string]bool{}
	for _, s := range in.scenarios {
		want[s] = true
	}
	var runs []loadRun
	shared := loadRun{l: p.Load, scale: 1}
	for _, sc := range p.Scenarios {
		switch {
		case len(want) > 0 && !want[sc.Name]:
		case sc.Load == nil:
			shared.scs = append(shared.scs, sc)
			shared.weights = append(shared.weights, min(max(sc.Weight, 1), 1<<20))
		default:
			runs = append(runs, loadRun{l: sc.Load, scs: []*plan.Scenario{sc}, weights: []int{1}, scale: 1})
		}
	}
	if len(shared.scs) > 0 && p.Load != nil {
		runs = append(runs, shared)
	}
	var longest time.Duration
	for _, r := range runs {
		if r.l.Model == plan.Users || r.l.Model == plan.ArrivalRate {
			longest = max(longest, r.l.Duration())
		}
	}
	for i := range runs {
		r := &runs[i]
		if r.l.Model == plan.Users || r.l.Model == plan.ArrivalRate {
			if in.duration > 0 && longest > in.duration {
				r.scale = float64(in.duration) / float64(longest)
			}
			for _, st := range r.l.Stages {
				r.end += r.stage(st)
			}
			continue
		}
		r.end = r.l.MaxDuration
		if r.end <= 0 {
			r.end = 10 * time.Minute
		}
		if in.duration > 0 {
			r.end = min(r.end, in.duration)
		}
	}
	return runs
}

// vusAt returns the VUs of each of r's scenarios at t: the users model's ramp, the VUs of the
// other models while they run, none after the end.
func (r loadRun) vusAt(t time.Duration, maxVUs int, seg executor.Segment) []int {
	if t > r.end {
		return nil
	}
	capped := func(n int) int {
		if maxVUs > 0 && n > maxVUs {
			return maxVUs
		}
		return n
	}
	share := func(v int) int { return segmentShare(v, seg.Index, seg.Total) }
	l := r.l
	var per []int
	switch l.Model {
	case plan.Users:
		per = splitWeights(capped(share(clampCount(math.Floor(r.level(t)+1e-9)))), r.weights)
	case plan.ArrivalRate:
		per = splitWeights(max(capped(share(max(l.MaxVUs, l.PreAllocatedVUs))), 1), r.weights)
		for i := range per {
			per[i] = max(per[i], 1) // every scenario's pool holds at least one VU
		}
	case plan.PerVUIterations, plan.SharedIterations:
		per = splitWeights(capped(share(l.VUs)), r.weights)
		if l.Model == plan.SharedIterations {
			for i, it := range splitWeights(share(l.Iterations), r.weights) {
				if it > 0 && per[i] == 0 {
					per[i] = 1 // a share of iterations needs someone to run it
				}
			}
		}
	}
	return per
}

// level returns the users model's ramp at t, its stages scaled as run.
func (r loadRun) level(t time.Duration) float64 {
	from := float64(r.l.StartVUs)
	if t <= 0 {
		return from
	}
	var at time.Duration
	for _, s := range r.l.Stages {
		d := r.stage(s)
		if t < at+d {
			return from + (s.Target-from)*float64(t-at)/float64(d)
		}
		at += d
		from = s.Target
	}
	return from
}

// clampCount turns a planned count into an int in [0, maxCount].
func clampCount(v float64) int {
	if !(v > 0) { // also NaN
		return 0
	}
	return int(math.Min(v, maxCount))
}

// segmentShare mirrors executor/schedule.go: instance i's (1-based) share of v among n.
func segmentShare(v, i, n int) int {
	v, i, n = min(max(v, 0), maxCount), min(i, maxCount), min(n, maxCount)
	if n <= 1 {
		return v
	}
	return v*i/n - v*(i-1)/n
}

// splitWeights mirrors executor/schedule.go: total divided among weights by the largest
// remainder, ties to the earlier index.
func splitWeights(total int, weights []int) []int {
	out := make([]int, len(weights))
	sum := 0
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 || total <= 0 {
		return out
	}
	total = min(total, maxCount)
	rest := total
	rems := make([]int, len(weights))
	for i, w := range weights {
		out[i] = total * w / sum
		rems[i] = total * w % sum
		rest -= out[i]
	}
	for ; rest > 0; rest-- {
		best := -1
		for i := range rems {
			if rems[i] >= 0 && (best < 0 || rems[i] > rems[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out[best]++
		rems[best] = -1
	}
	return out
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
	for _, st := range sc.Steps {
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
				continue
			}
			// Per-iteration blocks run one after another: one of them is open at a time.
			perIteration = true
			perIterationLocal = perIterationLocal || isLocal
		}
	}
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
