package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/internal/demo"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/registry"
	"github.com/loadplan/loadplan/outputs/summary"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/threshold"
)

// applyOptions are apply's command-line flags.
type applyOptions struct {
	paths      []string
	vars       map[string]string
	varFiles   []string
	scenarios  []string
	duration   time.Duration
	vus        int
	outs       []*plan.OutputBlock
	export     string
	junit      string
	segment    executor.Segment
	segmentSum string
	demo       bool
	quiet      bool
	noProgress bool
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// parseApplyFlags parses apply's arguments; flags may come before or after the plan files. The
// flags it shares with plan are runFlags (runflags.go).
func parseApplyFlags(args []string, stderr io.Writer) (*applyOptions, error) {
	o := &applyOptions{}
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rf runFlags
	rf.register(fs)
	var outs multiFlag
	fs.Var(&outs, "out", "add an output `KIND[=VALUE]`: csv[=FILE|FOLDER/], json=FILE, prometheus[=ADDR], influxdb=URL (repeatable)")
	fs.StringVar(&o.export, "summary-export", "", "write the summary to `FILE` as JSON in k6's summary-export layout")
	fs.StringVar(&o.junit, "junit", "", "write JUnit XML to `FILE`, one test case per threshold")
	fs.StringVar(&o.segmentSum, "segment-summary", "", "write a mergeable segment summary to `FILE` for loadplan merge")
	fs.BoolVar(&o.demo, "demo", false, "start the built-in demo backend on a free loopback port and set var.host to it")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress line and no informational messages")
	fs.BoolVar(&o.noProgress, "no-progress", false, "no progress line")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan apply [flags] FILE...")
		fs.PrintDefaults()
	}
	if err := rf.parse(fs, args); err != nil {
		if errors.Is(err, errNoPlanFile) {
			fs.Usage()
			return nil, errors.New("apply needs a plan file")
		}
		return nil, err
	}
	o.paths, o.vars, o.varFiles, o.scenarios = rf.paths, rf.vars.vars, rf.vars.files, rf.scenarios
	o.duration, o.vus, o.segment = rf.duration, rf.vus, rf.segment
	for _, spec := range outs {
		out, err := registry.Default.Flag(spec)
		if err != nil {
			return nil, err
		}
		o.outs = append(o.outs, out)
	}
	return o, nil
}

// runApply runs a plan: load, build the outputs, start them, check the targets, run with signal
// handling, stop the outputs, print the summary, write the exports and return the verdict.
func runApply(args []string, stdout, stderr io.Writer) int {
	opts, err := parseApplyFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "loadplan apply:", err)
			return exitUsage
		}
		return exitOK
	}
	info := func(format string, a ...any) {
		if !opts.quiet {
			fmt.Fprintf(stderr, format+"\n", a...)
		}
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "loadplan: "+format+"\n", a...) }

	env := environ()
	var demoSrv *demo.Server
	if opts.demo {
		if demoSrv, err = demo.Listen("127.0.0.1:0"); err != nil {
			fmt.Fprintln(stderr, "loadplan apply: demo backend:", err)
			return exitRuntime
		}
		// Through the environment so that an explicit -var host=... still wins.
		env[plan.EnvVarPrefix+"host"] = demoSrv.URL()
		info("demo backend serving on %s", demoSrv.URL())
	}
	code := applyPlan(opts, env, stdout, stderr, info, logf)
	if demoSrv != nil {
		demoSrv.Close()
		printDemoCounts(stdout, demoSrv.Counts())
	}
	return code
}

// printDemoCounts prints what the demo backend itself saw, so the summary's figures can be
// compared with the server's at a glance. WebSocket upgrades are not HTTP requests in loadplan's
// figures (they are ws_sessions), so they are counted apart.
func printDemoCounts(w io.Writer, c demo.Counts) {
	var upgrades uint64
	for _, route := range []string{"GET /api/oscilloscope/ws", "GET /api/market/ws"} {
		upgrades += c.Requests[route]
	}
	fmt.Fprintf(w, "  demo backend saw: %d HTTP requests, %d WebSocket sessions (%d upgrade requests), %d frames received, %d frames sent\n",
		c.Total()-upgrades, c.WSSessions, upgrades, c.WSFramesReceived, c.WSFramesSent)
}

