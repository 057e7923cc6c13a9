package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/loadplan/loadplan/outputs/summary"
	"github.com/loadplan/loadplan/plan"
)

// k6Flags are the flags a k6 (or Terraform) user types out of habit that loadplan accepts with the
// same meaning (issue 15): -u/-d/-i/-e, --insecure-skip-tls-verify and --no-color for plan and
// apply; -q, --summary-trend-stats and --http-debug for apply. The rest of k6's flags get a
// "did you mean" (locustflags.go's hint mechanism, k6Hints).
type k6Flags struct {
	iterations int    // -i/--iterations: the run becomes shared iterations (applyIterations)
	insecure   bool   // --insecure-skip-tls-verify: every target skips certificate checks
	noColor    bool   // --no-color (Terraform's -no-color is the same flag)
	trendSpec  string // --summary-trend-stats, k6's syntax
	trendStats []summary.TrendStat
	httpDebug  debugMode // --http-debug[=full]
}

// shortAliases maps the one-letter k6 flags to the long flag they stand for: the help shows them
// together ("-u, --vus N") instead of as flags of their own.
var shortAliases = map[string]string{"u": "vus", "d": "duration", "i": "iterations", "e": "var", "q": "quiet"}

// register adds the aliases and flags of plan and apply. It runs after runFlags.register, whose
// flags the aliases share.
func (k *k6Flags) register(fs *flag.FlagSet) {
	fs.IntVar(&k.iterations, "iterations", 0, "run `N` iterations shared by the VUs (--vus, default 1) and end, as k6's -i: the load becomes shared_iterations, --duration its max_duration (default 10m)")
	for short, long := range shortAliases {
		if f := fs.Lookup(long); f != nil {
			fs.Var(f.Value, short, "short for --"+long)
		}
	}
	fs.BoolVar(&k.insecure, "insecure-skip-tls-verify", false, "skip TLS certificate verification for every target (insecure_skip_verify = true)")
	fs.BoolVar(&k.noColor, "no-color", false, "no colour in the summary and diagnostics, as NO_COLOR=1 (without either, colour only on a terminal)")
}

// registerApply adds apply's k6 flags: -q (quiet), --summary-trend-stats, --http-debug.
func (k *k6Flags) registerApply(fs *flag.FlagSet, quiet *bool) {
	fs.BoolVar(quiet, "q", false, "short for --quiet")
	fs.StringVar(&k.trendSpec, "summary-trend-stats", "", "the latency columns of the summary, k6's `LIST`: avg,min,med,max,count,p(N), e.g. avg,med,p(95),p(99.9)")
	fs.Var(&k.httpDebug, "http-debug", "print every request and response head (WebSocket handshakes too) to stderr, secrets masked; --http-debug=full adds the bodies and WebSocket messages")
}

// check validates the flags' values once parsed.
func (k *k6Flags) check() error {
	if k.iterations < 0 {
		return fmt.Errorf("--iterations %d must not be negative", k.iterations)
	}
	if k.trendSpec != "" {
		stats, err := summary.ParseTrendStats(k.trendSpec)
		if err != nil {
			return err
		}
		k.trendStats = stats
	}
	return nil
}

// color says whether w gets colour: a terminal, NO_COLOR unset or empty, no --no-color.
func (k *k6Flags) color(w io.Writer) bool {
	return useColor(isTerminal(w), os.Getenv("NO_COLOR"), k.noColor)
}

// useColor is the colour decision, apart for its test: only on a terminal, never with NO_COLOR
// set to anything (no-color.org) or --no-color.
func useColor(terminal bool, noColorEnv string, noColorFlag bool) bool {
	return terminal && noColorEnv == "" && !noColorFlag
}

