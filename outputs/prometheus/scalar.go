package prometheus

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

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
	typ   prometheus.ValueType
	descs *descs

	mu     sync.Mutex
	series map[string]*scalar // by identity
	order  []*scalar          // in creation order, for a stable Collect
}

// scalar is one series of a scalarVec.
type scalar struct {
	desc    *prometheus.Desc
	values  []string
	bits    atomic.Uint64 // math.Float64bits of the value
	created time.Time
}

func newScalarVec(name, help string, typ prometheus.ValueType, constLabels prometheus.Labels) *scalarVec {
	return &scalarVec{typ: typ, descs: newDescs(name, help, constLabels), series: map[string]*scalar{}}
}

// with returns the series with these labels, making it on first use.
func (v *scalarVec) with(names, values []string) *scalar {
	id := identity(names, values)
	v.mu.Lock()
	defer v.mu.Unlock()
	if s := v.series[id]; s != nil {
		return s
	}
	s := &scalar{desc: v.descs.desc(names), values: values, created: time.Now()}
	v.series[id] = s
	v.order = append(v.order, s)
	return s
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
