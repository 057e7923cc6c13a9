package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/plan"
)

// runFlags are the flags `plan` and `apply` share: the plan's files and variables and the
// overrides that shape the run. Sharing them is what lets `loadplan plan` show the schedule that
// `loadplan apply` runs with the same command line.
type runFlags struct {
	vars      planVars
	scenarios multiFlag
	duration  time.Duration
	vus       int
	segText   string
	spawnRate float64   // --spawn-rate: VUs started per second up to --vus (Locust's spawn rate)
	host      string    // --host: the value of var.host
	tags      multiFlag // --tag NAME or KEY=VALUE: run the scenarios with this tag
	seed      uint64    // --seed: the weighted tasks' draws; 0 lets apply pick one (and print it)
	k6        k6Flags   // k6's and Terraform's habits (k6flags.go)

	paths   []string         // the plan files, folders expanded
	segment executor.Segment // parsed --segment; zero value for the whole plan
	// segAuto: --segment auto/N. segment.Index is then the Job's index, or 0 until apply claims one.
	segAuto bool
	// fleet is apply's fleet flags (fleetflags.go), checked with the segment; nil for plan.
	fleet *fleetFlags
}

// errNoPlanFile is returned by parse when the command line names no plan file.
var errNoPlanFile = errors.New("needs a plan file")

// register adds -var, -var-file, --scenario, --tag, --duration, --vus, --spawn-rate, --host,
// --seed and --segment to fs.
func (r *runFlags) register(fs *flag.FlagSet) {
	r.vars.register(fs)
	fs.Var(&r.scenarios, "scenario", "run only scenario `NAME` (repeatable)")
	fs.Var(&r.tags, "tag", "run only the scenarios tagged `NAME` (a key of their tags) or KEY=VALUE (repeatable; with --scenario, either selects)")
	fs.DurationVar(&r.duration, "duration", 0, "cap the whole run at this length, scaling every stage (e.g. 30s); with --spawn-rate, the run's length, ramp included")
	fs.IntVar(&r.vus, "vus", 0, "cap the VUs at `N` (closed model) and max_vus (open model); with --spawn-rate, the VUs to ramp to")
	fs.Float64Var(&r.spawnRate, "spawn-rate", 0, "start `R` VUs per second up to --vus, then hold them for the rest of --duration (until Ctrl-C without it), as Locust's --users/--spawn-rate")
	fs.StringVar(&r.host, "host", "", "set var.host to `URL`, the base URL the plan's targets read (the plan must declare variable \"host\")")
	fs.Uint64Var(&r.seed, "seed", 0, "draw the weighted tasks with seed `N`: the same seed repeats the same task sequence per VU (apply prints the seed it chose without it)")
	fs.StringVar(&r.segText, "segment", "", "run execution segment `INDEX/TOTAL` of the plan, e.g. 2/4; auto/N takes the index from JOB_COMPLETION_INDEX (0-based, a Kubernetes Indexed Job) or claims one with --segment-claim")
	r.k6.register(fs)
}

// parse parses args with fs — flags may come before or after the plan files — then expands the
// files and checks the overrides. It returns flag.ErrHelp for -h and errNoPlanFile when no file
// is named.
func (r *runFlags) parse(fs *flag.FlagSet, args []string) error {
	if err := locustFlagHint(fs, args); err != nil {
		return err
	}
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if err := r.k6.check(); err != nil {
		return err
	}
	if r.k6.noColor {
		// --no-color (Terraform's -no-color) turns off the diagnostics' colour too: printDiagnostics
		// reads NO_COLOR, as the summary's decision (k6Flags.color) does.
		_ = os.Setenv("NO_COLOR", "1")
	}
	if len(paths) == 0 {
		return errNoPlanFile
	}
	found, err := findPlanFiles(paths)
	if err != nil {
		return err
	}
	r.paths = found
	if r.duration < 0 || r.vus < 0 {
		return errors.New("--duration and --vus must not be negative")
	}
	if r.segText != "" {
		if err := r.parseSegment(); err != nil {
			return err
		}
	}
	if r.fleet != nil {
		if err := r.fleet.check(r.segment, r.segAuto); err != nil {
			return err
		}
	}
	if r.spawnRate != 0 && r.vus == 0 {
		return fmt.Errorf("--spawn-rate %g needs --vus N, the VUs to ramp to (Locust's --users)", r.spawnRate)
	}
	if r.spawnRate < 0 {
		return errors.New("--spawn-rate must not be negative")
	}
	return r.setHost()
}

// parseSegment reads --segment: INDEX/TOTAL, or auto/TOTAL with the index from the Job's
// JOB_COMPLETION_INDEX or, for apply, from the claim folder (claimed later, in apply).
func (r *runFlags) parseSegment() error {
	i, n, ok := strings.Cut(r.segText, "/")
	tot, err2 := strconv.Atoi(n)
	if ok && i == "auto" && err2 == nil && tot >= 1 {
		seg, found, err := autoSegment(tot, os.LookupEnv)
		if err != nil {
			return err
		}
		r.segment, r.segAuto = seg, true
		switch {
		case found:
		case r.fleet == nil:
			return fmt.Errorf("--segment auto/%d: no index: %s is not set (loadplan plan shows one segment: give --segment i/%d)", tot, jobIndexEnv, tot)
		case r.fleet.claimDir == "":
			return fmt.Errorf("--segment auto/%d: no index: set %s (a Kubernetes Indexed Job does) or give --segment-claim DIR, a folder every instance shares", tot, jobIndexEnv)
		}
		return nil
	}
	idx, err1 := strconv.Atoi(i)
	if !ok || err1 != nil || err2 != nil || tot < 1 || idx < 1 || idx > tot {
		return fmt.Errorf("--segment %q: write INDEX/TOTAL with 1 <= INDEX <= TOTAL, e.g. 2/4, or auto/TOTAL", r.segText)
	}
	r.segment = executor.Segment{Index: idx, Total: tot}
	return nil
}

// executorConfig returns the executor configuration of these flags for p (without a sink).
func (r *runFlags) executorConfig(p *plan.Plan) executor.Config {
	return executor.Config{Plan: p, Scenarios: r.scenarios, Duration: r.duration, MaxVUs: r.vus, Segment: r.segment, Seed: r.seed}
}
