package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/internal/demo"
	"github.com/loadplan/loadplan/outputs/registry"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/run"
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
	baseline   string // --baseline: judge `baseline` threshold conditions against it (compare.go)
	saveBase   string // --save-baseline: the run's segment summary, kept after a passing run
	report     string
	demo       bool
	quiet      bool
	noProgress bool
	run        *runFlags // the shared flags, for the overrides that need the loaded plan
	ui         uiFlags   // --ui, --ui-linger, --ui-token (ui_apply.go)
	hook       *runHook  // loadplan ui's: told of the run and its result (ui.go); nil for apply
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
	rf.fleet = &fleetFlags{}
	rf.fleet.register(fs) // fleetflags.go
	rf.k6.registerApply(fs, &o.quiet)
	var outs multiFlag
	fs.Var(&outs, "out", "add an output `KIND[=VALUE]`: csv[=FILE|FOLDER/], json=FILE, prometheus[=ADDR], influxdb=URL, prometheus_remote_write=URL (repeatable)")
	fs.StringVar(&o.export, "summary-export", "", "write the summary to `FILE` as JSON in k6's summary-export layout")
	fs.StringVar(&o.junit, "junit", "", "write JUnit XML to `FILE`, one test case per threshold")
	fs.StringVar(&o.report, "report", "", "write a self-contained HTML report to `FILE` (charts, tables, verdict; opens offline)")
	fs.StringVar(&o.segmentSum, "segment-summary", "", "write a mergeable segment summary to `FILE` for loadplan merge")
	fs.StringVar(&o.baseline, "baseline", "", "judge the thresholds' baseline bounds against the saved run in `FILE` (from --save-baseline)")
	fs.StringVar(&o.saveBase, "save-baseline", "", "after a passing run, save its summary to `FILE` as the baseline for --baseline and loadplan compare")
	fs.BoolVar(&o.demo, "demo", false, "start the built-in demo backend on a free loopback port and set var.host to it")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress line and no informational messages")
	fs.BoolVar(&o.noProgress, "no-progress", false, "no progress line")
	o.ui.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan apply [flags] FILE...")
		printFlags(stderr, fs)
	}
	if err := rf.parse(fs, args); err != nil {
		if errors.Is(err, errNoPlanFile) {
			fs.Usage()
			return nil, errors.New("apply needs a plan file")
		}
		return nil, err
	}
	o.paths, o.vars, o.varFiles, o.scenarios = rf.paths, rf.vars.vars, rf.vars.files, rf.scenarios
	o.duration, o.vus, o.segment, o.run = rf.duration, rf.vus, rf.segment, &rf
	if o.demo && rf.host != "" {
		return nil, errors.New("--demo and --host both set var.host: give one")
	}
	if err := o.ui.check(); err != nil {
		return nil, err
	}
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

