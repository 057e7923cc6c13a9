package webview

import (
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs/summary"
	"github.com/loadplan/loadplan/plan"
)

// Info is what a View shows besides the report's figures: which plan, which loadplan, and where
// the run is.
type Info struct {
	Plan     *plan.Plan // its variables; may be nil
	PlanName string     // the plan's name; from the first plan file when empty
	PlanFile string     // the plan file(s), e.g. "plans/smoke.hcl"
	Version  string     // loadplan's version
	// Vars are shown instead of Plan's variables when not nil (the values a segment ran with).
	Vars []Variable

	Phase string // "running", "done", ...; "done" when empty and Final
	Final bool   // the run is over: Verdict is its exit code
	// Verdict is the run's exit code when Final (run.Result.Code).
	Verdict  int
	Progress *Progress // nil: derived from the report's start and end
}

// Variables renders a plan's variables for a View: a sensitive variable's value is never read,
// only "(sensitive)" is shown.
func Variables(p *plan.Plan) []Variable {
	if p == nil {
		return nil
	}
	out := make([]Variable, 0, len(p.Variables))
	for _, v := range p.Variables {
		if v.Sensitive || v.Value == plan.Hidden {
			out = append(out, Variable{Name: v.Name, Value: Sensitive, Sensitive: true})
			continue
		}
		out = append(out, Variable{Name: v.Name, Value: v.Value})
	}
	return out
}

// FromReport builds the View of a report: a finished run's (run.Result.Report), merged segment
// summaries', or a live run's figures so far (run.Snapshot.View).
func FromReport(rep *summary.Report, info Info) *View {
	v := &View{Thresholds: []Threshold{}, Steps: []StepRow{}, Checks: []Check{}, Errors: []ErrorRow{}, Stages: []Stage{}}
	secs := rep.Duration().Seconds()
	v.Meta = meta(rep, info)
	v.Meta.Elapsed = secs
	if info.Progress != nil {
		v.Progress = *info.Progress
		v.Meta.Elapsed = v.Progress.Elapsed
		if v.Progress.Elapsed > 0 {
			secs = v.Progress.Elapsed
		}
	} else {
		v.Progress = Progress{Elapsed: secs, Total: secs, Stage: len(rep.Stages), StageCount: len(rep.Stages),
			Iterations: uint64(rep.Total(metrics.Iterations).Sum), Dropped: uint64(rep.Total(metrics.DroppedIterations).Sum)}
		vus := rep.Total(metrics.VUs)
		v.Progress.VUs, v.Progress.MaxVUs = int(vus.Last), int(vus.Max)
	}
	secs = math.Max(secs, 0.001)
	v.Totals = totals(rep, secs)
	v.Meta.Pass = true
	for _, vd := range rep.Verdicts {
		t := Threshold{Name: vd.Name, Observed: vd.Summary(), Scope: vd.Scope(), Pass: vd.Pass, Skipped: vd.Pass && vd.Skipped(), Aborted: vd.AbortedRun, Conditions: []string{}}
		for _, c := range vd.Conditions {
			t.Conditions = append(t.Conditions, c.Source)
		}
		v.Meta.Pass = v.Meta.Pass && vd.Pass
		v.Thresholds = append(v.Thresholds, t)
	}
	v.Meta.Status = status(info, v.Meta.Pass)
	v.Timeline = buildTimeline(rep)
	v.Steps = steps(rep, secs, v.Timeline)
	for _, c := range rep.CheckCounts() {
		v.Checks = append(v.Checks, Check{Scenario: c.Scenario, Step: c.Step, Name: c.Name, Passes: c.Passes, Total: c.Total,
			Rate: float64(c.Passes) / float64(max(c.Total, 1))})
	}
	v.Errors = errorRows(rep)
	for i, sp := range rep.Stages {
		v.Stages = append(v.Stages, Stage{Index: i + 1, Start: sp.Start.Seconds(), End: sp.End.Seconds()})
	}
	v.Notes = append(append([]string(nil), rep.Unreachable...), rep.Notes...)
	return v
}

