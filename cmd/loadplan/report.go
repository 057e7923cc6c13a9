package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/loadplan/loadplan/internal/report"
	"github.com/loadplan/loadplan/plan"
)

// runReport writes the self-contained HTML report of a run from its summary export, or of a
// distributed run from its segment summaries (merged; with -plan, its thresholds judged over the
// fleet). It exits 0 when the report is written, 1 when it could not be, 2 on bad usage; the
// run's verdict is in the report (merge is the command that exits with it).
func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var out string
	var planPaths multiFlag
	var pv planVars
	fs.StringVar(&out, "o", "", "write the HTML report to `FILE`")
	fs.Var(&planPaths, "plan", "the plan `FILE` segment summaries ran: its thresholds are judged over them (repeatable)")
	pv.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan report -o FILE.html [-plan FILE] SUMMARY.json...")
		fmt.Fprintln(stderr, "  SUMMARY is one run's --summary-export, or the --segment-summary files of a distributed run.")
		fs.PrintDefaults()
	}
	paths, code, ok := parsePositional(fs, args) // flags may follow the files
	if !ok {
		return code
	}
	if out == "" || len(paths) == 0 {
		fs.Usage()
		fmt.Fprintln(stderr, "loadplan report: needs -o FILE.html and at least one summary file")
		return exitUsage
	}
	opts := report.Options{Version: version}
	if len(planPaths) > 0 {
		files, err := findPlanFiles(planPaths)
		if err != nil {
			fmt.Fprintln(stderr, "loadplan report:", err)
			return exitUsage
		}
		p, src, diags := plan.LoadFiles(files, pv.options())
		if diags.HasErrors() || p == nil {
			printDiagnostics(stderr, src, diags)
			return exitInvalidPlan
		}
		opts.Plan, opts.PlanFile = p, strings.Join(planPaths, " ")
	}
	v, err := report.Load(paths, opts)
	if err != nil {
		fmt.Fprintln(stderr, "loadplan report:", err)
		return exitRuntime
	}
	if err := report.Write(out, v); err != nil {
		fmt.Fprintln(stderr, "loadplan report:", err)
		return exitRuntime
	}
	fmt.Fprintf(stdout, "report: %s (%s, %d requests)\n", out, v.Meta.Status, v.Totals.Requests)
	return exitOK
}
