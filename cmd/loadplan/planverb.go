package main

import (
	"flag"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/loadplan/loadplan/outputs/registry"
	"github.com/loadplan/loadplan/plan"
)

// runPlan is the dry run: `plan [-json] [-var k=v] [-var-file F] FILE...` loads the plan (several
// files form one plan) and prints what apply would do — targets, each load with its stages, the
// scenarios and steps, thresholds and outputs, total duration, peak VUs and a chart. It sends
// nothing. Exit 0, 104 invalid plan, 2 usage.
func runPlan(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonOut := fs.Bool("json", false, "print the plan as JSON")
	var pv planVars
	pv.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan plan [-json] [-var name=value] [-var-file FILE] FILE...")
		fmt.Fprintln(stderr, "Shows the compiled schedule of a plan; sends nothing. Exit 0, 104 invalid plan, 2 usage.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	files, err := findPlanFiles(fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "loadplan plan:", err)
		return exitUsage
	}
	p, code := loadPlan(files, &pv, stderr)
	if p == nil {
		return code
	}
	s := summarize(p)
	if *jsonOut {
		writeJSON(stdout, s)
		return exitOK
	}
	printPlan(escapeLines{stdout}, p, s)
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
	// OpenFilesAtPeak and MemoryAtPeak are apply's estimate, which it checks against the open-file
	// limit and the available memory before it starts (limits.go).
	OpenFilesAtPeak int    `json:"open_files_at_peak"`
	MemoryAtPeak    uint64 `json:"memory_at_peak_bytes"`
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
	load            *plan.Load
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
}

type thresholdSumm struct {
	Name        string   `json:"name"`
	Conditions  []string `json:"conditions"`
	AbortOnFail bool     `json:"abort_on_fail,omitempty"`
	Delay       string   `json:"delay,omitempty"`
	Window      string   `json:"window,omitempty"`
	Stage       int      `json:"stage,omitempty"`
}

func summarize(p *plan.Plan) planSummary {
	s := planSummary{Files: p.Files}
	for _, v := range p.Variables {
		s.Variables = append(s.Variables, varSummary{v.Name, v.Type, v.Value})
	}
	if p.Load != nil {
		var names []string
		for _, sc := range p.Scenarios {
			if sc.Load == nil {
				names = append(names, sc.Name)
			}
		}
		s.Loads = append(s.Loads, summarizeLoad("plan", names, p.Load))
	}
	for _, sc := range p.Scenarios {
		if sc.Load != nil {
			s.Loads = append(s.Loads, summarizeLoad("scenario "+sc.Name, []string{sc.Name}, sc.Load))
		}
		ss := scenSummary{Name: sc.Name, Weight: sc.Weight, Load: "plan"}
		if sc.Load != nil {
			ss.Load = "own"
		}
		if sc.Target != nil {
			ss.Target = sc.Target.Name
		}
		for _, st := range sc.Steps {
			ss.Steps = append(ss.Steps, stepLines(st)...)
		}
		s.Scenarios = append(s.Scenarios, ss)
	}
	var total time.Duration
	for _, ls := range s.Loads {
		total = max(total, ls.load.Duration())
		s.ExpectedIters += ls.ExpectedIters
	}
	s.Duration, s.DurationSeconds = total.String(), total.Seconds()
	s.PeakVUs = peakVUs(s.Loads)
	need := estimateNeed(p, needInput{outs: p.Outputs})
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

func summarizeLoad(scope string, scen []string, l *plan.Load) loadSummary {
	ls := loadSummary{Scope: scope, Scenarios: scen, Model: string(l.Model), load: l,
		Duration: l.Duration().String(), DurationSeconds: l.Duration().Seconds(),
		GracefulStop: l.GracefulStop.String(), PeakVUs: l.PeakVUs(), PeakRate: l.PeakRate(),
		ExpectedIters: l.ExpectedIterations()}
	switch l.Model {
	case plan.PerVUIterations, plan.SharedIterations:
		ls.VUs, ls.Iterations = l.VUs, l.Iterations
		return ls
	}
	from := float64(l.StartVUs)
	unit := "vus"
	if l.Model == plan.ArrivalRate {
		from, unit = l.RateAt(0), "iterations/s"
	}
	for i, st := range l.Stages {
		end := l.StageStart(i) + st.Duration
		to := st.Target
		if l.Model == plan.ArrivalRate {
			to = st.Target / l.TimeUnit.Seconds()
		}
		ls.Stages = append(ls.Stages, stageSummary{Start: l.StageStart(i).String(), End: end.String(),
			From: from, To: to, Unit: unit, ExpectedIters: l.StageIterations(i)})
		from = to
	}
	return ls
}

// peakVUs is the most VUs running at once across loads that run concurrently: each load's VUs are
// piecewise linear, so the maximum of their sum is at a stage boundary of one of them.
func peakVUs(loads []loadSummary) int {
	points := []time.Duration{0}
	for _, ls := range loads {
		for i := range ls.load.Stages {
			points = append(points, ls.load.StageStart(i+1))
		}
	}
	sort.Slice(points, func(i, j int) bool { return points[i] < points[j] })
	peak := 0.0
	for _, t := range points {
		sum := 0.0
		for _, ls := range loads {
			l := ls.load
			switch l.Model {
			case plan.Users:
				sum += l.VUsAt(t)
			case plan.ArrivalRate:
				if t < l.Duration() || t == 0 {
					sum += float64(l.MaxVUs)
				}
			default:
				sum += float64(l.VUs)
			}
		}
		peak = max(peak, sum)
	}
	return int(peak + 0.5)
}

func stepLines(st *plan.Step) []string {
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

func wsStepText(s *plan.WSStep) string {
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
