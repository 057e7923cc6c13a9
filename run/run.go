// Package run owns one run of a plan from start to verdict: it builds the executor, the outputs
// (the summary, the threshold evaluator's adapter, the plan's and the caller's outputs) and the
// threshold evaluation, starts them, checks the targets, lets the load run, stops the outputs in
// order, writes the reports and returns a Result with the exit code.
//
// While the load runs, Status and Subscribe are the live view (what the progress line and a web
// UI read), Stop ends the run gracefully and Abort cuts in-flight work. It reads no environment
// variable, installs no signal handler and never exits the process: cmd translates signals into
// Stop and Abort and prints what it returns.
//
// A Run's life is straight-line: New, Start, Wait, each called once, in order; Stop, Abort,
// Status, Series and Subscribe are safe from any goroutine at any time.
package run

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/registry"
	"github.com/loadplan/loadplan/outputs/summary"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/threshold"
)

// preflightTimeout bounds the targets check before any request is sent.
const preflightTimeout = 10 * time.Second

// Config is what a run needs besides the plan: the command line's overrides, the extra outputs,
// the report files, and where messages go.
type Config struct {
	Scenarios []string         // run only these scenarios; empty runs all
	Duration  time.Duration    // caps the whole run, scaling every stage; 0 runs as planned
	MaxVUs    int              // caps VUs (closed model) and max_vus (open model); 0 is no cap
	Segment   executor.Segment // this instance's share; the zero value runs all of it
	Seed      uint64           // the weighted tasks' draws (executor.Config.Seed); 0 picks one

	// Outputs are output blocks added to the plan's own (--out), built with registry.Default.
	Outputs []*plan.OutputBlock
	// Extra are outputs built by the caller (a test, the bench), fed after the plan's. The Run
	// starts and stops them with the others.
	Extra []outputs.Output
	// Env is the environment the plan was loaded with. LOADPLAN_PROMETHEUS_ADDR sets the listen
	// address of a Prometheus output that does not set one.
	Env map[string]string

	Name  string // base name for output files (the plan file without folder and extension)
	Title string // the summary's heading, e.g. the plan files

	Export         string // summary-export JSON file, "" for none
	JUnit          string // JUnit XML file, "" for none
	SegmentSummary string // mergeable segment summary file, "-" for log lines on Stdout, "" for none

	// Gate, when set, is the fleet's start barrier (cmd's --start-at, rendezvous or claim
	// folder): Start calls it once the outputs run and the targets answered, and begins the load
	// at the instant it returns — at once when that has passed, recording how late. ctx ends on
	// Stop or Abort, which then end the run before any request. An error fails Start (exit 1).
	Gate   func(ctx context.Context) (time.Time, error)
	Report string // self-contained HTML report file, "" for none
	// Version is loadplan's version, shown in the HTML report and the web view.
	Version string

	// Stdout receives the terminal summary at the end; nil writes none (the Result still has
	// the Report).
	Stdout io.Writer
	// Logf receives warnings (a threshold aborting the run, an output dropping data); Infof
	// informational lines (output files, "running …"). Either may be nil.
	Logf, Infof func(format string, args ...any)
	// InterruptNote is the summary's note for a run ended by Stop or Abort, e.g. "interrupted by
	// a signal: the run stopped early"; "interrupted: the run stopped early" when empty.
	InterruptNote string
	// SummaryColor colours the summary's ✓ and ✗ (cmd decides: a terminal, no NO_COLOR, no
	// --no-color); TrendStats are its latency columns (--summary-trend-stats), nil for the default.
	SummaryColor bool
	TrendStats   []summary.TrendStat
	// HTTPDebug, when set, sees every HTTP request and response (--http-debug).
	HTTPDebug step.HTTPDebugger
	// Now is the clock of timestamped output file names; time.Now when nil.
	Now func() time.Time
	// UnreachableAfter is passed to the executor (0 is its default).
	UnreachableAfter time.Duration
}

// Phase is where a run is in its life.
type Phase int32

// The phases, in order.
const (
	Created   Phase = iota // New returned
	Starting               // Start: outputs starting, targets being checked
	Running                // the load runs
	Finishing              // the load ended; outputs stopping, reports being written
	Done                   // Wait returned
)

// String names the phase, for a status line or a web UI.
func (p Phase) String() string {
	return [...]string{"created", "starting", "running", "finishing", "done"}[p]
}

