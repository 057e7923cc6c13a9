// Package executor compiles a plan.Plan into a runnable program — schedulers, VUs, and the
// steps of the kinds in its registry (compile.go: executor/httpstep, executor/wsstep, behind the
// executor/step interface) — runs it and emits samples to a metrics.Sink.
//
// A run has two contexts, as in k6: stop (start no new iteration: end of the stages, Stop, a
// ramp-down) inside hard (abort in-flight work: graceful-stop timeout, ramp-down timeout, the
// caller cancelling Run's ctx). Every request is made with a context derived from hard.
package executor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadplan/loadplan/executor/step"
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
	// UnreachableAfter is how long every connection to a target must have failed before Status
	// and Result report it unreachable; 0 means DefaultUnreachableAfter.
	UnreachableAfter time.Duration
	// Seed makes the draws of weighted tasks repeatable: with the same seed each VU draws the
	// same sequence of tasks. 0 picks a fresh seed per run.
	Seed uint64
	// HTTPDebug, when set, sees every HTTP request and response (apply --http-debug).
	HTTPDebug step.HTTPDebugger
	// RunName is the run's name in the baggage header of traced requests (loadplan.run); ""
	// means the plan's: its first file's name without folder and extension.
	RunName string
}

// DefaultUnreachableAfter is the default of Config.UnreachableAfter: long enough that a restart
// or a blip of refused connections is not called an outage, short enough that a dead target
// shows on the progress line within a few refreshes.
const DefaultUnreachableAfter = 3 * time.Second

// Segment is an execution segment: instance Index (1-based) of Total runs its exact share of every
// stage, so Total instances together run the whole plan.
type Segment struct {
	Index, Total int
}

// String is "2/4" for a segment, "" for the whole plan (the zero Segment): the label summaries,
// outputs and `loadplan plan` show.
func (s Segment) String() string {
	if s.Total == 0 {
		return ""
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Total)
}

// Status is a snapshot of a running executor, for the progress line.
type Status struct {
	Start          time.Time
	Elapsed, Total time.Duration
	Stage          int // 1-based stage of the plan-level load (or the first group's), 0 before start
	StageCount     int
	VUs, MaxVUs    int
	Iterations     uint64
	Dropped        uint64
	// Unreachable lists the targets to which every connection has failed for at least
	// Config.UnreachableAfter, up to now (Outage.Until is 0).
	Unreachable []Outage
}

// Result says how a run ended.
type Result struct {
	Start, End       time.Time
	Interrupted      bool // Stop was called (graceful stop)
	Aborted          bool // Run's ctx was cancelled (hard abort)
	Saturated        bool // the generator could not keep the plan (exit 98)
	SaturationReason string
	// Unreachable lists, per target, its longest outage that ended during the run and the one
	// still going on at the end (Until 0), each of at least Config.UnreachableAfter.
	Unreachable []Outage
	Err         error
}

// Executor runs one compiled plan once. Its methods are safe for concurrent use; Run may be
// called once.
type Executor struct {
	cfg       Config
	logf      func(format string, args ...any)
	groups    []*group
	scenarios []*scenario
	total     time.Duration
	sched     *Schedule
	spans     []metrics.Span
	hosts     []string // host:port of every used target, for Preflight
	targets   []*targetConf
	targetIdx map[*plan.Target]int
	feeders   map[*plan.Feeder]*feederState
	vuSeq     atomic.Int64
	seed      uint64 // Config.Seed, or a fresh one: the VUs' task draws (vu.taskRng)

	reach            []reach // by target index: reachability (backoff.go)
	unreachableAfter time.Duration

	startNano atomic.Int64
	ran       atomic.Bool
	stopOnce  sync.Once
	stopCh    chan struct{} // closed by Stop

	stopMu     sync.Mutex         // guards cancelStop
	cancelStop context.CancelFunc // the running Run's stop context; nil before Run
	tick       atomic.Pointer[chan struct{}]

	regMu   sync.Mutex // guards vus: appended when a VU is allocated, read by Status
	vus     []*vu
	vuCount vuCount // active VUs and their peak, for the vus gauge (run.go)

	satMu     sync.Mutex // guards saturated and satReason
	saturated bool
	satReason string
}

