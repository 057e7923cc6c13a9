package summary

import (
	"sort"
	"strconv"

	"github.com/loadplan/loadplan/metrics"
)

// StepSeries is one step's series merged across status and label: a row of the summary's step
// tables, for renderings outside this package (the web UI, the HTML report).
type StepSeries struct {
	Tags   metrics.Tags
	WS     bool // a WebSocket step (its connection or one of its message steps)
	Series map[metrics.Metric]*metrics.Series
}

// Get returns the row's series of m, empty when it has none.
func (s StepSeries) Get(m metrics.Metric) *metrics.Series {
	if x := s.Series[m]; x != nil {
		return x
	}
	return &metrics.Series{Key: metrics.Key{Metric: m}}
}

// StepRows returns the rows of the step tables, in plan order when the plan is known: the steps
// that made HTTP requests (or attempts) and the WebSocket steps.
func (r *Report) StepRows() []StepSeries {
	var out []StepSeries
	for _, rw := range r.rows() {
		ws := rw.isWS()
		if !ws && rw.series[metrics.HTTPReqs] == nil && rw.series[metrics.HTTPReqFailed] == nil {
			continue
		}
		out = append(out, StepSeries{Tags: rw.tags, WS: ws, Series: rw.series})
	}
	return out
}

// CheckCount is one check's passes out of its total, by scenario and step.
type CheckCount struct {
	Scenario, Step, Name string
	Passes, Total        uint64
}

// CheckCounts returns the checks, in the order of the summary's checks table.
func (r *Report) CheckCounts() []CheckCount {
	var out []CheckCount
	for _, c := range r.checkRows() {
		out = append(out, CheckCount{Scenario: c.scenario, Step: c.step, Name: c.name, Passes: c.pass, Total: c.total})
	}
	return out
}

// ErrorCount is one row of the errors table: the errors and ws_errors of one place (scenario or
// scenario/step) and kind ("timeout", "websocket read", "status (503)").
type ErrorCount struct {
	Where, Kind string
	Count       float64
}

// ErrorCounts lists what ended iterations or failed connections (errors, ws_errors) by place and
// kind, most frequent first, like Locust's failures table: the terminal summary and the web view
// both show it.
func (r *Report) ErrorCounts() []ErrorCount {
	idx := map[[2]string]int{}
	var rows []ErrorCount
	for _, s := range r.Series {
		if s.Key.Metric != metrics.Errors && s.Key.Metric != metrics.WSErrors {
			continue
		}
		where := ""
		if t := s.Key.Tags; t != nil {
			where = t.Scenario
			if t.Step != "" {
				where += "/" + t.Step
			}
		}
		kind := s.Key.Label
		if kind == "" {
			kind = "error"
		}
		if s.Key.Metric == metrics.WSErrors {
			kind = "websocket " + kind
		}
		if s.Key.Status != 0 {
			kind += " (" + strconv.Itoa(s.Key.Status) + ")"
		}
		k := [2]string{where, kind}
		i, ok := idx[k]
		if !ok {
			i = len(rows)
			idx[k] = i
			rows = append(rows, ErrorCount{Where: where, Kind: kind})
		}
		rows[i].Count += s.Sum
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Count > rows[j].Count })
	return rows
}
