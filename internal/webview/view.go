// Package webview is the view model and the renderer shared by the live web UI (`apply --ui`,
// `loadplan ui`) and the self-contained HTML report: a View holds everything a page shows, as
// JSON, and the embedded view.js draws it (tables, and charts with the embedded uPlot) without
// loading anything from the network.
//
// A View is built from a summary.Report: run.Snapshot.View builds one from a live run,
// FromReport from a finished run's or from merged segment summaries; the summary export carries
// one (its "loadplan" key) so that `loadplan report` renders a run's export again. A View never
// holds a secret: sensitive variables are "(sensitive)", and every name it shows comes from the
// plan's tags and labels, which are built with secrets hidden.
package webview

import (
	"encoding/json"
	"math"
	"strconv"
)

// Sensitive is what a View shows in place of a sensitive variable's value.
const Sensitive = "(sensitive)"

// View is everything a page shows about one run, live or finished. Its JSON form is what
// view.js renders and what the summary export embeds. Fields are only ever added.
type View struct {
	Meta       Meta        `json:"meta"`
	Progress   Progress    `json:"progress"`
	Totals     Totals      `json:"totals"`
	Thresholds []Threshold `json:"thresholds"`
	Steps      []StepRow   `json:"steps"` // HTTP and WebSocket steps, in plan order
	Checks     []Check     `json:"checks"`
	Errors     []ErrorRow  `json:"errors"` // most frequent first
	Stages     []Stage     `json:"stages"`
	Timeline   *Timeline   `json:"timeline,omitempty"`
	Notes      []string    `json:"notes,omitempty"` // saturation, interruption, incomplete files, ...
	// Comparison is the run judged against a baseline run (internal/compare), when one was given.
	Comparison *Comparison `json:"comparison,omitempty"`
}

// Comparison is a run judged against its baseline, step by step (internal/compare.Result).
type Comparison struct {
	Base        []string      `json:"base"` // the baseline's files
	Tolerance   float64       `json:"tolerance"`
	Steps       []CompareStep `json:"steps"`
	Regressions []string      `json:"regressions"`
}

// CompareStep is one step's comparison rows; without rows the step is in one run only.
type CompareStep struct {
	Name         string       `json:"name"` // scenario/step
	Verdict      string       `json:"verdict"`
	BaseRequests uint64       `json:"baseRequests"`
	NewRequests  uint64       `json:"newRequests"`
	Rows         []CompareRow `json:"rows"`
}

// CompareRow is one metric of a step: values in the metric's unit (ms, a fraction, per second).
type CompareRow struct {
	Metric  string `json:"metric"`
	Base    Num    `json:"base"`
	New     Num    `json:"new"`
	Change  Num    `json:"change"`
	P       Num    `json:"p"`
	Verdict string `json:"verdict"`
}

// Meta says which run this is and how it ended.
type Meta struct {
	Plan     string     `json:"plan"`                // the plan's name (file without folder and extension)
	PlanFile string     `json:"planFile,omitempty"`  // the plan file(s) as given
	Title    string     `json:"title,omitempty"`     // the summary's heading
	Segment  string     `json:"segment,omitempty"`   // "2/4", or the merged segments
	Version  string     `json:"version,omitempty"`   // loadplan's version
	Start    string     `json:"start,omitempty"`     // RFC 3339, UTC
	End      string     `json:"end,omitempty"`       // RFC 3339, UTC; "" while running
	Elapsed  float64    `json:"elapsed"`             // seconds
	Vars     []Variable `json:"variables,omitempty"` // sensitive ones as "(sensitive)"
	Phase    string     `json:"phase"`               // run.Phase: running, finishing, done, ...
	Final    bool       `json:"final"`               // the run is over and the figures final
	// Verdict is the exit code (0, 99, 105, ...) once Final; Status says it in words
	// ("passed", "thresholds failed", ...), also while running ("running").
	Verdict int    `json:"verdict"`
	Status  string `json:"status"`
	Pass    bool   `json:"pass"` // every threshold holds (so far)
}

