package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// printPlan writes the dry run for people.
func printPlan(w io.Writer, p *plan.Plan, s planSummary) {
	fmt.Fprintf(w, "Plan %s — nothing is sent by `loadplan plan`.\n", strings.Join(p.Files, ", "))
	if s.Segment != "" {
		fmt.Fprintf(w, "Segment %s: every figure below is this segment's share.\n", s.Segment)
	}
	if len(s.Variables) > 0 {
		fmt.Fprintln(w, "\nVariables:")
		for _, v := range s.Variables {
			fmt.Fprintf(w, "  %-16s = %s\n", v.Name, v.Value)
		}
	}
	if len(p.Targets) > 0 {
		fmt.Fprintln(w, "\nTargets:")
		for _, t := range p.Targets {
			base := t.BaseURL
			if t.Sensitive {
				base = "(sensitive)"
			}
			fmt.Fprintf(w, "  %-16s %s (timeout %s)\n", t.Name, base, t.Timeout)
			if px := t.ProxyShown(); px != "" {
				// user info masked: a proxy's credentials are secrets
				fmt.Fprintf(w, "  %-16s via proxy %s (net/http; the fast HTTP/1.1 path is off for this target)\n", "", px)
			}
			if t.Tracing != nil {
				fmt.Fprintf(w, "  %-16s tracing %s\n", "", t.Tracing.Describe())
			}
		}
	}
	if p.Tracing != nil {
		// header names only: otlp_headers values may be secrets
		fmt.Fprintf(w, "\nTracing: %s.\n", p.Tracing.Describe())
	}
	if len(p.Data) > 0 {
		fmt.Fprintln(w, "\nData:")
		for _, f := range p.Data {
			fmt.Fprintf(w, "  %-16s %s (%d rows, columns %s, %s)\n", f.Name, f.Path, len(f.Rows), strings.Join(f.Header, ", "), f.Mode)
		}
	}
	for _, ls := range s.Loads {
		printLoad(w, ls)
	}
	fmt.Fprintln(w, "\nScenarios:")
	totalWeight := 0
	for _, sc := range s.Scenarios {
		if sc.ps.Load == nil {
			totalWeight += sc.Weight
		}
	}
	for _, sc := range s.Scenarios {
		head := fmt.Sprintf("  %s", sc.Name)
		if sc.Target != "" {
			head += " → target " + sc.Target
		}
		if own := sc.ps.Load; own != nil {
			head += fmt.Sprintf(", own load (model %s)", own.Model)
		} else if shared := s.shared; shared != nil {
			head += fmt.Sprintf(", plan load (model %s), weight %d/%d", shared.Load.Model, sc.Weight, totalWeight)
			if totalWeight > sc.Weight {
				share := float64(sc.Weight) / float64(totalWeight)
				if shared.Load.Model == plan.ArrivalRate {
					head += fmt.Sprintf(" ≈ %s iterations/s at peak", num(math.Round(shared.PeakRate()*share*100)/100))
				} else {
					head += fmt.Sprintf(" ≈ %.0f VUs at peak", float64(shared.PeakVUs)*share)
				}
			}
		}
		fmt.Fprintln(w, head+pacingText(sc.flowSummary))
		printFlow(w, sc)
	}
	if len(s.Thresholds) > 0 {
		fmt.Fprintln(w, "\nThresholds:")
		for _, t := range s.Thresholds {
			extra := ""
			if t.Window != "" {
				extra += ", window " + t.Window
			}
			if t.Stage > 0 {
				extra += fmt.Sprintf(", stage %d", t.Stage)
			}
			if t.AbortOnFail {
				extra += ", aborts the run"
				if t.Delay != "" {
					extra += " after " + t.Delay
				}
			}
			fmt.Fprintf(w, "  %-40s %s%s\n", t.Name, strings.Join(t.Conditions, " and "), extra)
		}
	}
	if len(s.Outputs) > 0 {
		fmt.Fprintln(w, "\nOutputs:")
		for _, o := range s.Outputs {
			fmt.Fprintf(w, "  %s\n", outputText(o))
		}
	}
	fmt.Fprintf(w, "\nTotal: %s (+ graceful stop), peak %d VUs", s.Duration, s.PeakVUs)
	if s.ExpectedIters > 0 {
		fmt.Fprintf(w, ", %.0f iterations expected", s.ExpectedIters)
	}
	fmt.Fprintln(w, ".")
	fmt.Fprintf(w, "At peak: about %s open files and %s of memory (apply checks both before it starts).\n",
		thousands(s.OpenFilesAtPeak), byteSize(s.MemoryAtPeak))
}