func applyPlan(opts *applyOptions, env map[string]string, stdout, stderr io.Writer, info, logf func(string, ...any)) int {
	p, files, diags := plan.LoadFiles(opts.paths, plan.Options{Env: env, Vars: opts.vars, VarFiles: opts.varFiles,
		Instances: opts.segment.Total, // VU bounds hold per instance
		Outputs:   registry.Default.Schemas()})
	if diags.HasErrors() || p == nil {
		printDiagnostics(stderr, files, diags)
		return exitInvalidPlan
	}
	if len(diags) > 0 {
		printDiagnostics(stderr, files, diags)
	}
	if err := checkScenarios(p, opts.scenarios); err != nil {
		fmt.Fprintln(stderr, "loadplan apply:", err)
		return exitUsage
	}
	// Before any output starts or any request is sent: a plan that cannot fit the open-file limit
	// or the memory fails here, plainly (issue 9), not as a run of errors or an OOM kill.
	if !checkResources(p, opts, env, stderr) {
		return exitRuntime
	}
	segName := ""
	if opts.segment.Total > 0 {
		segName = fmt.Sprintf("%d/%d", opts.segment.Index, opts.segment.Total)
	}

	// Outputs: the summary and the threshold evaluator first, then the plan's and --out's.
	var exec atomic.Pointer[executor.Executor]
	var runInfo atomic.Pointer[threshold.Run]
	sum := summary.New()
	thr := threshold.New(threshold.Config{
		Thresholds:  p.Thresholds,
		KeepBuckets: opts.segmentSum != "",
		Run:         func() threshold.Run { return currentRun(&exec, &runInfo) },
		Abort: func(reason string) {
			logf("aborting: %s", reason)
			if e := exec.Load(); e != nil {
				e.Stop()
			}
		},
	})
	outs := []outputs.Output{sum, thr.Ingester()}
	oopts := outputs.Options{PlanName: planName(opts.paths[0]), Now: time.Now, Logf: logf, SegmentName: segName}
	for _, o := range append(append([]*plan.OutputBlock(nil), p.Outputs...), opts.outs...) {
		if addr := env["LOADPLAN_PROMETHEUS_ADDR"]; o.Kind == "prometheus" && o.Attr("listen") == nil && addr != "" {
			o.Set("listen", addr)
		}
		out, err := registry.Default.Build(o, oopts)
		if err != nil {
			fmt.Fprintln(stderr, "loadplan apply:", err)
			return exitRuntime
		}
		outs = append(outs, out)
	}
	mgr := outputs.NewManager(outs...)

	e, err := executor.New(executor.Config{Plan: p, Sink: mgr, Scenarios: opts.scenarios, Duration: opts.duration,
		MaxVUs: opts.vus, Segment: opts.segment, Logf: logf})
	if err != nil {
		fmt.Fprintln(stderr, "loadplan apply:", err)
		return exitInvalidPlan
	}
	exec.Store(e)
	if err := mgr.Start(context.Background()); err != nil {
		fmt.Fprintln(stderr, "loadplan apply:", err)
		return exitRuntime
	}
	for _, o := range outs {
		if f, ok := o.(interface{ Path() string }); ok && f.Path() != "" {
			info("%s output: %s", o.Name(), f.Path())
		}
		if a, ok := o.(interface{ Addr() string }); ok && a.Addr() != "" {
			info("%s output: http://%s/metrics", o.Name(), a.Addr())
		}
	}
	pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = e.Preflight(pctx)
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, "loadplan apply:", err)
		if serr := mgr.Stop(context.Background()); serr != nil {
			fmt.Fprintln(stderr, "loadplan apply:", serr)
		}
		return exitRuntime
	}

	// Signals: the first stops gracefully, the second aborts in-flight work (the hard context);
	// once the run is over, a signal cuts the outputs' shutdown (Prometheus linger) short.
	hard, hardCancel := context.WithCancel(context.Background())
	stopCtx, stopCancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var interrupted, runOver atomic.Bool
	finished := make(chan struct{})
	sigDone := make(chan struct{})
	go func() {
		defer close(sigDone)
		for n := 1; ; n++ {
			select {
			case <-finished:
				return
			case <-sigs:
			}
			switch {
			case runOver.Load():
				logf("signal: cutting the outputs' shutdown short")
				stopCancel()
			case n == 1:
				interrupted.Store(true)
				logf("stopping: no new iterations; in-flight ones get their graceful_stop (Ctrl-C again to abort them)")
				e.Stop()
			default:
				logf("aborting in-flight requests")
				hardCancel()
			}
		}
	}()

	if segName != "" {
		info("running %s (segment %s)", strings.Join(opts.paths, " "), segName)
	} else {
		info("running %s", strings.Join(opts.paths, " "))
	}
	prog := startProgress(progressConfig{w: stderr, tty: isTerminal(stderr), status: e.Status, store: sum.Store(),
		disabled: opts.quiet || opts.noProgress})
	res := e.Run(hard)
	prog.stop()

	runOver.Store(true)
	thr.Finish(res.End)
	// Outputs get their linger (Prometheus) plus time to flush, unless a signal cuts it short.
	var linger time.Duration
	for _, o := range outs {
		if l, ok := o.(interface{ Linger() time.Duration }); ok {
			linger = max(linger, l.Linger())
		}
	}
	sctx, scancel := context.WithTimeout(stopCtx, linger+30*time.Second)
	stopErr := mgr.Stop(sctx)
	scancel()
	close(finished)
	<-sigDone
	signal.Stop(sigs)
	hardCancel()
	stopCancel()
	printLines(stderr, "loadplan apply:", stopErr)

	rep := &summary.Report{Plan: p, Title: strings.Join(opts.paths, " "), Segment: segName, Start: res.Start, End: res.End,
		Series: sum.Store().Snapshot(), Verdicts: thr.Verdicts(), Dropped: drops(outs)}
	for _, o := range res.Unreachable {
		rep.Unreachable = append(rep.Unreachable, o.String())
	}
	if interrupted.Load() {
		rep.Notes = append(rep.Notes, "interrupted by a signal: the run stopped early")
	}
	if res.Aborted {
		rep.Notes = append(rep.Notes, "in-flight requests were aborted")
	}
	if r := thr.AbortReason(); r != "" {
		rep.Notes = append(rep.Notes, "stopped early: "+r)
	}
	if n := mgr.Stalls(); n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the outputs' fan-out fell behind the VUs: %d sample batches waited for it, slowing the load (too little CPU for this load with these outputs)", n))
	}
	if res.Saturated {
		rep.Notes = append(rep.Notes, "the load generator was saturated ("+res.SaturationReason+"): the figures are not to be trusted")
	}
	if res.Err != nil {
		rep.Notes = append(rep.Notes, "run error: "+res.Err.Error())
	}
	incomplete := outputs.Incomplete(stopErr)
	for _, fe := range incomplete {
		rep.Notes = append(rep.Notes, fe.Error())
		rep.Incomplete = append(rep.Incomplete, fe.Error())
	}
	code := verdictCode(interrupted.Load(), threshold.Failed(rep.Verdicts) || thr.AbortReason() != "", res.Saturated)
	if res.Err != nil && code == exitOK {
		code = exitRuntime
	}
	var seg *summary.SegmentSummary
	if opts.segmentSum != "" {
		seg = summary.BuildSegment(rep, e.Stages(), thr.States())
		seg.Interrupted, seg.Saturated = interrupted.Load(), res.Saturated
	}
	if err := writeReports(rep, stdout, opts.export, opts.junit, opts.segmentSum, seg); err != nil {
		printLines(stderr, "loadplan apply:", err)
		incomplete = append(incomplete, outputs.Incomplete(err)...)
		if code == exitOK {
			code = exitRuntime
		}
	}
	if n := len(incomplete); n > 0 && code != exitRuntime {
		fmt.Fprintf(stderr, "loadplan apply: exit 1, not %d: %d result file(s) incomplete; the summary's verdict stands, the files cannot be trusted\n", code, n)
	}
	return resultCode(code, incomplete)
}

// currentRun returns the run's start and stages for the threshold evaluator, caching them once
// the executor has started.
func currentRun(exec *atomic.Pointer[executor.Executor], cache *atomic.Pointer[threshold.Run]) threshold.Run {
	if r := cache.Load(); r != nil {
		return *r
	}
	e := exec.Load()
	if e == nil {
		return threshold.Run{}
	}
	r := threshold.Run{Start: e.Status().Start, Stages: e.Stages()}
	if !r.Start.IsZero() {
		cache.Store(&r)
	}
	return r
}
