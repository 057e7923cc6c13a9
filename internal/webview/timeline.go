package webview

import (
	"math"
	"time"

	"github.com/loadplan/loadplan/outputs/summary"
)

// Timeline is the over-time charts' data, columnar (uPlot's layout): T is the x axis, every
// column has one value per bucket, null where nothing was measured. At most
// summary.TimelineMaxBuckets buckets (the width doubles past it), and one TimeSeries overall,
// one per scenario and one per step, so its size is bounded by 600 × (2 + scenarios + steps)
// × 8 numbers whatever the run's length.
type Timeline struct {
	Width      float64      `json:"width"` // bucket width, seconds
	T          []float64    `json:"t"`     // bucket start, Unix seconds
	VUs        Column       `json:"vus"`   // most active VUs in the bucket
	Iterations Column       `json:"iterationsPerSec"`
	Dropped    Column       `json:"droppedPerSec"` // dropped iterations (arrival rate)
	Series     []TimeSeries `json:"series"`        // [0] is the whole run
}

// TimeSeries is one selectable line set: the whole run, a scenario or a step. Latencies are
// milliseconds; the overall and scenario series hold the HTTP steps' latencies and rates, and
// the WebSocket steps' sessions and frames.
type TimeSeries struct {
	Name     string `json:"name"` // "all", "scenario rest", "rest/login"
	Kind     string `json:"kind"` // "all", "scenario", "step"
	Scenario string `json:"scenario,omitempty"`
	Step     string `json:"step,omitempty"`
	WS       bool   `json:"ws,omitempty"`
	RPS      Column `json:"rps"`
	FailRate Column `json:"failuresPerSec"`
	P50      Column `json:"p50"`
	P95      Column `json:"p95"`
	P99      Column `json:"p99"`
	Sessions Column `json:"sessionsPerSec"`
	Frames   Column `json:"framesPerSec"`
}

// buildTimeline computes the charts' columns from the report's timeline; nil when it has none.
func buildTimeline(rep *summary.Report) *Timeline {
	raw := rep.Timeline
	if raw == nil || len(raw.Buckets) == 0 || raw.Width <= 0 {
		return nil
	}
	n := len(raw.Buckets)
	width := time.Duration(raw.Width)
	tl := &Timeline{Width: width.Seconds(), T: make([]float64, n), VUs: make(Column, n), Iterations: make(Column, n), Dropped: make(Column, n)}
	secs := make([]float64, n) // each bucket's length within the run: the first and last are partial
	for i := range n {
		from, to := raw.At(i), raw.At(i).Add(width)
		if !rep.Start.IsZero() && rep.Start.After(from) && rep.Start.Before(to) {
			from = rep.Start
		}
		if !rep.End.IsZero() && rep.End.After(from) && rep.End.Before(to) {
			to = rep.End
		}
		secs[i] = math.Max(to.Sub(from).Seconds(), 0.05) // a sliver of a bucket must not make a spike
		tl.T[i] = float64(raw.At(i).UnixMilli()) / 1000
		b := raw.Buckets[i]
		if b == nil {
			tl.VUs[i], tl.Iterations[i], tl.Dropped[i] = Num(math.NaN()), 0, 0
			continue
		}
		tl.VUs[i], tl.Iterations[i], tl.Dropped[i] = Num(b.VUs), Num(b.Iterations/secs[i]), Num(b.Dropped/secs[i])
	}
	type sel struct {
		ts   TimeSeries
		keep func(c *summary.TimelineCell) bool
	}
	sels := []sel{{TimeSeries{Name: "all", Kind: "all"}, func(*summary.TimelineCell) bool { return true }}}
	steps := raw.Steps()
	seen := map[string]bool{}
	for _, st := range steps {
		if !seen[st.Scenario] {
			seen[st.Scenario] = true
			sc := st.Scenario
			sels = append(sels, sel{TimeSeries{Name: "scenario " + sc, Kind: "scenario", Scenario: sc},
				func(c *summary.TimelineCell) bool { return c.Scenario == sc }})
		}
	}
	for _, st := range steps {
		sc, name := st.Scenario, st.Step
		sels = append(sels, sel{TimeSeries{Name: sc + "/" + name, Kind: "step", Scenario: sc, Step: name, WS: st.WS},
			func(c *summary.TimelineCell) bool { return c.Scenario == sc && c.Step == name }})
	}
	for _, s := range sels {
		ts := s.ts
		ts.RPS, ts.FailRate, ts.P50, ts.P95, ts.P99 = make(Column, n), make(Column, n), make(Column, n), make(Column, n), make(Column, n)
		ts.Sessions, ts.Frames = make(Column, n), make(Column, n)
		for i, b := range raw.Buckets {
			var reqs, fails, sessions, frames uint64
			lat := &summary.CoarseHist{}
			if b != nil {
				for _, c := range b.Cells {
					if !s.keep(c) {
						continue
					}
					sessions += c.Sessions
					frames += c.Frames
					if c.WS && ts.Kind != "step" { // WebSocket expects are not HTTP requests
						continue
					}
					reqs += c.Reqs
					fails += c.Fails
					lat.Merge(c.Lat)
				}
			}
			ts.RPS[i], ts.FailRate[i] = Num(float64(reqs)/secs[i]), Num(float64(fails)/secs[i])
			ts.Sessions[i], ts.Frames[i] = Num(float64(sessions)/secs[i]), Num(float64(frames)/secs[i])
			ts.P50[i], ts.P95[i], ts.P99[i] = Num(lat.Quantile(0.5)), Num(lat.Quantile(0.95)), Num(lat.Quantile(0.99))
		}
		tl.Series = append(tl.Series, ts)
	}
	return tl
}

// current returns a step's requests and failures per second in the last complete bucket (the
// one before the last, which is still filling while the run goes on); NaN without a timeline.
func (tl *Timeline) current(scenario, step string) (Num, Num) {
	nan := Num(math.NaN())
	if tl == nil || len(tl.T) == 0 {
		return nan, nan
	}
	i := len(tl.T) - 1
	if i > 0 {
		i--
	}
	for _, s := range tl.Series {
		if s.Kind == "step" && s.Scenario == scenario && s.Step == step {
			return s.RPS[i], s.FailRate[i]
		}
	}
	return 0, 0
}