func printLoad(w io.Writer, ls loadSummary) {
	sch := ls.sched
	fmt.Fprintf(w, "\nLoad (%s: %s), model %s, %s, graceful stop %s\n", ls.Scope, strings.Join(ls.Scenarios, ", "), ls.Model, ls.Duration, ls.GracefulStop)
	switch sch.Load.Model {
	case plan.PerVUIterations:
		fmt.Fprintf(w, "  %d VUs × %d iterations = %d iterations, at most %s\n", ls.VUs, ls.Iterations, ls.VUs*ls.Iterations, ls.Duration)
		return
	case plan.SharedIterations:
		fmt.Fprintf(w, "  %d VUs share %d iterations, at most %s\n", ls.VUs, ls.Iterations, ls.Duration)
		return
	}
	if sch.Load.Model == plan.ArrivalRate {
		fmt.Fprintf(w, "  %d pre-allocated VUs, at most %d; peak %s iterations/s, %.0f iterations expected\n",
			ls.PreAllocatedVUs, ls.PeakVUs, num(ls.PeakRate), ls.ExpectedIters)
		fmt.Fprintf(w, "  %-3s %-10s %-10s %-22s %s\n", "#", "start", "end", "iterations/s", "iterations")
		for i, st := range ls.Stages {
			fmt.Fprintf(w, "  %-3d %-10s %-10s %-22s %.0f\n", i+1, st.Start, st.End, num(st.From)+" → "+num(st.To), st.ExpectedIters)
		}
	} else {
		fmt.Fprintf(w, "  peak %d VUs\n", ls.PeakVUs)
		fmt.Fprintf(w, "  %-3s %-10s %-10s %s\n", "#", "start", "end", "VUs")
		for i, st := range ls.Stages {
			fmt.Fprintf(w, "  %-3d %-10s %-10s %s\n", i+1, st.Start, st.End, num(st.From)+" → "+num(st.To))
		}
	}
	fmt.Fprint(w, chart(sch, 60, 8))
}

func num(f float64) string {
	if f == math.Trunc(f) {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.2f", f)
}

// chart draws the VUs (users model) or iterations/s (arrival_rate) the executor runs over time,
// as columns of '#'.
func chart(l *executor.LoadSchedule, width, height int) string {
	total := l.Duration
	if total <= 0 {
		return ""
	}
	val := func(t time.Duration) float64 { return float64(l.VUs(t)) }
	unit := "VUs"
	top := float64(l.PeakVUs)
	if l.Load.Model == plan.ArrivalRate {
		val, unit, top = l.Rate, "it/s", l.PeakRate()
	}
	cols := make([]float64, width)
	for i := range cols {
		t := time.Duration((float64(i) + 0.5) / float64(width) * float64(total))
		cols[i] = val(t)
		top = max(top, cols[i])
	}
	if top == 0 {
		return ""
	}
	var sb strings.Builder
	label := num(top) + " " + unit
	pad := len(label)
	for row := height; row >= 1; row-- {
		lvl := top * (float64(row) - 0.5) / float64(height)
		if row == height {
			fmt.Fprintf(&sb, "  %*s ┤", pad, label)
		} else {
			fmt.Fprintf(&sb, "  %*s │", pad, "")
		}
		for _, c := range cols {
			if c >= lvl {
				sb.WriteByte('#')
			} else {
				sb.WriteByte(' ')
			}
		}
		sb.WriteByte('\n')
	}
	fmt.Fprintf(&sb, "  %*s └%s\n", pad, "0", strings.Repeat("─", width))
	end := total.String()
	fmt.Fprintf(&sb, "  %*s  0s%*s\n", pad, "", width-2, end)
	return sb.String()
}

// escapeLines writes each line through metrics.Escape: names, paths and CSV headers in the text
// for people cannot drive the terminal. Each Write must hold whole characters (fmt writes do).
type escapeLines struct{ w io.Writer }

func (e escapeLines) Write(b []byte) (int, error) {
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		lines[i] = metrics.Escape(l)
	}
	if _, err := io.WriteString(e.w, strings.Join(lines, "\n")); err != nil {
		return 0, err
	}
	return len(b), nil
}

