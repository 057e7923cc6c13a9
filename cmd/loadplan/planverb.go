package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/outputs/registry"
	"github.com/loadplan/loadplan/plan"
)

// runPlan is the dry run: `plan [-json] [-var k=v] [-var-file F] [--duration D] [--vus N]
// [--scenario NAME] [--segment I/N] FILE...` loads the plan (several files form one plan),
// compiles it as apply would with the same flags, and prints what apply would do — targets, each
// load with its stages as the executor runs them, the scenarios and steps, thresholds and outputs,
// total duration, peak VUs and a chart. It sends nothing. Exit 0, 104 invalid plan (or one the
// executor cannot compile), 2 usage.
func runPlan(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonOut := fs.Bool("json", false, "print the plan as JSON")
	var rf runFlags
	rf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan plan [--json] [--var name=value] [--var-file FILE] [--duration D] [--vus N [--spawn-rate R]] [--host URL] [--scenario NAME] [--tag NAME] [--segment I/N] FILE...")
		fmt.Fprintln(stderr, "Shows the compiled schedule of a plan, with apply's overrides; sends nothing. Exit 0, 104 invalid plan, 2 usage.")
		printFlags(stderr, fs)
	}
	if err := rf.parse(fs, args); err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.Is(err, errNoPlanFile):
			fs.Usage()
		default:
			fmt.Fprintln(stderr, "loadplan plan:", err)
		}
		return exitUsage
	}
	p, code := loadPlan(rf.paths, &rf.vars, stderr)
	if p == nil {
		return code
	}
	var err error
	if rf.scenarios, err = rf.overrides(p); err != nil {
		fmt.Fprintln(stderr, "loadplan plan:", err)
		return exitUsage
	}
	e, err := executor.New(rf.executorConfig(p))
	if err != nil {
		fmt.Fprintln(stderr, "loadplan plan:", err)
		return exitInvalidPlan
	}
	s := summarize(p, e.Schedule())
	s.Segment = rf.segment.String()
	s.Spawn = rf.spawnNote()
	if p.Tracing != nil {
		s.Tracing = p.Tracing.Describe()
	}
	if *jsonOut {
		writeJSON(stdout, s)
		return exitOK
	}
	printPlan(escapeLines{stdout}, p, s)
	if s.Spawn != "" {
		fmt.Fprintf(stdout, "Spawn: %s.\n", s.Spawn)
	}
	return exitOK
}

// planSummary is the machine-readable dry run.
type planSummary struct {
	Files           []string         `json:"files"`
	Variables       []varSummary     `json:"variables"`
	Loads           []loadSummary    `json:"loads"`
	Scenarios       []scenSummary    `json:"scenarios"`
	Thresholds      []thresholdSumm  `json:"thresholds"`
	Outputs         []map[string]any `json:"outputs"`
	Duration        string           `json:"duration"`
	DurationSeconds float64          `json:"duration_seconds"`
	PeakVUs         int              `json:"peak_vus"`
	ExpectedIters   float64          `json:"expected_iterations,omitempty"`
	Segment         string           `json:"segment,omitempty"` // "2/4": every figure is this segment's share
	Spawn           string           `json:"spawn,omitempty"`   // what --vus N --spawn-rate R does, in words
	Tracing         string           `json:"tracing,omitempty"` // the plan's tracing block in words (Tracing.Describe)
	// OpenFilesAtPeak and MemoryAtPeak are apply's estimate, which it checks against the open-file
	// limit and the available memory before it starts (limits.go).
	OpenFilesAtPeak int                    `json:"open_files_at_peak"`
	MemoryAtPeak    uint64                 `json:"memory_at_peak_bytes"`
	shared          *executor.LoadSchedule // the plan-level load, nil without one
}

type varSummary struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

type loadSummary struct {
	Scope           string         `json:"scope"` // "plan" or "scenario NAME"
	Scenarios       []string       `json:"scenarios"`
	Model           string         `json:"model"`
	Stages          []stageSummary `json:"stages,omitempty"`
	VUs             int            `json:"vus,omitempty"`
	Iterations      int            `json:"iterations,omitempty"`
	Duration        string         `json:"duration"`
	DurationSeconds float64        `json:"duration_seconds"`
	GracefulStop    string         `json:"graceful_stop"`
	PeakVUs         int            `json:"peak_vus"`
	PeakRate        float64        `json:"peak_rate,omitempty"`
	ExpectedIters   float64        `json:"expected_iterations,omitempty"`
	PreAllocatedVUs int            `json:"pre_allocated_vus,omitempty"`
	sched           *executor.LoadSchedule
}