func meta(rep *summary.Report, info Info) Meta {
	m := Meta{Plan: info.PlanName, PlanFile: info.PlanFile, Title: rep.Title, Segment: rep.Segment, Version: info.Version,
		Phase: info.Phase, Final: info.Final, Verdict: info.Verdict, Vars: info.Vars}
	if m.Vars == nil {
		m.Vars = Variables(info.Plan)
	}
	if m.Plan == "" {
		file := info.PlanFile
		if file == "" && info.Plan != nil && len(info.Plan.Files) > 0 {
			file = info.Plan.Files[0]
		}
		if f := strings.Fields(file); len(f) > 0 {
			m.Plan = strings.TrimSuffix(filepath.Base(f[0]), filepath.Ext(f[0]))
		}
	}
	if m.Plan == "" {
		m.Plan = rep.Title
	}
	if m.Phase == "" {
		m.Phase = "running"
		if info.Final {
			m.Phase = "done"
		}
	}
	if !rep.Start.IsZero() {
		m.Start = rep.Start.UTC().Format(time.RFC3339)
	}
	if !rep.End.IsZero() && info.Final {
		m.End = rep.End.UTC().Format(time.RFC3339)
	}
	return m
}

// status says the verdict in words.
func status(info Info, pass bool) string {
	if !info.Final {
		if !pass {
			return info.Phase + " (thresholds failing)"
		}
		if info.Phase == "" {
			return "running"
		}
		return info.Phase
	}
	switch info.Verdict {
	case 0:
		return "passed"
	case 1:
		return "run error"
	case 98:
		return "generator saturated: figures not to be trusted"
	case 99:
		return "thresholds failed"
	case 104:
		return "invalid plan"
	case 105:
		return "interrupted"
	}
	return "exit " + strconv.Itoa(info.Verdict)
}

func totals(rep *summary.Report, secs float64) Totals {
	reqs := rep.Total(metrics.HTTPReqs)
	ck := rep.Total(metrics.Checks)
	return Totals{
		Requests: uint64(reqs.Sum), Failures: rep.Total(metrics.HTTPReqFailed).Trues, RPS: reqs.Sum / secs,
		Iterations: rep.Total(metrics.Iterations).Sum, DataSent: rep.Total(metrics.DataSent).Sum,
		DataRecv: rep.Total(metrics.DataReceived).Sum, WSSessions: rep.Total(metrics.WSSessions).Sum,
		WSFrames: rep.Total(metrics.WSMsgsSent).Sum + rep.Total(metrics.WSMsgsReceived).Sum,
		Checks:   ck.Count, ChecksPass: ck.Trues,
	}
}

func steps(rep *summary.Report, secs float64, tl *Timeline) []StepRow {
	out := []StepRow{}
	for _, rw := range rep.StepRows() {
		r := StepRow{Scenario: rw.Tags.Scenario, Step: rw.Tags.Step, Kind: "http", Method: rw.Tags.Method}
		var h *metrics.Histogram
		if rw.WS {
			r.Kind = "ws"
			exp := rw.Get(metrics.WSExpectFailed)
			r.Requests, r.Failures = exp.Count, exp.Trues
			r.Sessions = rw.Get(metrics.WSSessions).Sum
			r.FramesSent, r.FramesRecv = rw.Get(metrics.WSMsgsSent).Sum, rw.Get(metrics.WSMsgsReceived).Sum
			for _, m := range []metrics.Metric{metrics.WSExpectDuration, metrics.WSPing, metrics.WSConnecting} {
				if s := rw.Series[m]; s != nil && s.Hist != nil {
					h = s.Hist
					break
				}
			}
		} else {
			r.Requests = uint64(rw.Get(metrics.HTTPReqs).Sum)
			r.Failures = rw.Get(metrics.HTTPReqFailed).Trues
			h = rw.Get(metrics.HTTPReqDuration).Hist
		}
		nan := Num(math.NaN())
		r.Median, r.P90, r.P95, r.P99, r.Avg, r.Min, r.Max, r.AvgSize = nan, nan, nan, nan, nan, nan, nan, nan
		if h != nil && h.Count > 0 {
			r.Median, r.P90, r.P95, r.P99 = Num(h.Quantile(0.5)), Num(h.Quantile(0.9)), Num(h.Quantile(0.95)), Num(h.Quantile(0.99))
			r.Avg, r.Min, r.Max = Num(h.Mean()), Num(h.Min), Num(h.Max)
		}
		if r.Requests > 0 && !rw.WS {
			r.AvgSize = Num(rw.Get(metrics.DataReceived).Sum / float64(r.Requests))
		}
		r.RPS, r.FailRate = float64(r.Requests)/secs, float64(r.Failures)/secs
		r.CurRPS, r.CurFailRate = tl.current(r.Scenario, r.Step)
		out = append(out, r)
	}
	return out
}

// errorRows lists errors and ws_errors by place and kind, most frequent first (the terminal
// summary's errors table).
func errorRows(rep *summary.Report) []ErrorRow {
	out := []ErrorRow{}
	for _, e := range rep.ErrorCounts() {
		out = append(out, ErrorRow{Where: e.Where, Kind: e.Kind, Count: e.Count})
	}
	return out
}