// flowSummary is what a scenario does beyond one list of steps (issue 12): its per-VU setup and
// teardown, its tasks with their expected share of the iterations, its pacing.
type flowSummary struct {
	Setup               []string      `json:"setup,omitempty"`
	Tasks               []taskSummary `json:"tasks,omitempty"`
	Teardown            []string      `json:"teardown,omitempty"`
	Pacing              string        `json:"pacing,omitempty"`
	IterationsPerSecond float64       `json:"iterations_per_second,omitempty"`
}

type taskSummary struct {
	Name    string   `json:"name"`
	Weight  float64  `json:"weight"`
	Percent float64  `json:"percent"` // of the iterations, as every task's when held; one decimal
	When    string   `json:"when,omitempty"`
	Steps   []string `json:"steps"`
}

// summarizeFlow fills a scenario's summary with its step lists. The task mix is the weights'
// shares, a pure function of the plan, so the same plan always prints the same mix.
func summarizeFlow(ss *scenSummary, sc *plan.Scenario) {
	ss.Steps = stepListLines(sc.Steps)
	ss.Setup, ss.Teardown = stepListLines(sc.Setup), stepListLines(sc.Teardown)
	shares := sc.TaskShares()
	for i, t := range sc.Tasks {
		ts := taskSummary{Name: t.Name, Weight: t.Weight, Percent: math.Round(shares[i]*1000) / 10, Steps: stepListLines(t.Steps)}
		if t.When != nil {
			ts.When = t.When.Source
		}
		ss.Tasks = append(ss.Tasks, ts)
	}
	if sc.Pacing > 0 {
		ss.Pacing = sc.Pacing.String()
	}
	ss.IterationsPerSecond = sc.IterationsPerSecond
}

func stepListLines(steps []*plan.Step) []string {
	var out []string
	for _, st := range steps {
		out = append(out, stepLines(st)...)
	}
	return out
}

// stepLines describes a step: its first line, then indented lines of what it holds.
func stepLines(st *plan.Step) []string {
	var lines []string
	if r := st.Repeat; r != nil {
		head := fmt.Sprintf("repeat %d×", r.Count)
		switch {
		case r.While != nil:
			head = fmt.Sprintf("repeat while %s, at most %d×", r.While.Source, r.Max)
		case r.Until != nil:
			head = fmt.Sprintf("repeat until %s, at most %d×", r.Until.Source, r.Max)
		}
		lines = append(lines, head)
		for _, l := range stepListLines(r.Steps) {
			lines = append(lines, "  "+l)
		}
	} else {
		lines = stepKindLines(st)
	}
	if st.When != nil {
		lines[0] += " (when " + st.When.Source + ")"
	}
	return lines
}

func pacingText(f flowSummary) string {
	switch {
	case f.Pacing != "":
		return ", pacing " + f.Pacing + " per VU"
	case f.IterationsPerSecond > 0:
		return fmt.Sprintf(", %s iterations/s per VU", num(f.IterationsPerSecond))
	}
	return ""
}

// printFlow writes a scenario's setup, steps or tasks, and teardown.
func printFlow(w io.Writer, sc scenSummary) {
	if len(sc.Setup) > 0 {
		fmt.Fprintln(w, "    setup, once per VU:")
		printSteps(w, "  ", sc.Setup)
	}
	printSteps(w, "", sc.Steps)
	for _, t := range sc.Tasks {
		line := fmt.Sprintf("    task %s: weight %s, %.1f%% of iterations", t.Name, num(t.Weight), t.Percent)
		if t.When != "" {
			line += " (when " + t.When + ")"
		}
		fmt.Fprintln(w, line)
		printSteps(w, "  ", t.Steps)
	}
	if len(sc.Teardown) > 0 {
		fmt.Fprintln(w, "    teardown, once per VU:")
		printSteps(w, "  ", sc.Teardown)
	}
}

// printSteps numbers the steps; the lines of what a step holds (indented) follow it unnumbered.
func printSteps(w io.Writer, indent string, lines []string) {
	n := 0
	for _, st := range lines {
		if strings.HasPrefix(st, "  ") {
			fmt.Fprintf(w, "%s       %s\n", indent, st)
		} else {
			n++
			fmt.Fprintf(w, "%s    %d. %s\n", indent, n, st)
		}
	}
}
