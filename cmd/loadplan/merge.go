package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/loadplan/loadplan/internal/fleet"
	"github.com/loadplan/loadplan/internal/report"
	"github.com/loadplan/loadplan/internal/webview"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/summary"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/run"
	"github.com/loadplan/loadplan/threshold"
)

// runMerge combines the segment summaries of a distributed run, prints the fleet's summary,
// judges the plan's thresholds over the whole fleet and exits like apply would have.
func runMerge(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var planPaths multiFlag
	var pv planVars
	var export, junit, htmlReport string
	fs.Var(&planPaths, "plan", "the plan `FILE` the segments ran (its thresholds are judged); repeatable for multi-file plans")
	pv.register(fs)
	fs.StringVar(&export, "summary-export", "", "write the merged summary to `FILE` as JSON in k6's summary-export layout")
	fs.StringVar(&junit, "junit", "", "write JUnit XML to `FILE`, one test case per threshold")
	fs.StringVar(&htmlReport, "report", "", "write the fleet's self-contained HTML report to `FILE`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan merge --plan FILE [flags] SEGMENT...")
		fmt.Fprintln(stderr, "A SEGMENT is a summary file (--segment-summary FILE), a log stream holding summaries (--segment-summary -;")
		fmt.Fprintln(stderr, "\"-\" reads standard input, e.g. kubectl logs -l job-name=X --tail=-1 | loadplan merge --plan plan.hcl -)")
		fmt.Fprintln(stderr, "or a folder of either. Exit 1 when a segment is missing, incomplete or given twice.")
		printFlags(stderr, fs)
	}
	segPaths, code, ok := parsePositional(fs, args)
	if !ok {
		return code
	}
	if len(planPaths) == 0 || len(segPaths) == 0 {
		fs.Usage()
		fmt.Fprintln(stderr, "loadplan merge: needs -plan FILE and at least one segment summary")
		return exitUsage
	}
	paths, err := findPlanFiles(planPaths)
	if err != nil {
		fmt.Fprintln(stderr, "loadplan merge:", err)
		return exitUsage
	}
	p, files, diags := plan.LoadFiles(paths, pv.options())
	if diags.HasErrors() || p == nil {
		printDiagnostics(stderr, files, diags)
		return exitInvalidPlan
	}

	segs, err := segmentInputs(segPaths, stderr)
	if err != nil {
		// Summaries the logs hold only in part: each named, then the fleet check names them
		// among the missing segments.
		printLines(stderr, "loadplan merge:", err)
		if len(segs) == 0 || fleet.Check(segs) == nil {
			return exitRuntime
		}
	}
	if err := fleet.Check(segs); err != nil {
		fmt.Fprintln(stderr, "loadplan merge:", err)
		return exitRuntime
	}
	notes := printSkews(stderr, fleet.Align(segs))
	m, err := summary.Merge(segs)
	if err != nil {
		fmt.Fprintln(stderr, "loadplan merge:", err)
		return exitRuntime
	}
	fleet := threshold.Run{Start: m.Start, Stages: m.Stages}
	ev := threshold.New(threshold.Config{Thresholds: p.Thresholds, Run: func() threshold.Run { return fleet }})
	for _, st := range m.States {
		ev.Load(st)
	}
	ev.Finish(m.End)
	ev.Close()
	rep := &summary.Report{Plan: p, Title: strings.Join(planPaths, " ") + " (merged: " + strings.Join(m.Segments, ", ") + ")",
		Start: m.Start, End: m.End, Series: m.Store.Snapshot(), Verdicts: ev.Verdicts(), Dropped: m.Dropped, Notes: append(notes, m.Notes...),
		Timeline: m.Timeline, Stages: m.Stages, Segment: strings.Join(m.Segments, ", ")}
	interrupted, saturated := false, false
	for _, s := range segs {
		interrupted = interrupted || s.Interrupted
		saturated = saturated || s.Saturated
	}
	code = run.VerdictCode(interrupted, threshold.Failed(rep.Verdicts), saturated)
	info := report.MergedInfo(m, report.Options{Plan: p, PlanFile: strings.Join(planPaths, " "), Version: version}, code)
	if export != "" {
		rep.View = webview.FromReport(rep, info) // the export's "loadplan" key, as apply writes it
	}
	var html []run.ReportFile
	if htmlReport != "" {
		html = append(html, run.HTMLReport(htmlReport, rep, info))
	}
	if err := run.WriteReports(rep, stdout, export, junit, "", nil, html...); err != nil {
		fmt.Fprintln(stderr, "loadplan merge:", err)
		if code == exitOK {
			code = exitRuntime
		}
		code = run.ResultCode(code, outputs.Incomplete(err))
	}
	return code
}
