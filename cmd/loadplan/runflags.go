package main

import (
	"errors"
	"flag"
	"fmt"
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

	paths   []string         // the plan files, folders expanded
	segment executor.Segment // parsed --segment; zero value for the whole plan
}

// errNoPlanFile is returned by parse when the command line names no plan file.
var errNoPlanFile = errors.New("needs a plan file")

// register adds -var, -var-file, --scenario, --duration, --vus and --segment to fs.
func (r *runFlags) register(fs *flag.FlagSet) {
	r.vars.register(fs)
	fs.Var(&r.scenarios, "scenario", "run only scenario `NAME` (repeatable)")
	fs.DurationVar(&r.duration, "duration", 0, "cap the whole run at this length, scaling every stage (e.g. 30s)")
	fs.IntVar(&r.vus, "vus", 0, "cap the VUs at `N` (closed model) and max_vus (open model)")
	fs.StringVar(&r.segText, "segment", "", "run execution segment `INDEX/TOTAL` of the plan, e.g. 2/4")
}

// parse parses args with fs — flags may come before or after the plan files — then expands the
// files and checks the overrides. It returns flag.ErrHelp for -h and errNoPlanFile when no file
// is named.
func (r *runFlags) parse(fs *flag.FlagSet, args []string) error {
	var paths []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		paths = append(paths, rest[0])
		args = rest[1:]
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
		i, n, ok := strings.Cut(r.segText, "/")
		idx, err1 := strconv.Atoi(i)
		tot, err2 := strconv.Atoi(n)
		if !ok || err1 != nil || err2 != nil || tot < 1 || idx < 1 || idx > tot {
			return fmt.Errorf("--segment %q: write INDEX/TOTAL with 1 <= INDEX <= TOTAL, e.g. 2/4", r.segText)
		}
		r.segment = executor.Segment{Index: idx, Total: tot}
	}
	return nil
}

// executorConfig returns the executor configuration of these flags for p (without a sink).
func (r *runFlags) executorConfig(p *plan.Plan) executor.Config {
	return executor.Config{Plan: p, Scenarios: r.scenarios, Duration: r.duration, MaxVUs: r.vus, Segment: r.segment}
}

// checkScenarios reports --scenario names the plan does not have.
func checkScenarios(p *plan.Plan, names []string) error {
	var have []string
	for _, sc := range p.Scenarios {
		have = append(have, sc.Name)
	}
	for _, n := range names {
		found := false
		for _, h := range have {
			found = found || h == n
		}
		if !found {
			return fmt.Errorf("--scenario %q: the plan has no such scenario; it has %s", n, strings.Join(have, ", "))
		}
	}
	return nil
}