// Run is one run of one plan. See the package doc for its life.
type Run struct {
	cfg  Config
	plan *plan.Plan
	seg  string // "2/4" for a segment run

	sum  *summary.Summary
	thr  *threshold.Evaluator
	outs []outputs.Output
	mgr  *outputs.Manager
	exec *executor.Executor

	// hard aborts in-flight work (Abort during the run); outStop cuts the outputs' shutdown
	// short (Abort once the load ended). Both are cancelled when Wait returns.
	hard, outStop             context.Context
	hardCancel, outStopCancel context.CancelFunc

	phase       atomic.Int32
	interrupted atomic.Bool
	runInfo     atomic.Pointer[threshold.Run] // cached once the executor started
	scheduled   time.Time                     // the Gate's instant; written by Start before the load
	gate        context.Context               // cancelled by Stop and Abort: ends a wait at the Gate
	gateCancel  context.CancelFunc
	ended       chan struct{} // closed when the executor returned; res is set then
	res         executor.Result
	final       atomic.Pointer[Result] // Wait's result, for the last snapshot
	subs        subscribers
}

// New builds the run: the summary and the threshold evaluator, the plan's outputs, cfg's, and
// the executor. Nothing is started and nothing is sent. Its errors are user-facing; ExitCode
// gives the exit code each calls for.
func New(p *plan.Plan, cfg Config) (*Run, error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Infof == nil {
		cfg.Infof = func(string, ...any) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.InterruptNote == "" {
		cfg.InterruptNote = "interrupted: the run stopped early"
	}
	r := &Run{cfg: cfg, plan: p, ended: make(chan struct{})}
	r.seg = cfg.Segment.String()
	r.sum = summary.New()
	r.thr = threshold.New(threshold.Config{
		Thresholds:  p.Thresholds,
		KeepBuckets: cfg.SegmentSummary != "",
		Run:         r.thresholdRun,
		Abort: func(reason string) {
			r.cfg.Logf("aborting: %s", reason)
			r.exec.Stop() // set by New before the Manager, hence the abort loop, starts
		},
	})
	r.outs = []outputs.Output{r.sum, r.thr.Ingester()}
	oopts := outputs.Options{PlanName: cfg.Name, Now: cfg.Now, Logf: cfg.Logf, SegmentName: r.seg, Traced: p.Traced()}
	for _, o := range append(append([]*plan.OutputBlock(nil), p.Outputs...), cfg.Outputs...) {
		if addr := cfg.Env["LOADPLAN_PROMETHEUS_ADDR"]; o.Kind == "prometheus" && o.Attr("listen") == nil && addr != "" {
			o.Set("listen", addr)
		}
		out, err := registry.Default.Build(o, oopts)
		if err != nil {
			return nil, &Error{Code: ExitRuntime, Err: err}
		}
		r.outs = append(r.outs, out)
	}
	if out, err := otlpOutput(p, cfg, oopts); err != nil {
		return nil, &Error{Code: ExitRuntime, Err: err}
	} else if out != nil {
		r.outs = append(r.outs, out)
	}
	r.outs = append(r.outs, cfg.Extra...)
	r.mgr = outputs.NewManager(r.outs...)
	e, err := executor.New(executor.Config{Plan: p, Sink: r.mgr, Scenarios: cfg.Scenarios, Duration: cfg.Duration,
		MaxVUs: cfg.MaxVUs, Segment: cfg.Segment, Logf: cfg.Logf, UnreachableAfter: cfg.UnreachableAfter, Seed: cfg.Seed,
		HTTPDebug: cfg.HTTPDebug})
	if err != nil {
		return nil, &Error{Code: ExitInvalidPlan, Err: err}
	}
	r.exec = e
	r.hard, r.hardCancel = context.WithCancel(context.Background())
	r.outStop, r.outStopCancel = context.WithCancel(context.Background())
	r.gate, r.gateCancel = context.WithCancel(r.hard)
	return r, nil
}

// Start starts the outputs, checks that every target can be reached, and starts the load on its
// own goroutine; Wait ends the run. ctx bounds starting only. Abort cancels a slow targets
// check. On an error nothing runs and the started outputs are stopped again.
func (r *Run) Start(ctx context.Context) error {
	r.phase.Store(int32(Starting))
	if err := r.mgr.Start(ctx); err != nil {
		r.fail()
		return &Error{Code: ExitRuntime, Err: err}
	}
	for _, o := range r.outs {
		if f, ok := o.(interface{ Path() string }); ok && f.Path() != "" {
			r.cfg.Infof("%s output: %s", o.Name(), f.Path())
		}
		if a, ok := o.(interface{ Addr() string }); ok && a.Addr() != "" {
			r.cfg.Infof("%s output: http://%s/metrics", o.Name(), a.Addr())
		}
		if e, ok := o.(interface{ Endpoint() string }); ok && e.Endpoint() != "" {
			r.cfg.Infof("%s output: client spans to %s", o.Name(), e.Endpoint())
		}
	}
	pctx, cancel := context.WithTimeout(r.hard, preflightTimeout)
	err := r.exec.Preflight(pctx)
	cancel()
	if err != nil {
		errs := []error{err}
		if serr := r.mgr.Stop(context.Background()); serr != nil {
			errs = append(errs, serr)
		}
		r.fail()
		return &Error{Code: ExitRuntime, Err: errors.Join(errs...)}
	}
	if r.seg != "" {
		r.cfg.Infof("running %s (segment %s)", r.cfg.Title, r.seg)
	} else {
		r.cfg.Infof("running %s", r.cfg.Title)
	}
	if err := r.awaitGate(); err != nil {
		errs := []error{err}
		if serr := r.mgr.Stop(context.Background()); serr != nil {
			errs = append(errs, serr)
		}
		r.fail()
		return &Error{Code: ExitRuntime, Err: errors.Join(errs...)}
	}
	r.phase.Store(int32(Running))
	go func() {
		r.res = r.exec.Run(r.hard)
		r.phase.Store(int32(Finishing))
		close(r.ended)
	}()
	return nil
}

// awaitGate waits at the Gate, then until its instant. Stop or Abort end the wait; the load then
// starts stopped and ends at once.
func (r *Run) awaitGate() error {
	if r.cfg.Gate == nil {
		return nil
	}
	at, err := r.cfg.Gate(r.gate)
	if err != nil {
		if r.gate.Err() != nil {
			return nil // Stop or Abort: the run ends as interrupted
		}
		return err
	}
	r.scheduled = at
	if wait := time.Until(at); wait > 0 {
		r.cfg.Infof("starting at %s (in %v)", at.Format(time.RFC3339Nano), wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-r.gate.Done():
			t.Stop()
		}
	} else {
		r.cfg.Logf("starting %v late: the agreed start was %s; running the whole schedule anyway (merge reports it)",
			(-wait).Round(time.Millisecond), at.Format(time.RFC3339Nano))
	}
	return nil
}

// fail ends a run that could not start: its contexts, its subscriptions.
func (r *Run) fail() {
	r.phase.Store(int32(Done))
	r.hardCancel()
	r.outStopCancel()
	r.subs.close(r.snapshot)
}

// Ended returns a channel closed when the load has ended (the executor returned): the progress
// line stops there, before Wait stops the outputs and prints the summary.
func (r *Run) Ended() <-chan struct{} { return r.ended }

// Stop ends the run gracefully: no new iterations; in-flight ones get their load's graceful_stop.
// The result counts as interrupted (exit 105). Safe from any goroutine, more than once.
func (r *Run) Stop() {
	if Phase(r.phase.Load()) >= Finishing {
		return
	}
	r.interrupted.Store(true)
	r.exec.Stop()
	r.gateCancel()
}

// Abort cancels in-flight work at once while the load runs (and a targets check in Start), and
// counts as a Stop (exit 105); once the load has ended, it cuts the outputs' shutdown short (a
// Prometheus linger, a slow flush) and the verdict stands. Safe from any goroutine.
func (r *Run) Abort() {
	if Phase(r.phase.Load()) >= Finishing {
		r.outStopCancel()
		return
	}
	r.interrupted.Store(true)
	r.hardCancel() // and the gate, its child
}

// thresholdRun tells the evaluator the run's start and stages, cached once the executor started.
func (r *Run) thresholdRun() threshold.Run {
	if c := r.runInfo.Load(); c != nil {
		return *c
	}
	if r.exec == nil {
		return threshold.Run{}
	}
	ri := threshold.Run{Start: r.exec.Status().Start, Stages: r.exec.Stages()}
	if !ri.Start.IsZero() {
		r.runInfo.Store(&ri)
	}
	return ri
}

// Wait waits for the load to end, then finishes the run in order: the evaluator gets the end,
// the outputs stop (with their linger, unless Abort cuts it short), the report is assembled and
// written, and the Result judged. Call it once, after a successful Start; it returns nil when
// Start failed or was not called, or Wait already returned.
func (r *Run) Wait() *Result {
	if p := Phase(r.phase.Load()); p < Running || p == Done {
		return nil
	}
	<-r.ended
	res := r.res
	r.thr.Finish(res.End)
	var linger time.Duration
	for _, o := range r.outs {
		if l, ok := o.(interface{ Linger() time.Duration }); ok {
			linger = max(linger, l.Linger())
		}
	}
	sctx, scancel := context.WithTimeout(r.outStop, linger+30*time.Second)
	stopErr := r.mgr.Stop(sctx)
	scancel()
	out := r.result(res, stopErr)
	r.final.Store(out)
	r.phase.Store(int32(Done))
	r.hardCancel()
	r.outStopCancel()
	r.subs.close(r.snapshot)
	return out
}

// title is the report's heading.
func (r *Run) title() string {
	if r.cfg.Title != "" {
		return r.cfg.Title
	}
	return strings.TrimSpace(r.cfg.Name)
}
