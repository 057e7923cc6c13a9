package main

import (
	"runtime/debug"

	"github.com/loadplan/loadplan/plan"
)

// The garbage collector's target for runs that hold many VUs (issue 11, item 4). With Go's
// default (GOGC=100) the heap may grow to twice what is live, plus the goroutine stacks, before a
// collection; with thousands of VUs almost all of the live heap is their long-lived state (a
// WebSocket session's connection and buffers, a VU's client), so that headroom is tens of MB of
// peak RSS for garbage that the VUs make slowly (one frame or request a second each, in the
// bench's memory cases). A lower target makes collections more frequent in proportion: their
// CPU grows as 100/GOGC times the allocation rate, which is small when each of many VUs is idle
// most of the time.
//
// Measured on a loaded 2-core machine with the bench's plans and bench/server (peak RSS as the
// harness takes it): 10,000 persistent WebSocket sessions (websocket.hcl) 33.9 KB per open session
// (32.1–36.5, 4 runs) at GOGC=50 against 36.4 (34.3–38.1, 7 runs) at 100, 32.7–33.0 at 25; 10,000
// idle HTTP VUs (vus.hcl) 20.9–21.3 KB per VU against 21.7–21.9, at 62.7–63.0 µs of CPU per
// request against 59.5–62.0. 25 saved little more than 50 at twice the collections: 50 it is.
//
// The policy applies only when the environment sets neither GOGC nor GOMEMLIMIT: an operator who
// sets either keeps the runtime's own behaviour (GOGC=100 restores Go's default), so the choice
// stays configurable without a flag. Runs with few VUs, the throughput cases among them, keep
// Go's default: their heap is small and their allocation rate per live byte high.
const (
	// gcManyVUs is the VUs (or WebSocket sessions) at the memory peak from which the policy
	// applies.
	gcManyVUs = 1000
	// gcManyPercent is the GOGC the policy sets.
	gcManyPercent = 50
)

// gcPercentFor returns the GOGC to set for p's run with apply's overrides, or 0 to leave the
// runtime's own (getenv reads the process environment).
func gcPercentFor(p *plan.Plan, opts *applyOptions, getenv func(string) string) int {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return 0
	}
	need, err := estimateNeed(p, needInput{scenarios: opts.scenarios, maxVUs: opts.vus, duration: opts.duration,
		segment: opts.segment})
	if err != nil || max(need.memVUs, need.memWS) < gcManyVUs {
		return 0
	}
	return gcManyPercent
}

// setGCPolicy applies gcPercentFor; apply calls it before the run starts.
func setGCPolicy(p *plan.Plan, opts *applyOptions, getenv func(string) string) {
	if pct := gcPercentFor(p, opts, getenv); pct > 0 {
		debug.SetGCPercent(pct)
	}
}
