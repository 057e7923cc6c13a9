package main

import (
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/loadplan/loadplan/executor"
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
	scenarios []string         // --scenario; empty runs all
	maxVUs    int              // --vus; 0 is no cap
	segment   executor.Segment // --segment; the zero value runs all of it
	outs      []*plan.Output   // the plan's outputs and --out's
	exports   int              // files written at the end: --summary-export, --junit, --segment-summary
	local     string           // host:port served by this very process (--demo), "" for none
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
}

// files returns the open files the run needs at its peak.
func (n resourceNeed) files() int {
	return n.conns + n.ws + n.local + n.outFiles + runtimeFiles
}

// memory returns the bytes the run needs at its peak.
func (n resourceNeed) memory() uint64 {
	return uint64(n.vus)*vuMemory + uint64(n.ws)*sessionMemory + baseMemory
}

// estimateNeed returns what the plan holds open at its peak on this instance. VUs are sized as
// the executor sizes them (executor/group.go, arrival.go): the ramp's peak for the users model,
// max_vus for arrival_rate (it allocates that many when the target is slow), vus for the
// iterations models; --vus caps each load, --segment takes this instance's share, weights split a
// shared load. Loads are summed as if they all peaked at once: an upper bound, as a limit check
// wants. --duration scales stage lengths only, so it does not change the peak.
func estimateNeed(p *plan.Plan, in needInput) resourceNeed {
	var n resourceNeed
	for sc, vus := range scenarioPeaks(p, in) {
		c := scenarioCost(sc, in.local)
		n.vus += vus
		n.dests = max(n.dests, c.conns)
		n.conns += vus * c.conns
		n.ws += vus * c.ws
		n.sessions += vus * c.sessions
		n.local += vus * c.local
	}
	for _, o := range in.outs {
		switch o.Kind {
		case "csv":
			n.outFiles++
			if o.Aggregated {
				n.outFiles += 3 // _stats.csv, _stats_history.csv, _failures.csv
			}
		case "prometheus":
			n.outFiles += 1 + 4 // the listener and a few scrapes or pushes at once
		case "influxdb":
			n.outFiles += 2 // the write client's connections
		default:
			n.outFiles++
		}
	}
	n.outFiles += in.exports
	return n
}

// scenarioPeaks returns the most VUs the executor allocates for each scenario that runs.
func scenarioPeaks(p *plan.Plan, in needInput) map[*plan.Scenario]int {
	want := map[string]bool{}
	for _, s := range in.scenarios {
		want[s] = true
	}
	seg := in.segment
	if seg.Total < 1 || seg.Index < 1 || seg.Index > seg.Total {
		seg = executor.Segment{Index: 1, Total: 1}
	}
	out := map[*plan.Scenario]int{}
	var shared []*plan.Scenario
	for _, sc := range p.Scenarios {
		if len(want) > 0 && !want[sc.Name] {
			continue
		}
		if sc.Load == nil {
			shared = append(shared, sc)
			continue
		}
		out[sc] = loadPeak(sc.Load, []int{1}, in.maxVUs, seg)[0]
	}
	if len(shared) > 0 && p.Load != nil {
		weights := make([]int, len(shared))
		for i, sc := range shared {
			weights[i] = min(max(sc.Weight, 1), 1<<20)
		}
		for i, v := range loadPeak(p.Load, weights, in.maxVUs, seg) {
			out[shared[i]] = v
		}
	}
	return out
}

// loadPeak returns the most VUs one load allocates for each of its scenarios (by weight).
func loadPeak(l *plan.Load, weights []int, maxVUs int, seg executor.Segment) []int {
	capped := func(n int) int {
		if maxVUs > 0 && n > maxVUs {
			return maxVUs
		}
		return n
	}
	share := func(v int) int { return segmentShare(clampCount(float64(v)), seg.Index, seg.Total) }
	var per []int
	switch l.Model {
	case plan.Users:
		peak := float64(l.StartVUs)
		for _, s := range l.Stages {
			peak = math.Max(peak, s.Target)
		}
		per = splitWeights(capped(share(clampCount(math.Floor(peak+1e-9)))), weights)
	case plan.ArrivalRate:
		per = splitWeights(max(capped(share(max(l.MaxVUs, l.PreAllocatedVUs))), 1), weights)
		for i := range per {
			per[i] = max(per[i], 1) // every scenario's pool holds at least one VU
		}
	case plan.PerVUIterations, plan.SharedIterations:
		per = splitWeights(capped(share(l.VUs)), weights)
		if l.Model == plan.SharedIterations {
			for i, it := range splitWeights(share(l.Iterations), weights) {
				if it > 0 && per[i] == 0 {
					per[i] = 1 // a share of iterations needs someone to run it
				}
			}
		}
	default:
		per = make([]int, len(weights))
	}
	return per
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

// hostPort returns the host:port a URL dials, "" when it has none.
func hostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" || u.Scheme == "wss" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// thousands formats n with comma separators: 1064 → "1,064".
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
