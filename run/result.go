package run

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/internal/fleet"
	"github.com/loadplan/loadplan/internal/webview"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/summary"
	"github.com/loadplan/loadplan/threshold"
)

// Exit codes, k6's numbers where k6 has one so CI recipes carry over. cmd exits with them.
const (
	ExitOK          = 0
	ExitRuntime     = 1   // runtime error: target unreachable at start, an output failed, a result file incomplete
	ExitSaturated   = 98  // the generator could not keep the plan: figures not to be trusted
	ExitThreshold   = 99  // a threshold failed
	ExitInvalidPlan = 104 // the executor could not compile the plan
	ExitInterrupted = 105 // stopped early (Stop), after a graceful stop and a flushed summary
)

// Error is an error of New or Start, with the exit code it calls for.
type Error struct {
	Code int
	Err  error
}

// Error implements error.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode returns the exit code an error of New or Start calls for: its Code, 1 for any other.
func ExitCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitRuntime
}

// Result is how a run ended, judged.
type Result struct {
	Report   *summary.Report // what the summary showed, with its notes
	Executor executor.Result // how the load ended
	// Interrupted is true when Stop was called; AbortReason names the abort_on_fail threshold
	// that stopped the run, "" when none did.
	Interrupted bool
	AbortReason string
	// Verdict is the exit code the run earned before its result files are accounted for:
	// 105, 99, 98 in that order, 1 for a run error or a report that could not be written, else 0.
	Verdict int
	// Code is the exit code: Verdict, or 1 when a result file is incomplete (Incomplete).
	Code       int
	Incomplete []*outputs.FileError
	// StopErr joins the outputs' stop errors; ReportErr the report files' (and stdout's) write
	// errors. cmd prints both; their incomplete files are in Incomplete already.
	StopErr, ReportErr error
}

// result assembles the report of an ended run, writes the report files and the summary, and
// judges it.
func (r *Run) result(res executor.Result, stopErr error) *Result {
	thr := r.thr
	rep := &summary.Report{Plan: r.plan, Title: r.title(), Segment: r.seg, Start: res.Start, End: res.End,
		Series: r.sum.Store().Snapshot(), Verdicts: thr.Verdicts(), Dropped: drops(r.outs),
		Timeline: r.sum.Timeline(), Stages: r.exec.Stages(), Color: r.cfg.SummaryColor, TrendStats: r.cfg.TrendStats}
	for _, o := range res.Unreachable {
		rep.Unreachable = append(rep.Unreachable, o.String())
	}
	interrupted := r.interrupted.Load()
	if interrupted {
		rep.Notes = append(rep.Notes, r.cfg.InterruptNote)
	}
	if res.Aborted {
		rep.Notes = append(rep.Notes, "in-flight requests were aborted")
	}
	if reason := thr.AbortReason(); reason != "" {
		rep.Notes = append(rep.Notes, "stopped early: "+reason)
	}
	if n := r.mgr.Stalls(); n > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("the outputs' fan-out fell behind the VUs: %d sample batches waited for it, slowing the load (too little CPU for this load with these outputs)", n))
	}
	for _, o := range r.outs {
		if st, ok := o.(outputs.Staller); ok {
			if n, d := st.Stalls(); n > 0 {
				rep.Notes = append(rep.Notes, fmt.Sprintf("output %s: the disk was slower than the load: %d sample batches waited %v for it, slowing the load (no row was dropped; memory stayed bounded)", o.Name(), n, d.Round(time.Millisecond)))
			}
		}
	}
	if res.Saturated {
		rep.Notes = append(rep.Notes, "the load generator was saturated ("+res.SaturationReason+"): the figures are not to be trusted")
	}
	if res.Err != nil {
		rep.Notes = append(rep.Notes, "run error: "+res.Err.Error())
	}
	out := &Result{Report: rep, Executor: res, Interrupted: interrupted, AbortReason: thr.AbortReason(), StopErr: stopErr}
	out.Incomplete = outputs.Incomplete(stopErr)
	for _, fe := range out.Incomplete {
		rep.Notes = append(rep.Notes, fe.Error())
		rep.Incomplete = append(rep.Incomplete, fe.Error())
	}
	failed := threshold.Failed(rep.Verdicts) || out.AbortReason != ""
	if r.seg != "" {
		// A segment holds only its share: a threshold only the fleet can meet (count == 600 over 3
		// segments of 200) would fail in each while the fleet passes. `merge` judges the thresholds
		// over the fleet; a segment's exit code is its own run (0, 105 interrupted, 98 saturated,
		// 1 run error) and 99 only when an abort_on_fail trips — which stops the fleet, as it would
		// stop a single run (the Job's pod failure policy fails the Job on 99).
		// The summary says so (Report.Share); it is not a note, which merge would repeat.
		failed, rep.Share = out.AbortReason != "", true
	}
	code := VerdictCode(interrupted, failed, res.Saturated)
	if res.Err != nil && code == ExitOK {
		code = ExitRuntime
	}
	var seg *summary.SegmentSummary
	if r.cfg.SegmentSummary != "" {
		seg = summary.BuildSegment(rep, r.exec.Stages(), thr.States())
		seg.Interrupted, seg.Saturated, seg.ScheduledStart = interrupted, res.Saturated, r.scheduled
		seg.Plan, seg.Loadplan = r.cfg.Name, r.cfg.Version
	}
	stdout := r.cfg.Stdout
	if stdout == nil {
		stdout = io.Discard
	}
	info := webview.Info{Plan: r.plan, PlanName: r.cfg.Name, PlanFile: r.cfg.Title, Version: r.cfg.Version, Final: true, Verdict: code}
	if r.cfg.Export != "" {
		rep.View = webview.FromReport(rep, info) // the export's "loadplan" key: what `loadplan report` renders
	}
	var html []ReportFile
	if r.cfg.Report != "" {
		html = append(html, HTMLReport(r.cfg.Report, rep, info))
	}
	if err := WriteReports(rep, stdout, r.cfg.Export, r.cfg.JUnit, r.cfg.SegmentSummary, seg, html...); err != nil {
		out.ReportErr = err
		out.Incomplete = append(out.Incomplete, outputs.Incomplete(err)...)
		if code == ExitOK {
			code = ExitRuntime
		}
	}
	out.Verdict = code
	out.Code = ResultCode(code, out.Incomplete)
	return out
}