type stageSummary struct {
	Start         string  `json:"start"`
	End           string  `json:"end"`
	From          float64 `json:"from"`
	To            float64 `json:"to"`
	Unit          string  `json:"unit"` // "vus" or "iterations/s"
	ExpectedIters float64 `json:"expected_iterations,omitempty"`
}

type scenSummary struct {
	Name   string   `json:"name"`
	Target string   `json:"target,omitempty"`
	Weight int      `json:"weight"`
	Load   string   `json:"load"`
	Steps  []string `json:"steps"`
	flowSummary
	ps *plan.Scenario
}

type thresholdSumm struct {
	Name        string   `json:"name"`
	Conditions  []string `json:"conditions"`
	AbortOnFail bool     `json:"abort_on_fail,omitempty"`
	Delay       string   `json:"delay,omitempty"`
	Window      string   `json:"window,omitempty"`
	Stage       int      `json:"stage,omitempty"`
}

// summarize describes p as compiled into sched: the loads and scenarios that run, with the
// figures the executor runs (after --duration, --vus and the segment's share).
func summarize(p *plan.Plan, sched *executor.Schedule) planSummary {
	s := planSummary{Files: p.Files}
	for _, v := range p.Variables {
		s.Variables = append(s.Variables, varSummary{v.Name, v.Type, v.Value})
	}
	running := map[string]bool{}
	for _, ls := range sched.Loads {
		scope := "plan"
		if ls.Scenario != "" {
			scope = "scenario " + ls.Scenario
		} else {
			s.shared = ls
		}
		s.Loads = append(s.Loads, summarizeLoad(scope, ls))
		for _, name := range ls.Scenarios {
			running[name] = true
		}
	}
	for _, sc := range p.Scenarios {
		if !running[sc.Name] {
			continue
		}
		ss := scenSummary{Name: sc.Name, Weight: sc.Weight, Load: "plan", ps: sc}
		if sc.Load != nil {
			ss.Load = "own"
		}
		if sc.Target != nil {
			ss.Target = sc.Target.Name
		}
		summarizeFlow(&ss, sc)
		s.Scenarios = append(s.Scenarios, ss)
	}
	s.Duration, s.DurationSeconds = sched.Total.String(), sched.Total.Seconds()
	s.PeakVUs = sched.PeakVUs()
	s.ExpectedIters = sched.ExpectedIterations()
	need := needOf(p, sched, needInput{outs: p.Outputs}) // on the schedule shown, overrides and all
	s.OpenFilesAtPeak, s.MemoryAtPeak = need.files(), need.memory()
	for _, t := range p.Thresholds {
		ts := thresholdSumm{Name: t.Name, AbortOnFail: t.AbortOnFail, Stage: t.Stage}
		for _, c := range t.Conditions {
			ts.Conditions = append(ts.Conditions, c.Source)
		}
		if t.Delay > 0 {
			ts.Delay = t.Delay.String()
		}
		if t.Window > 0 {
			ts.Window = t.Window.String()
		}
		s.Thresholds = append(s.Thresholds, ts)
	}
	for _, o := range p.Outputs {
		s.Outputs = append(s.Outputs, outputFields(o))
	}
	return s
}

func summarizeLoad(scope string, ls *executor.LoadSchedule) loadSummary {
	l := ls.Load
	out := loadSummary{Scope: scope, Scenarios: ls.Scenarios, Model: string(l.Model), sched: ls,
		Duration: ls.Duration.String(), DurationSeconds: ls.Duration.Seconds(),
		GracefulStop: l.GracefulStop.String(), PeakVUs: ls.PeakVUs, PeakRate: ls.PeakRate(),
		ExpectedIters: ls.ExpectedIterations(), PreAllocatedVUs: ls.PreAllocatedVUs}
	switch l.Model {
	case plan.PerVUIterations, plan.SharedIterations:
		out.VUs, out.Iterations = ls.PeakVUs, ls.Iterations
		return out
	}
	unit := "vus"
	if l.Model == plan.ArrivalRate {
		unit = "iterations/s"
	}
	for _, st := range ls.Stages {
		out.Stages = append(out.Stages, stageSummary{Start: st.Start.String(), End: st.End.String(),
			From: st.From, To: st.To, Unit: unit, ExpectedIters: st.Iterations})
	}
	return out
}

