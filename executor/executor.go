// Package executor compiles a plan.Plan into a runnable program — schedulers, VUs, HTTP and
// WebSocket steps — runs it and emits samples to a metrics.Sink.
package executor

import (
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// Config is what a run needs beyond the plan.
type Config struct {
	Plan      *plan.Plan
	Sink      metrics.Sink  // every sample batch goes here; the executor never drops samples
	Scenarios []string      // run only these scenarios; empty runs all
	Duration  time.Duration // caps the whole run, scaling every stage; 0 runs as planned
	MaxVUs    int           // caps VUs (closed model) and max_vus (open model); 0 is no cap
	Segment   Segment       // the share of the load this instance runs; zero value runs all of it
	Logf      func(format string, args ...any)
}

// Segment is an execution segment: instance Index (1-based) of Total runs its exact share of every
// stage, so Total instances together run the whole plan.
type Segment struct {
	Index, Total int
}
