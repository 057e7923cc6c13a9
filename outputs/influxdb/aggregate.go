package influxdb

import (
	"strconv"
	"sync"
	"time"

	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/loadplan/loadplan/metrics"
)

// agg is one series' samples within one interval.
type agg struct {
	count    uint64
	sum      float64
	trues    uint64
	last     float64
	min, max float64
	hist     *metrics.Histogram // trends only
}

func (a *agg) add(s *metrics.Sample) {
	if a.count == 0 || s.Value < a.min {
		a.min = s.Value
	}
	if a.count == 0 || s.Value > a.max {
		a.max = s.Value
	}
	a.count++
	a.sum += s.Value
	a.last = s.Value
	if s.Value != 0 {
		a.trues++
	}
	if a.hist != nil {
		a.hist.Record(s.Value)
	}
}

func (a *agg) reset() {
	h := a.hist
	*a = agg{hist: h}
	if h != nil {
		h.Reset()
	}
}

// aggregator double-buffers the per-series aggregates: Emit adds to cur under mu; the flusher
// swaps cur and spare under mu (a pointer swap) and reads the old interval without it. The
// entries are reset and kept, so a steady run allocates nothing per interval but the points.
type aggregator struct {
	mu    sync.Mutex // guards cur (Emit's goroutine and the swap)
	cur   map[metrics.Key]*agg
	spare map[metrics.Key]*agg // flusher goroutine only
	tags  map[metrics.Key]map[string]string
}

func (g *aggregator) init() {
	g.cur = make(map[metrics.Key]*agg)
	g.spare = make(map[metrics.Key]*agg)
	g.tags = make(map[metrics.Key]map[string]string)
}

func (g *aggregator) add(batch []metrics.Sample) {
	g.mu.Lock()
	for i := range batch {
		s := &batch[i]
		k := metrics.KeyOf(s)
		a := g.cur[k]
		if a == nil {
			a = &agg{}
			if s.Metric.Kind() == metrics.Trend {
				a.hist = &metrics.Histogram{}
			}
			g.cur[k] = a
		}
		a.add(s)
	}
	g.mu.Unlock()
}

// points closes the interval and returns one point per series that had samples, stamped at.
// Only the flusher goroutine calls it.
func (g *aggregator) points(at time.Time, testID, segment string) []*write.Point {
	g.mu.Lock()
	old := g.cur
	g.cur, g.spare = g.spare, old
	g.mu.Unlock()

	var out []*write.Point
	for k, a := range old {
		if a.count == 0 {
			continue
		}
		p := write.NewPointWithMeasurement(k.Metric.String()).SetTime(at)
		for name, v := range g.tagsOf(k, testID, segment) {
			p.AddTag(name, v)
		}
		switch k.Metric.Kind() {
		case metrics.Trend:
			p.AddField("count", int64(a.count)).AddField("sum", a.sum).AddField("mean", a.sum/float64(a.count)).
				AddField("min", a.min).AddField("max", a.max).
				AddField("p50", a.hist.Quantile(0.50)).AddField("p90", a.hist.Quantile(0.90)).
				AddField("p95", a.hist.Quantile(0.95)).AddField("p99", a.hist.Quantile(0.99))
		case metrics.Counter:
			p.AddField("count", int64(a.count)).AddField("value", a.sum)
		case metrics.Rate:
			p.AddField("count", int64(a.count)).AddField("trues", int64(a.trues)).
				AddField("rate", float64(a.trues)/float64(a.count))
		default: // gauge
			p.AddField("value", a.last).AddField("min", a.min).AddField("max", a.max)
		}
		out = append(out, p)
		a.reset()
	}
	return out
}

// tagsOf returns the point tags of a series, computed once per series. Empty values are left
// out: the line protocol has no empty tag.
func (g *aggregator) tagsOf(k metrics.Key, testID, segment string) map[string]string {
	if t, ok := g.tags[k]; ok {
		return t
	}
	t := make(map[string]string, 10)
	set := func(name, v string) {
		if v != "" {
			t[name] = v
		}
	}
	set("testid", testID)
	set("segment", segment)
	if k.Tags != nil {
		set("scenario", k.Tags.Scenario)
		set("step", k.Tags.Step)
		set("target", k.Tags.Target)
		set("method", k.Tags.Method)
		set("url", k.Tags.URL)
	}
	if k.Status != 0 {
		set("status", strconv.Itoa(k.Status))
	}
	if k.Label != "" {
		if k.Metric == metrics.Checks {
			set("check", k.Label)
		} else {
			set("error", k.Label)
		}
	}
	g.tags[k] = t
	return t
}
