package ui

import (
	"sort"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/run"
)

// Status is the run's status as the page shows it: the progress bar and the header.
type Status struct {
	Phase       string  `json:"phase"`
	Elapsed     float64 `json:"elapsed"` // seconds
	Total       float64 `json:"total"`   // seconds planned; 0 when open-ended
	Stage       int     `json:"stage"`
	StageCount  int     `json:"stageCount"`
	VUs         int     `json:"vus"`
	MaxVUs      int     `json:"maxVUs"`
	Iterations  uint64  `json:"iterations"`
	Dropped     uint64  `json:"dropped"`
	Interrupted bool    `json:"interrupted"`
	AbortReason string  `json:"abortReason,omitempty"`
}

func statusOf(s run.Status) Status {
	return Status{Phase: s.Phase.String(), Elapsed: s.Elapsed.Seconds(), Total: s.Total.Seconds(), Stage: s.Stage,
		StageCount: s.StageCount, VUs: s.VUs, MaxVUs: s.MaxVUs, Iterations: s.Iterations, Dropped: s.Dropped,
		Interrupted: s.Interrupted, AbortReason: s.AbortReason}
}

// maxPoints bounds a chart's points: past it, neighbouring points are merged two into one, so
// a frame stays small however long the run.
const maxPoints = 600

// viewBuilder folds a run's snapshots into what the page draws: per-interval points (a
// snapshot's cumulative counts minus the previous one's) and the per-step table.
type viewBuilder struct {
	start     time.Time
	prevAt    time.Time
	prevReqs  float64
	prevFails uint64
	points    []point
	last      []*metrics.Series
	verdicts  []metrics.Verdict
}

// point is one interval: seconds since the start, requests/s, failures/s, VUs.
type point struct {
	T, RPS, FPS float64
	VUs         int
	dt          float64 // the interval's length, to merge points by weight
}

func newViewBuilder() *viewBuilder { return &viewBuilder{} }

func (b *viewBuilder) add(s run.Snapshot) {
	reqs := metrics.Combine(s.Series, metrics.HTTPReqs, nil)
	fails := metrics.Combine(s.Series, metrics.HTTPReqFailed, nil)
	if b.start.IsZero() {
		b.start = s.Status.Start
		if b.start.IsZero() {
			b.start = s.At
		}
		b.prevAt = b.start
	}
	if dt := s.At.Sub(b.prevAt).Seconds(); dt > 0 {
		b.points = append(b.points, point{T: s.At.Sub(b.start).Seconds(), RPS: (reqs.Sum - b.prevReqs) / dt,
			FPS: float64(fails.Trues-b.prevFails) / dt, VUs: s.Status.VUs, dt: dt})
		if len(b.points) > maxPoints {
			b.points = halve(b.points)
		}
	}
	b.prevAt, b.prevReqs, b.prevFails = s.At, reqs.Sum, fails.Trues
	b.last, b.verdicts = s.Series, s.Verdicts
}

// halve merges neighbouring points, weighting the rates by the intervals' lengths.
func halve(ps []point) []point {
	out := ps[:0]
	for i := 0; i+1 < len(ps); i += 2 {
		a, c := ps[i], ps[i+1]
		dt := a.dt + c.dt
		out = append(out, point{T: c.T, RPS: (a.RPS*a.dt + c.RPS*c.dt) / dt, FPS: (a.FPS*a.dt + c.FPS*c.dt) / dt, VUs: c.VUs, dt: dt})
	}
	if len(ps)%2 == 1 {
		out = append(out, ps[len(ps)-1])
	}
	return out
}

// liveView is the page's model of a run until the shared webview model replaces it.
type liveView struct {
	Series [][]float64 `json:"series"` // [t], [rps], [fps], [vus]
	Rows   []row       `json:"rows"`
	Total  row         `json:"total"`
	Checks []verdict   `json:"thresholds"`
}

type row struct {
	Name     string  `json:"name"`
	Requests float64 `json:"requests"`
	Failures uint64  `json:"failures"`
	P95      float64 `json:"p95"`
}

type verdict struct {
	Name  string `json:"name"`
	Pass  bool   `json:"pass"`
	Value string `json:"value"`
}

func (b *viewBuilder) view() any {
	v := liveView{Series: make([][]float64, 4)}
	for _, p := range b.points {
		v.Series[0] = append(v.Series[0], p.T)
		v.Series[1] = append(v.Series[1], p.RPS)
		v.Series[2] = append(v.Series[2], p.FPS)
		v.Series[3] = append(v.Series[3], float64(p.VUs))
	}
	steps := map[string]bool{}
	for _, s := range b.last {
		if s.Key.Metric == metrics.HTTPReqs {
			st, _ := s.Key.Tag("step")
			steps[st] = true
		}
	}
	names := make([]string, 0, len(steps))
	for n := range steps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v.Rows = append(v.Rows, b.row(n, func(k metrics.Key) bool { st, _ := k.Tag("step"); return st == n }))
	}
	v.Total = b.row("Aggregated", nil)
	for _, vd := range b.verdicts {
		v.Checks = append(v.Checks, verdict{Name: vd.Name, Pass: vd.Pass, Value: vd.Summary()})
	}
	return v
}

func (b *viewBuilder) row(name string, keep func(metrics.Key) bool) row {
	r := row{Name: name, Requests: metrics.Combine(b.last, metrics.HTTPReqs, keep).Sum,
		Failures: metrics.Combine(b.last, metrics.HTTPReqFailed, keep).Trues}
	if d := metrics.Combine(b.last, metrics.HTTPReqDuration, keep); d.Hist != nil {
		r.P95 = d.Hist.Quantile(0.95)
	}
	return r
}
