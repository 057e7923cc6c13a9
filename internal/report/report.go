// Package report makes the self-contained HTML report of `loadplan report` from result files:
// one run's summary export (its "loadplan" key holds the run's web view, written by apply), or
// the segment summaries of a distributed run, merged exactly as `loadplan merge` merges them
// (with the plan, the thresholds are judged over the whole fleet). The page itself is
// webview.WriteHTML's; `apply --report` writes the same page at the end of a run.
package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/loadplan/loadplan/internal/webview"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/summary"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/run"
	"github.com/loadplan/loadplan/threshold"
)

// Options are what a report from segment summaries may use besides them.
type Options struct {
	// Plan is the plan the segments ran: its thresholds are judged over the merged segments
	// and its steps give the table's order. Without it the report shows no thresholds.
	Plan     *plan.Plan
	PlanFile string // the plan file(s) as given, shown in the report
	Version  string // loadplan's version, when the files do not say theirs
}

// probe tells a summary export from a segment summary.
type probe struct {
	Metrics  json.RawMessage  `json:"metrics"`
	Loadplan *json.RawMessage `json:"loadplan"`
	Segment  *string          `json:"segment"`
	Series   json.RawMessage  `json:"series"`
}

// Load reads the files and returns the View the report shows: one summary export's, or the
// merged segment summaries'.
func Load(paths []string, opts Options) (*webview.View, error) {
	if len(paths) == 0 {
		return nil, errors.New("no summary file given")
	}
	var segs []*summary.SegmentSummary
	var exports []string
	var view *webview.View
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var p probe
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("%s: not a loadplan summary (JSON): %w", path, err)
		}
		switch {
		case p.Segment != nil && p.Series != nil:
			seg, err := summary.ReadSegment(bytes.NewReader(b))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			segs = append(segs, seg)
		case p.Metrics != nil:
			exports = append(exports, path)
			if p.Loadplan == nil {
				return nil, fmt.Errorf("%s: this summary export has no \"loadplan\" view (written by an older loadplan, or by k6): write it again with this loadplan's apply --summary-export, or use apply --report", path)
			}
			view = &webview.View{}
			if err := json.Unmarshal(*p.Loadplan, view); err != nil {
				return nil, fmt.Errorf("%s: the summary export's \"loadplan\" view: %w", path, err)
			}
		default:
			return nil, fmt.Errorf("%s: neither a summary export (apply --summary-export) nor a segment summary (apply --segment-summary)", path)
		}
	}
	switch {
	case len(exports) > 0 && (len(exports) > 1 || len(segs) > 0):
		return nil, fmt.Errorf("%s: a summary export cannot be merged with other summaries (its percentiles are final); give one export, or the runs' segment summaries (apply --segment-summary)", strings.Join(exports, ", "))
	case view != nil:
		return view, nil
	}
	return fromSegments(segs, opts)
}

// fromSegments merges segment summaries into one View, judging the plan's thresholds over the
// fleet as `loadplan merge` does.
func fromSegments(segs []*summary.SegmentSummary, opts Options) (*webview.View, error) {
	m, err := summary.Merge(segs)
	if err != nil {
		return nil, err
	}
	title := strings.Join(m.Segments, ", ")
	if len(segs) > 1 || m.Segments[0] != "" {
		title = "merged: " + title
	}
	if opts.PlanFile != "" {
		title = opts.PlanFile + " (" + title + ")"
	}
	rep := &summary.Report{Plan: opts.Plan, Title: title, Start: m.Start, End: m.End, Series: m.Store.Snapshot(),
		Dropped: m.Dropped, Notes: m.Notes, Timeline: m.Timeline, Stages: m.Stages}
	if len(segs) == 1 {
		rep.Segment = segs[0].Segment
	} else {
		rep.Segment = strings.Join(m.Segments, ", ")
	}
	if opts.Plan != nil {
		fleet := threshold.Run{Start: m.Start, Stages: m.Stages}
		ev := threshold.New(threshold.Config{Thresholds: opts.Plan.Thresholds, Run: func() threshold.Run { return fleet }})
		for _, st := range m.States {
			ev.Load(st)
		}
		ev.Finish(m.End)
		ev.Close()
		rep.Verdicts = ev.Verdicts()
	} else if len(m.States) > 0 {
		rep.Notes = append(rep.Notes, "thresholds not judged: give the plan (-plan FILE) to judge them over the merged segments")
	}
	interrupted, saturated := false, false
	for _, s := range segs {
		interrupted = interrupted || s.Interrupted
		saturated = saturated || s.Saturated
	}
	code := run.VerdictCode(interrupted, threshold.Failed(rep.Verdicts), saturated)
	info := MergedInfo(m, opts, code)
	return webview.FromReport(rep, info), nil
}

// MergedInfo is the webview.Info of merged segments: their plan name, the variables as they ran
// (a sensitive one shown as webview.Sensitive, never its value), the loadplan version that ran
// them (opts.Version when they do not say), and the fleet's verdict. `loadplan merge` builds its
// export's view and its --report with it too.
func MergedInfo(m *summary.Merged, opts Options, verdict int) webview.Info {
	info := webview.Info{Plan: opts.Plan, PlanName: m.Plan, PlanFile: opts.PlanFile, Version: m.Version, Final: true, Verdict: verdict}
	if info.Version == "" {
		info.Version = opts.Version
	}
	for _, v := range m.Variables {
		val := v.Value
		if v.Sensitive || val == plan.Hidden {
			val = webview.Sensitive
		}
		info.Vars = append(info.Vars, webview.Variable{Name: v.Name, Value: val, Sensitive: v.Sensitive || val == webview.Sensitive})
	}
	return info
}

// Write writes v's page to path; a file that could not be written completely is an
// *outputs.FileError, as for every result file.
func Write(path string, v *webview.View) error {
	return outputs.WriteFile(path, func(w io.Writer) error { return webview.WriteHTML(w, v) })
}