// New compiles the plan in cfg. Its errors are user-facing: an unknown scenario, a bad segment,
// a URL that cannot be parsed, a TLS file that cannot be read.
func New(cfg Config) (*Executor, error) {
	if cfg.Plan == nil {
		return nil, errors.New("executor: no plan")
	}
	if cfg.Sink == nil {
		cfg.Sink = metrics.SinkFunc(func([]metrics.Sample) {})
	}
	if cfg.Segment.Total == 0 && cfg.Segment.Index == 0 {
		cfg.Segment = Segment{1, 1}
	}
	if cfg.Segment.Total < 1 || cfg.Segment.Index < 1 || cfg.Segment.Index > cfg.Segment.Total {
		return nil, fmt.Errorf("segment %d/%d: want INDEX/TOTAL with 1 <= INDEX <= TOTAL", cfg.Segment.Index, cfg.Segment.Total)
	}
	if cfg.Duration < 0 || cfg.MaxVUs < 0 {
		return nil, errors.New("duration and max VUs must not be negative")
	}
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	e := &Executor{cfg: cfg, logf: logf, stopCh: make(chan struct{})}
	ch := make(chan struct{})
	e.tick.Store(&ch)
	if err := e.compile(); err != nil {
		return nil, err
	}
	e.reach = make([]reach, len(e.targets))
	e.unreachableAfter = cfg.UnreachableAfter
	if e.unreachableAfter <= 0 {
		e.unreachableAfter = DefaultUnreachableAfter
	}
	return e, nil
}

// Preflight dials every used target's host:port once, so that an unreachable target is a clear
// error (exit 1) before any request is sent.
func (e *Executor) Preflight(ctx context.Context) error {
	var errs []error
	d := net.Dialer{Timeout: 5 * time.Second}
	for _, h := range e.hosts {
		c, err := d.DialContext(ctx, "tcp", h)
		if err != nil {
			errs = append(errs, fmt.Errorf("target %s unreachable: %w", h, err))
			continue
		}
		c.Close()
	}
	return errors.Join(errs...)
}

// hostPort returns the host:port a URL dials.
func hostPort(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", false
	}
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https", "wss":
			port = "443"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port), true
}

// Stop starts a graceful stop: no new iterations; in-flight ones get their load's graceful_stop,
// then are cancelled. It is idempotent and safe from any goroutine, before or during Run.
//
// The stop context is cancelled before Stop returns, so no VU starts an iteration after it.
func (e *Executor) Stop() {
	e.stopOnce.Do(func() { close(e.stopCh) })
	e.stopMu.Lock()
	if e.cancelStop != nil {
		e.cancelStop()
	}
	e.stopMu.Unlock()
}

func (e *Executor) stopped() bool {
	select {
	case <-e.stopCh:
		return true
	default:
		return false
	}
}

// Stages returns the plan-level load's stages as run (after --duration scaling), as offsets from
// the start. Without a plan-level load, those of the first running group.
func (e *Executor) Stages() []metrics.Span { return append([]metrics.Span(nil), e.spans...) }

// Status returns a snapshot; safe from any goroutine.
func (e *Executor) Status() Status {
	st := Status{Total: e.total, StageCount: len(e.spans)}
	if ns := e.startNano.Load(); ns != 0 {
		st.Start = time.Unix(0, ns)
		st.Elapsed = time.Since(st.Start)
		for i, sp := range e.spans {
			if st.Elapsed >= sp.Start {
				st.Stage = i + 1
			}
		}
	}
	e.regMu.Lock()
	vus := e.vus
	e.regMu.Unlock()
	st.MaxVUs = len(vus)
	for _, v := range vus {
		if v.active.Load() {
			st.VUs++
		}
		st.Iterations += v.iterations.Load()
	}
	for _, g := range e.groups {
		st.Dropped += g.dropped.Load()
	}
	st.Unreachable = e.outages(time.Now(), false)
	return st
}

// register records an allocated VU for Status and the vus_max gauge.
func (e *Executor) register(v *vu) {
	v.active.count = &e.vuCount
	e.regMu.Lock()
	e.vus = append(e.vus, v)
	e.regMu.Unlock()
}

// saturate records the first reason the generator could not keep the plan.
func (e *Executor) saturate(reason string) {
	e.satMu.Lock()
	if !e.saturated {
		e.saturated, e.satReason = true, reason
		e.logf("generator saturated: %s", reason)
	}
	e.satMu.Unlock()
}

// flushTick returns a channel closed at the next flush tick (every 250 ms): idle VUs wait on it
// to push their batch, so one clock serves every VU and no VU allocates a timer.
func (e *Executor) flushTick() <-chan struct{} { return *e.tick.Load() }

// sortedNames returns the scenario names of p, for messages.
func sortedNames(p *plan.Plan) []string {
	var out []string
	for _, s := range p.Scenarios {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}