// ReportFile is one more file WriteReports writes (the HTML report): write renders it whole
// into memory, then it is written as the exports are.
type ReportFile struct {
	Path  string
	Write func(io.Writer) error
}

// HTMLReport is the self-contained HTML report of rep (webview.WriteHTML), as a ReportFile: its
// View is built when it is written, so it names the result files that failed before it.
func HTMLReport(path string, rep *summary.Report, info webview.Info) ReportFile {
	return ReportFile{Path: path, Write: func(w io.Writer) error { return webview.WriteHTML(w, webview.FromReport(rep, info)) }}
}

// WriteReports writes the requested export files, then the extra files (the HTML report), then
// prints the terminal summary. Each file that could not be written completely (an
// *outputs.FileError in the returned error) is added to rep's notes and Incomplete, so the
// summary and a JUnit file or report written after it name it. merge writes the fleet's reports
// with it too.
func WriteReports(rep *summary.Report, stdout io.Writer, export, junit, segPath string, seg *summary.SegmentSummary, extra ...ReportFile) error {
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
	if seg != nil && segPath != "-" {
		write(segPath, func(w io.Writer) error { return summary.WriteSegment(w, seg) })
	}
	for _, f := range extra {
		write(f.Path, f.Write)
	}
	if err := rep.WriteText(stdout); err != nil { // `apply … > summary.txt` on a full disk
		errs = append(errs, outputs.NewFileError("stdout", "write", err))
	}
	if seg != nil && segPath == "-" { // log lines after the summary, for kubectl logs | loadplan merge -
		if err := fleet.WriteLines(stdout, seg); err != nil {
			errs = append(errs, outputs.NewFileError("stdout", "write segment summary", err))
		}
	}
	return errors.Join(errs...)
}

// VerdictCode maps how a run ended to its exit code: interrupted first, then thresholds, then
// saturation.
func VerdictCode(interrupted, thresholdFailed, saturated bool) int {
	switch {
	case interrupted:
		return ExitInterrupted
	case thresholdFailed:
		return ExitThreshold
	case saturated:
		return ExitSaturated
	}
	return ExitOK
}

// ResultCode overrides the verdict's code with 1 (runtime error) when a result file could not be
// written completely, even over 99, 98 and 105: those judge the load, and CI may act on them
// while still consuming the files, but a torn CSV or a missing JUnit file must never be taken
// for a whole one. The verdict itself stays in the summary; the notes name each file.
func ResultCode(code int, incomplete []*outputs.FileError) int {
	if len(incomplete) > 0 {
		return ExitRuntime
	}
	return code
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
