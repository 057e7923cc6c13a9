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

// slot is one series: its key, its point tags (computed once, by the flusher) and two
// aggregates, one filling while the flusher reads the other.
type slot struct {
	key  metrics.Key
	a    [2]agg
	tags map[string]string // flusher goroutine only
}

// aggregator folds samples into per-series slots. Emit adds to side cur of each slot under mu;
// the flusher flips cur under mu (so a batch never straddles two intervals) and then reads the
// other side without it. Series are found by pointer (tag set, then metric and status), not by
// hashing labels; slots are kept and reset, so a steady run allocates nothing per interval but
// the points.
type aggregator struct {
	mu    sync.Mutex // guards cur, slots, index
	cur   int
	slots []*slot
	index *metrics.Index[*slot]
}

func (g *aggregator) init() {
	g.index = metrics.NewIndex(g.newSlot)
}

func (g *aggregator) newSlot(k metrics.Key) *slot {
	sl := &slot{key: k}
	if k.Metric.Kind() == metrics.Trend {
		sl.a[0].hist, sl.a[1].hist = &metrics.Histogram{}, &metrics.Histogram{}
	}
	g.slots = append(g.slots, sl)
	return sl
}

func (g *aggregator) add(batch []metrics.Sample) {
	g.mu.Lock()
	for i := range batch {
		g.index.Lookup(&batch[i]).a[g.cur].add(&batch[i])
	}
	g.mu.Unlock()
}

// points closes the interval and returns one point per series that had samples, stamped at.
// Only the flusher goroutine calls it.
func (g *aggregator) points(at time.Time, testID, segment string) []*write.Point {
	g.mu.Lock()
	side := g.cur
	g.cur ^= 1
	slots := g.slots // slots appended later have nothing on this side
	g.mu.Unlock()

	var out []*write.Point
	for _, sl := range slots {
		a := &sl.a[side]
		if a.count == 0 {
			continue
		}
		k := sl.key
		if sl.tags == nil {
			sl.tags = tagsOf(k, testID, segment)
		}
		p := write.NewPointWithMeasurement(k.Metric.String()).SetTime(at)
		for name, v := range sl.tags {
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
func tagsOf(k metrics.Key, testID, segment string) map[string]string {
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
		set("task", k.Tags.Task)
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
	return t
}
