package prometheus

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/loadplan/loadplan/metrics"
)

// labelOrder is the order of the variable labels of a series; a series has only those whose
// value is non-empty (vus has none, iterations no method, name or status). The last is the
// family's own label: check for checks, error for errors and ws_errors.
var labelOrder = [...]string{"scenario", "task", "step", "target", "method", "name", "status"}

// seriesLabels returns the names and values of the labels of the series of k, leaving out the
// empty ones; extra is the name of the family's Sample.Label label, "" for none.
//
// Labels are a series' identity in Prometheus, not its Key: two keys whose labels are equal (two
// Tags pointers with the same fields, or tags that differ only in the group, which no label
// shows) are one series, so the collectors index series by identity (see identity) and never
// expose one label set twice — a registry refuses to gather that.
func seriesLabels(k metrics.Key, extra string) (names, values []string) {
	var v [len(labelOrder) + 1]string
	if t := k.Tags; t != nil {
		v[0], v[1], v[2], v[3], v[4], v[5] = t.Scenario, t.Task, t.Step, t.Target, t.Method, t.URL
	}
	if k.Status != 0 {
		v[6] = strconv.Itoa(k.Status)
	}
	all := labelOrder[:]
	if extra != "" {
		v[len(labelOrder)] = k.Label
		all = append(all[:len(all):len(all)], extra)
	}
	for i, name := range all {
		if v[i] == "" {
			continue
		}
		names = append(names, name)
		values = append(values, strings.ToValidUTF8(v[i], string(utf8.RuneError)))
	}
	return names, values
}

// identity renders a label set as a map key: names and values joined by bytes that a valid UTF-8
// value cannot hold.
func identity(names, values []string) string {
	var b strings.Builder
	for i, n := range names {
		b.WriteString(n)
		b.WriteByte(0xfe)
		b.WriteString(values[i])
		b.WriteByte(0xff)
	}
	return b.String()
}

// descs keeps one Desc per label-name set of a family: a family's series differ in which labels
// they have, so each set needs its own Desc (the Desc holds the label names). The mutex guards
// the map; Descs are immutable.
type descs struct {
	name, help  string
	constLabels prometheus.Labels

	mu     sync.Mutex
	byName map[string]*prometheus.Desc
}

func newDescs(name, help string, constLabels prometheus.Labels) *descs {
	return &descs{name: name, help: help, constLabels: constLabels, byName: map[string]*prometheus.Desc{}}
}

// desc returns the Desc of the series with these label names.
func (d *descs) desc(names []string) *prometheus.Desc {
	key := strings.Join(names, ",")
	d.mu.Lock()
	defer d.mu.Unlock()
	if x, ok := d.byName[key]; ok {
		return x
	}
	x := prometheus.NewDesc(d.name, d.help, names, d.constLabels)
	d.byName[key] = x
	return x
}

// scalarVec is the family of one counter or gauge. client_golang's CounterVec and GaugeVec give
// every series of a family the same label names, so a series without a scenario (vus) or a
// status (iterations) would expose scenario="" and status=""; scalarVec keeps a value per series
// and builds each series at scrape time with only its own labels (a Desc per label-name set).
//
// The cost per delta stays that of a CounterVec's child: EmitSeries resolves a series once per
// key (with), then adds to it with one atomic operation, without the lock.
//
// mu guards series: with (Manager's goroutine) adds to it, Collect (a scrape's) reads it; the
// values are atomic.
type scalarVec struct {
	typ prometheus.ValueType
	seriesSet[scalar]
}

// seriesSet is the series of one family: indexed by their label identity, kept in creation order
// (for a stable Collect), each made on first use with the Desc of its label-name set. mu guards
// series and order (and whatever the owner says it also guards).
type seriesSet[S any] struct {
	descs *descs

	mu     sync.Mutex
	series map[string]*S // by identity
	order  []*S          // in creation order
}

func newSeriesSet[S any](name, help string, constLabels prometheus.Labels) seriesSet[S] {
	return seriesSet[S]{descs: newDescs(name, help, constLabels), series: map[string]*S{}}
}

// with returns the series with these labels, making it with mk (given the Desc of its label
// names) on first use.
func (ss *seriesSet[S]) with(names, values []string, mk func(*prometheus.Desc) *S) *S {
	id := identity(names, values)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if s := ss.series[id]; s != nil {
		return s
	}
	s := mk(ss.descs.desc(names))
	ss.series[id] = s
	ss.order = append(ss.order, s)
	return s
}

// scalar is one series of a scalarVec.
type scalar struct {
	desc    *prometheus.Desc
	values  []string
	bits    atomic.Uint64 // math.Float64bits of the value
	created time.Time
}

func newScalarVec(name, help string, typ prometheus.ValueType, constLabels prometheus.Labels) *scalarVec {
	return &scalarVec{typ: typ, seriesSet: newSeriesSet[scalar](name, help, constLabels)}
}

// with returns the series with these labels, making it on first use.
func (v *scalarVec) with(names, values []string) *scalar {
	return v.seriesSet.with(names, values, func(d *prometheus.Desc) *scalar {
		return &scalar{desc: d, values: values, created: time.Now()}
	})
}

// add adds x (counters).
func (s *scalar) add(x float64) {
	for {
		old := s.bits.Load()
		if s.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+x)) {
			return
		}
	}
}

// set sets the value (gauges).
func (s *scalar) set(x float64) { s.bits.Store(math.Float64bits(x)) }

func (s *scalar) value() float64 { return math.Float64frombits(s.bits.Load()) }

// Describe implements prometheus.Collector. It describes nothing: the family's series have
// different label names, which a checked collector may not (the registry takes an unchecked
// collector's metrics as they come and still refuses a label set gathered twice).
func (v *scalarVec) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector: each series as a const metric, whose label pairs are
// checked against its Desc as a CounterVec's would be.
func (v *scalarVec) Collect(ch chan<- prometheus.Metric) {
	v.mu.Lock()
	all := v.order[:len(v.order):len(v.order)]
	v.mu.Unlock()
	for _, s := range all {
		var m prometheus.Metric
		var err error
		if v.typ == prometheus.CounterValue {
			m, err = prometheus.NewConstMetricWithCreatedTimestamp(s.desc, v.typ, s.value(), s.created, s.values...)
		} else {
			m, err = prometheus.NewConstMetric(s.desc, v.typ, s.value(), s.values...)
		}
		if err == nil { // labels are made valid by seriesLabels; an error is a bug the tests catch
			ch <- m
		}
	}
}