// stepKindLines describes one http, websocket or sleep step (stepLines any step).
func stepKindLines(st *plan.Step) []string {
	switch st.Kind {
	case plan.HTTPStepKind:
		h := st.HTTP
		line := fmt.Sprintf("http %s: %s %s", h.Name, h.Method, h.URLTag)
		if n := len(h.Checks); n > 0 {
			line += fmt.Sprintf(", %d check%s", n, plural(n))
		}
		for _, c := range h.Captures {
			line += ", captures " + c.Name
		}
		return []string{line}
	case plan.SleepStepKind:
		return []string{"sleep " + thinkText(st.Sleep)}
	}
	ws := st.WebSocket
	lines := []string{fmt.Sprintf("websocket %s: %s (session %s)", ws.Name, ws.URLTag, ws.Session)}
	if ws.Reconnect != nil {
		r := ws.Reconnect
		lines = append(lines, fmt.Sprintf("  reconnect: up to %d attempts, %s backoff %s..%s", r.MaxAttempts, r.Backoff, r.Initial, r.Max))
	}
	for _, a := range ws.OnMessage {
		lines = append(lines, "  on_message "+a.Name)
	}
	for _, s := range ws.Steps {
		lines = append(lines, "  "+wsStepText(s))
	}
	return lines
}

func wsStepText(s *plan.WSAction) string {
	switch s.Kind {
	case plan.WSSend:
		if s.Repeat > 1 {
			return fmt.Sprintf("send %s ×%d every %s", s.Name, s.Repeat, s.Interval)
		}
		return "send " + s.Name
	case plan.WSExpect:
		return fmt.Sprintf("expect %s: %d frame%s within %s", s.Name, s.Count, plural(s.Count), s.Within)
	case plan.WSReceive:
		if s.ExpectRate > 0 {
			return fmt.Sprintf("receive %s for %s, at least %g frames/s", s.Name, s.Duration, s.ExpectRate)
		}
		return fmt.Sprintf("receive %s for %s", s.Name, s.Duration)
	case plan.WSSleep:
		return "sleep " + s.Duration.String()
	case plan.WSPing:
		return fmt.Sprintf("ping %s (timeout %s)", s.Name, s.Within)
	}
	return fmt.Sprintf("close with %d", s.CloseCode)
}

func thinkText(t plan.ThinkTime) string {
	if t.Min == t.Max {
		return t.Min.String()
	}
	return t.Min.String() + ".." + t.Max.String()
}

// outputFields describes an output by the attributes its kind lists (plan.AttrSpec.Show) that
// are not zero, each secret (an InfluxDB token, anything read with env()) as (sensitive).
func outputFields(o *plan.OutputBlock) map[string]any {
	m := map[string]any{"kind": o.Kind}
	k, ok := registry.Default.Kind(o.Kind)
	if !ok {
		return m
	}
	for _, a := range o.Attrs {
		spec := k.Schema.Spec(a.Name)
		if spec == nil || !spec.Show || a.Value == nil || reflect.ValueOf(a.Value).IsZero() {
			continue
		}
		m[a.Name] = a.Value
		if a.Secret {
			m[a.Name] = plan.Hidden
		}
	}
	return m
}

// outputText renders outputFields as one line, the attributes in the order of the kind's schema.
func outputText(m map[string]any) string {
	var parts []string
	if k, ok := registry.Default.Kind(fmt.Sprint(m["kind"])); ok {
		for _, spec := range k.Schema.Attrs {
			if v, ok := m[spec.Name]; ok {
				parts = append(parts, fmt.Sprintf("%s=%v", spec.Name, v))
			}
		}
	}
	return fmt.Sprintf("%-11s %s", m["kind"], strings.Join(parts, " "))
}