// Variable is a plan variable and its value; never a secret's value.
type Variable struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// Progress is where a run is in its schedule.
type Progress struct {
	Elapsed    float64 `json:"elapsed"` // seconds
	Total      float64 `json:"total"`   // planned seconds, 0 when unknown
	Stage      int     `json:"stage"`   // 1-based; 0 before the start
	StageCount int     `json:"stageCount"`
	VUs        int     `json:"vus"`
	MaxVUs     int     `json:"maxVUs"`
	Iterations uint64  `json:"iterations"`
	Dropped    uint64  `json:"dropped"`
}

// Totals are the run's headline figures.
type Totals struct {
	Requests   uint64  `json:"requests"` // http_reqs
	Failures   uint64  `json:"failures"` // http_req_failed
	RPS        float64 `json:"rps"`
	Iterations float64 `json:"iterations"`
	DataSent   float64 `json:"dataSent"` // bytes
	DataRecv   float64 `json:"dataReceived"`
	WSSessions float64 `json:"wsSessions"`
	WSFrames   float64 `json:"wsFrames"`
	Checks     uint64  `json:"checks"`
	ChecksPass uint64  `json:"checksPassed"`
}

// Threshold is one threshold's verdict and observed values.
type Threshold struct {
	Name       string   `json:"name"`       // as in the plan, e.g. http_req_duration{scenario=rest}
	Conditions []string `json:"conditions"` // as written, e.g. "p(95) < 300ms"
	Observed   string   `json:"observed"`   // e.g. "p(95)=412.3ms"
	Scope      string   `json:"scope,omitempty"`
	Pass       bool     `json:"pass"`
	Skipped    bool     `json:"skipped,omitempty"` // a baseline bound judged without a baseline
	Aborted    bool     `json:"aborted,omitempty"` // its abort_on_fail stopped the run
}

// StepRow is one row of Locust's statistics table. Times are milliseconds; null (NaN) when
// there was no response. For a WebSocket step, Requests are its expects, Failures the failed
// ones, and the times its expect, ping or connect times.
type StepRow struct {
	Scenario string  `json:"scenario"`
	Step     string  `json:"step"`
	Kind     string  `json:"kind"` // "http" or "ws"
	Method   string  `json:"method,omitempty"`
	Requests uint64  `json:"requests"`
	Failures uint64  `json:"failures"`
	Median   Num     `json:"median"`
	P90      Num     `json:"p90"`
	P95      Num     `json:"p95"`
	P99      Num     `json:"p99"`
	Avg      Num     `json:"avg"`
	Min      Num     `json:"min"`
	Max      Num     `json:"max"`
	AvgSize  Num     `json:"avgSize"` // bytes received per request
	RPS      float64 `json:"rps"`
	FailRate float64 `json:"failuresPerSec"`
	// CurRPS and CurFailRate are the last complete interval's, when a timeline is known.
	CurRPS      Num `json:"currentRps"`
	CurFailRate Num `json:"currentFailuresPerSec"`
	// WebSocket only.
	Sessions   float64 `json:"sessions,omitempty"`
	FramesSent float64 `json:"framesSent,omitempty"`
	FramesRecv float64 `json:"framesReceived,omitempty"`
}

// Check is one check's pass count.
type Check struct {
	Scenario string  `json:"scenario"`
	Step     string  `json:"step"`
	Name     string  `json:"name"`
	Passes   uint64  `json:"passes"`
	Total    uint64  `json:"total"`
	Rate     float64 `json:"rate"` // passes / total, 0..1
}

// ErrorRow is one kind of error at one place, as in Locust's failures table.
type ErrorRow struct {
	Where string  `json:"where"` // scenario/step
	Kind  string  `json:"kind"`
	Count float64 `json:"count"`
}

// Stage is one stage of the load: its span from the run's start, in seconds.
type Stage struct {
	Index int     `json:"index"` // 1-based
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// Num is a float64 whose NaN is null in JSON (a time that was not measured, a gap in a chart).
type Num float64

// MarshalJSON writes NaN and infinities as null.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, round(f), 'f', -1, 64), nil
}

// UnmarshalJSON reads null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// Column is a chart's data column: NaN is null (a gap).
type Column []Num

// round keeps 4 significant decimals past the point for compact JSON: a chart or a table shows
// no more.
func round(f float64) float64 {
	if f == math.Trunc(f) || math.Abs(f) >= 1e15 {
		return f
	}
	return math.Round(f*1e4) / 1e4
}
