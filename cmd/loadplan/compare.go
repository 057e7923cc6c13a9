package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/loadplan/loadplan/internal/compare"
	"github.com/loadplan/loadplan/plan"
)

// tolerance is a flag holding a fraction, written 10% or 0.10.
type tolerance float64

func (t *tolerance) String() string { return strconv.FormatFloat(100*float64(*t), 'g', -1, 64) + "%" }
func (t *tolerance) Set(s string) error {
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || f < 0 {
		return fmt.Errorf("%q is not a tolerance: write 10%% or 0.10", s)
	}
	if strings.HasSuffix(strings.TrimSpace(s), "%") || f >= 1 {
		f /= 100
	}
	*t = tolerance(f)
	return nil
}

// runCompare compares two runs' summaries step by step: exit 0 when nothing regressed beyond the
// tolerance, 99 (a threshold's code, so CI treats it alike) when something did, naming it.
func runCompare(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tol := tolerance(0.10)
	fs.Var(&tol, "tolerance", "the change a metric may show before it counts as a regression, e.g. 10% or 0.05")
	asJSON := fs.Bool("json", false, "print the comparison as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan compare [-json] [--tolerance 10%] BASE NEW")
		fmt.Fprintln(stderr, "BASE and NEW are summaries written by apply --save-baseline or --segment-summary;")
		fmt.Fprintln(stderr, "a folder or a quoted glob of a fleet's segment summaries is merged first.")
		fs.PrintDefaults()
	}
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			return exitUsage
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) != 2 {
		fs.Usage()
		return exitUsage
	}
	base, err := compare.Load(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, "loadplan compare: baseline:", err)
		return exitRuntime
	}
	next, err := compare.Load(pos[1])
	if err != nil {
		fmt.Fprintln(stderr, "loadplan compare: new:", err)
		return exitRuntime
	}
	res := compare.Compare(base, next, float64(tol))
	if *asJSON {
		err = res.WriteJSON(stdout)
	} else {
		err = res.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadplan compare:", err)
		return exitRuntime
	}
	if res.Regressed() {
		for _, s := range res.Regressions {
			fmt.Fprintln(stderr, "loadplan compare: regression:", s)
		}
		return exitThreshold
	}
	return exitOK
}

// applyBaseline resolves the plan's baseline conditions against --baseline FILE (it returns
// false with the error printed when the file cannot be read); without the flag they stay
// unresolved and are reported as skipped.
func applyBaseline(p *plan.Plan, file string, stderr io.Writer, info func(string, ...any)) bool {
	if file == "" {
		for _, t := range p.Thresholds {
			for _, c := range t.Conditions {
				if c.Baseline {
					info("threshold %s: %q is skipped: no --baseline FILE given", t.Name, c.Source)
				}
			}
		}
		return true
	}
	base, err := compare.Load(file)
	if err != nil {
		fmt.Fprintln(stderr, "loadplan apply: --baseline:", err)
		return false
	}
	for _, n := range compare.Resolve(p, base) {
		fmt.Fprintln(stderr, "loadplan apply:", n)
	}
	return true
}

// saveBaseline copies the run's segment summary to --save-baseline FILE after a passing run;
// a failed run leaves the previous baseline in place.
func saveBaseline(from, to string, code int, stderr io.Writer, info func(string, ...any)) int {
	if to == "" {
		return code
	}
	if code != exitOK {
		info("not saving the baseline %s: the run did not pass (exit %d)", to, code)
		return code
	}
	data, err := os.ReadFile(from)
	if err == nil {
		tmp := filepath.Join(filepath.Dir(to), "."+filepath.Base(to)+".tmp")
		if err = os.WriteFile(tmp, data, 0o644); err == nil {
			err = os.Rename(tmp, to)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadplan apply: --save-baseline:", err)
		return exitRuntime
	}
	info("baseline saved to %s", to)
	return code
}
