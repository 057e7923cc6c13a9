package summary

import "github.com/loadplan/loadplan/metrics"

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