// applyPlanOverrides applies the k6 flags that change the loaded plan: --insecure-skip-tls-verify
// on every target, -i on the load of the selected scenarios. duration is --duration, which -i
// turns into the max_duration; it returns the duration the executor should then cap the run at.
func (k *k6Flags) applyPlanOverrides(p *plan.Plan, names []string, vus int, duration time.Duration) (time.Duration, error) {
	if k.insecure {
		for _, t := range p.Targets {
			t.InsecureSkipVerify = true
		}
	}
	if k.iterations == 0 {
		return duration, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var loads []*plan.Load
	for _, sc := range p.Scenarios {
		if len(want) > 0 && !want[sc.Name] {
			continue
		}
		ld := sc.Load
		if ld == nil {
			ld = p.Load
		}
		if ld != nil && !containsLoad(loads, ld) {
			loads = append(loads, ld)
		}
	}
	if len(loads) != 1 {
		return 0, fmt.Errorf("--iterations %d: the selected scenarios have %d load blocks; -i shares its iterations in one — select the scenarios of one load with --scenario", k.iterations, len(loads))
	}
	ld := loads[0]
	if vus == 0 {
		vus = 1 // k6's -i without -u: one VU
	}
	ld.Model, ld.Stages, ld.VUs, ld.Iterations = plan.SharedIterations, nil, vus, k.iterations
	ld.StartVUs, ld.PreAllocatedVUs, ld.MaxVUs, ld.StartRate = 0, 0, 0, 0
	ld.MaxDuration = 10 * time.Minute // k6's and the plan's default max_duration
	if duration > 0 {
		ld.MaxDuration = duration
	}
	return 0, nil // the iterations end the run; --duration is their max_duration, not a scale
}

func containsLoad(loads []*plan.Load, ld *plan.Load) bool {
	for _, l := range loads {
		if l == ld {
			return true
		}
	}
	return false
}

// printFlags writes fs's flags in the one style of loadplan's help and README: long flags with two
// dashes, each short alias beside its long flag ("-u, --vus N"). Go's flag package accepts one
// dash as well (-var, Terraform's habit, keeps working).
func printFlags(w io.Writer, fs *flag.FlagSet) {
	aliases := map[string][]string{}
	for short, long := range shortAliases {
		if fs.Lookup(short) != nil && fs.Lookup(long) != nil {
			aliases[long] = append(aliases[long], short)
		}
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := shortAliases[f.Name]; !ok || fs.Lookup(shortAliases[f.Name]) == nil {
			names = append(names, f.Name)
		}
	})
	sort.Strings(names)
	for _, n := range names {
		f := fs.Lookup(n)
		arg, usage := flag.UnquoteUsage(f)
		head := "--" + n
		for _, s := range aliases[n] {
			head = "-" + s + ", " + head
		}
		if arg != "" {
			head += " " + arg
		}
		if _, ok := f.Value.(*debugMode); ok {
			head += "[=full]"
		}
		if d := f.DefValue; d != "" && d != "0" && d != "0s" && d != "false" && d != "[]" {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(w, "  %s\n    \t%s\n", head, strings.ReplaceAll(usage, "\n", "\n    \t"))
	}
}

// k6Hints maps the k6 flags loadplan does not take to what to write instead: one line rather
// than "flag provided but not defined" and the whole usage.
var k6Hints = map[string]string{
	"o":                       "--out KIND[=VALUE], e.g. --out csv=results/ or --out prometheus",
	"s":                       "a load block in the plan (stage { duration = \"30s\", target = 10 }); --duration and --vus scale and cap it",
	"stage":                   "a load block in the plan (stage { duration = \"30s\", target = 10 }); --duration and --vus scale and cap it",
	"rps":                     "an open-model load in the plan: load { model = \"arrival_rate\" … } (a rate of iterations, not a cap)",
	"m":                       "--vus N, which caps the VUs (and max_vus of an arrival-rate load)",
	"max":                     "--vus N, which caps the VUs (and max_vus of an arrival-rate load)",
	"c":                       "the plan file itself: its load, threshold and output blocks are the options",
	"config":                  "the plan file itself: its load, threshold and output blocks are the options",
	"no-thresholds":           "no flag: thresholds are part of the plan (remove or comment out their blocks)",
	"no-summary":              "no flag: the summary goes to stdout (redirect it); --summary-export FILE writes it as JSON",
	"v":                       "nothing: warnings already go to stderr; --http-debug shows the requests and responses",
	"verbose":                 "nothing: warnings already go to stderr; --http-debug shows the requests and responses",
	"log-output":              "nothing: messages go to stderr",
	"logformat":               "nothing: messages go to stderr",
	"p":                       "no equivalent: apply starts at once (no paused start, no REST API)",
	"paused":                  "no equivalent: apply starts at once (no paused start, no REST API)",
	"a":                       "no equivalent: loadplan has no REST API; the progress line is on stderr",
	"address":                 "no equivalent: loadplan has no REST API; the progress line is on stderr",
	"user-agent":              "a User-Agent header in the target block: headers = { \"User-Agent\" = \"…\" }",
	"batch":                   "no equivalent: each step sends one request",
	"batch-per-host":          "no equivalent: each step sends one request",
	"discard-response-bodies": "nothing: bodies are read whole only when a check or capture needs them",
	"include-system-env-vars": "nothing: env(\"NAME\") in a plan reads any environment variable",
	"compatibility-mode":      "nothing: plans are HCL, not JavaScript",
	"no-connection-reuse":     "no equivalent: each VU keeps its connections (as browsers do)",
	"l":                       "nothing: a Prometheus output keeps serving for its linger attribute",
	"linger":                  "nothing: a Prometheus output keeps serving for its linger attribute",
	"w":                       "nothing: a failed step is data in its samples, never an exception",
	"throw":                   "nothing: a failed step is data in its samples, never an exception",
	"summary-time-unit":       "nothing: the summary picks the unit per value",
	"local-ips":               "no equivalent",
	"dns":                     "no equivalent: the system resolver is used",
}

// terraformHints maps Terraform's flags, typed out of the same habit as `loadplan plan` and
// `loadplan apply`, to loadplan's.
var terraformHints = map[string]string{
	"auto-approve":     "nothing: apply never asks; drop the flag",
	"input":            "nothing: loadplan never prompts; drop the flag",
	"target":           "--scenario NAME (run only that scenario; repeatable)",
	"parallelism":      "--vus N",
	"lock":             "nothing: a plan has no state to lock; drop the flag",
	"lock-timeout":     "nothing: a plan has no state to lock; drop the flag",
	"refresh":          "nothing: a plan has no state; drop the flag",
	"refresh-only":     "nothing: a plan has no state; drop the flag",
	"state":            "nothing: a plan has no state; drop the flag",
	"destroy":          "nothing: a load test creates nothing to destroy",
	"replace":          "nothing: a load test creates nothing to replace",
	"chdir":            "the plan file's path as the argument (or cd into its folder)",
	"compact-warnings": "nothing: warnings are one line each",
	"json":             "--summary-export FILE (the summary as JSON) or --out json=FILE (the samples)",
}