// applyPlan loads the plan, checks that it fits this machine, and runs it through package run,
// translating signals into Stop and Abort; it prints what run reports and returns the exit code.
// With --ui the live page watches the run (ui_apply.go); `loadplan ui` runs its plans through it
// too (opts.hook), so a run started from the form is the run apply makes.
func applyPlan(opts *applyOptions, env map[string]string, stdout, stderr io.Writer, info, logf func(string, ...any)) int {
	page := newApplyUI(opts) // --ui (ui_apply.go); nil without
	stdout = page.tee(stdout)
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
	var err error
	if opts.scenarios, err = opts.run.overrides(p); err != nil {
		fmt.Fprintln(stderr, "loadplan apply:", err)
		return exitUsage
	}
	if note := opts.run.spawnNote(); note != "" {
		info("%s", note)
	}
	base, endBase, code := prepareBaseline(opts, p, stderr, info) // compare.go: --baseline, --save-baseline
	if code != exitOK {
		return code
	}
	defer endBase()
	// fleetflags.go: the claim (before the resource check, which needs the segment), the barrier.
	gate, endGate, code := prepareFleet(opts, stderr, info)
	if code != exitOK {
		return code
	}
	defer endGate()
	// Before any output starts or any request is sent: a plan that cannot fit the open-file limit
	// or the memory fails here, plainly (issue 9), not as a run of errors or an OOM kill.
	if !checkResources(p, opts, env, stderr) {
		return exitRuntime
	}
	setGCPolicy(p, opts, os.Getenv) // gcpolicy.go: a lower GC target when many VUs run
	seed := taskSeed(p, opts.run.seed, info)
	r, err := run.New(p, run.Config{Scenarios: opts.scenarios, Duration: opts.run.duration, MaxVUs: opts.vus, Seed: seed,
		SummaryColor: opts.run.k6.color(stdout), TrendStats: opts.run.k6.trendStats, // k6flags.go
		HTTPDebug: newHTTPDebugger(opts.run.k6.httpDebug, stderr, p),
		Segment:   opts.segment, Outputs: opts.outs, Env: env, Name: planName(opts.paths[0]),
		Title: strings.Join(opts.paths, " "), Export: opts.export, JUnit: opts.junit,
		SegmentSummary: opts.segmentSum, Gate: gate, Report: opts.report, Version: version, Stdout: stdout, Logf: logf, Infof: info,
		InterruptNote: interruptNote(opts)})
	if err != nil {
		fmt.Fprintln(stderr, "loadplan apply:", err)
		return run.ExitCode(err)
	}
	if err := page.start(opts, r, stderr); err != nil {
		fmt.Fprintln(stderr, "loadplan apply:", err)
		return exitRuntime
	}
	defer page.close(stderr)
	sigDone := handleSignals(r, logf)
	if err := r.Start(context.Background()); err != nil {
		sigDone()
		printLines(stderr, "loadplan apply:", err)
		page.finish(nil, err, nil)
		return run.ExitCode(err)
	}
	opts.hook.started(r)
	prog := startProgress(progressConfig{w: stderr, tty: isTerminal(stderr), status: r.Status, snapshot: r.Series,
		disabled: opts.quiet || opts.noProgress})
	<-r.Ended()
	prog.stop()
	res := r.Wait() // a signal now cuts the outputs' shutdown short
	sigDone()
	printLines(stderr, "loadplan apply:", res.StopErr)
	printLines(stderr, "loadplan apply:", res.ReportErr)
	if n := len(res.Incomplete); n > 0 && res.Verdict != exitRuntime {
		fmt.Fprintf(stderr, "loadplan apply: exit 1, not %d: %d result file(s) incomplete; the summary's verdict stands, the files cannot be trusted\n", res.Verdict, n)
	}
	page.finish(res, nil, resultFiles(opts, r))
	opts.hook.finished(res, resultFiles(opts, r))
	return finishBaseline(opts, base, res.Code, stderr, info)
}

// handleSignals translates signals into r's Stop and Abort until the returned func is called:
// the first stops gracefully, the second aborts in-flight work; once the load has ended, a
// signal cuts the outputs' shutdown (Prometheus linger) short.
func handleSignals(r *run.Run, logf func(string, ...any)) (done func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
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
			case r.Status().Phase >= run.Finishing:
				logf("signal: cutting the outputs' shutdown short")
				r.Abort()
			case n == 1:
				logf("stopping: no new iterations; in-flight ones get their graceful_stop (Ctrl-C again to abort them)")
				r.Stop()
			default:
				logf("aborting in-flight requests")
				r.Abort()
			}
		}
	}()
	return func() {
		close(finished)
		<-sigDone
		signal.Stop(sigs)
	}
}

// planName is the plan file name without folder and extension, for output file names.
func planName(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// printLines prints err, a joined error, one prefixed line per error: each names its file.
func printLines(w io.Writer, prefix string, err error) {
	if err == nil {
		return
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(w, prefix, line)
	}
}

// taskSeed returns the seed of the run's task draws: --seed, or a fresh one chosen here rather
// than in the executor so that it can be printed — with it, `--seed N` repeats the run's task
// sequence. The line is printed only for plans that draw tasks.
func taskSeed(p *plan.Plan, seed uint64, info func(string, ...any)) uint64 {
	hasTasks := false
	for _, s := range p.Scenarios {
		hasTasks = hasTasks || len(s.Tasks) > 0
	}
	if seed == 0 {
		for seed == 0 {
			seed = rand.Uint64()
		}
		if hasTasks {
			info("task draws: seed %d (repeat them with --seed %d)", seed, seed)
		}
	} else if hasTasks {
		info("task draws: seed %d", seed)
	}
	return seed
}
