package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/summary"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/threshold"
)

// runMerge combines the segment summaries of a distributed run, prints the fleet's summary,
// judges the plan's thresholds over the whole fleet and exits like apply would have.
func runMerge(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var planPaths multiFlag
	var pv planVars
	var export, junit string
	fs.Var(&planPaths, "plan", "the plan `FILE` the segments ran (its thresholds are judged); repeatable for multi-file plans")
	pv.register(fs)
	fs.StringVar(&export, "summary-export", "", "write the merged summary to `FILE` as JSON in k6's summary-export layout")
	fs.StringVar(&junit, "junit", "", "write JUnit XML to `FILE`, one test case per threshold")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan merge -plan FILE [flags] SEGMENT.json...")
		fs.PrintDefaults()
	}
	var segPaths []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			return exitUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		segPaths = append(segPaths, rest[0])
		args = rest[1:]
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

	var segs []*summary.SegmentSummary
	for _, path := range segPaths {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintln(stderr, "loadplan merge:", err)
			return exitRuntime
		}
		seg, err := summary.ReadSegment(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "loadplan merge: %s: %v\n", path, err)
			return exitRuntime
		}
		segs = append(segs, seg)
	}
	m, err := summary.Merge(segs)
	if err != nil {
		fmt.Fprintln(stderr, "loadplan merge:", err)
		return exitRuntime
	}
	run := threshold.Run{Start: m.Start, Stages: m.Stages}
	ev := threshold.New(threshold.Config{Thresholds: p.Thresholds, Run: func() threshold.Run { return run }})
	for _, st := range m.States {
		ev.Load(st)
	}
	ev.Finish(m.End)
	ev.Close()
	rep := &summary.Report{Plan: p, Title: strings.Join(planPaths, " ") + " (merged: " + strings.Join(m.Segments, ", ") + ")",
		Start: m.Start, End: m.End, Series: m.Store.Snapshot(), Verdicts: ev.Verdicts(), Dropped: m.Dropped, Notes: m.Notes}
	interrupted, saturated := false, false
	for _, s := range segs {
		interrupted = interrupted || s.Interrupted
		saturated = saturated || s.Saturated
	}
	code := verdictCode(interrupted, threshold.Failed(rep.Verdicts), saturated)
	if err := writeReports(rep, stdout, export, junit, "", nil); err != nil {
		fmt.Fprintln(stderr, "loadplan merge:", err)
		if code == exitOK {
			code = exitRuntime
		}
		code = resultCode(code, outputs.Incomplete(err))
	}
	return code
}

// writeReports writes the requested export files, then prints the terminal summary. Each export
// that could not be written completely (an *outputs.FileError in the returned error) is added to
// rep's notes and Incomplete, so the summary and a JUnit file written after it name it.
func writeReports(rep *summary.Report, stdout io.Writer, export, junit, segPath string, seg *summary.SegmentSummary) error {
	var errs []error
	write := func(path string, f func(io.Writer) error) {
		if path == "" {
			return
		}
		if err := outputs.WriteFile(path, f); err != nil {
			if len(outputs.Incomplete(err)) == 0 {
				err = fmt.Errorf("%s: %w", path, err)
			}
			errs = append(errs, err)
			for _, fe := range outputs.Incomplete(err) { // in the files written after it, and the summary
				rep.Notes = append(rep.Notes, fe.Error())
				rep.Incomplete = append(rep.Incomplete, fe.Error())
			}
		}
	}
	write(export, rep.WriteExport)
	write(junit, rep.WriteJUnit)
	if seg != nil {
		write(segPath, func(w io.Writer) error { return summary.WriteSegment(w, seg) })
	}
	if err := rep.WriteText(stdout); err != nil { // `apply … > summary.txt` on a full disk
		errs = append(errs, outputs.NewFileError("stdout", "write", err))
	}
	return errors.Join(errs...)
}

// planName is the plan file name without folder and extension, for output file names.
func planName(path string) string {
	b := filepath.Base(path)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// drops collects the outputs' dropped counts.
func drops(outs []outputs.Output) []summary.Drop {
	var out []summary.Drop
	for _, o := range outs {
		if d, ok := o.(outputs.Dropper); ok {
			out = append(out, summary.Drop{Output: o.Name(), Count: d.Dropped()})
		}
	}
	return out
}

// verdictCode maps how a run ended to its exit code — interrupted first, then thresholds, then
// saturation — for apply and for merge, which judges a fleet's segments as apply judges one run.
func verdictCode(interrupted, thresholdFailed, saturated bool) int {
	switch {
	case interrupted:
		return exitInterrupted
	case thresholdFailed:
		return exitThreshold
	case saturated:
		return exitSaturated
	}
	return exitOK
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

// resultCode overrides the verdict's code with 1 (runtime error) when a result file could not be
// written completely, even over 99, 98 and 105: those judge the load, and CI may act on them
// while still consuming the files, but a torn CSV or a missing JUnit file must never be taken
// for a whole one. The verdict itself stays in the summary; the notes name each file.
func resultCode(code int, incomplete []*outputs.FileError) int {
	if len(incomplete) > 0 {
		return exitRuntime
	}
	return code
}
