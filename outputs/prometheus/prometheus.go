// Package prometheus exposes a run's metrics for Prometheus to scrape, on an opt-in listener
// (default 127.0.0.1:9646), from a private registry.
//
// Names get the loadplan_ prefix and base units:
//
//   - trends of time become histograms in seconds with classic buckets and native (sparse)
//     buckets: loadplan_http_req_duration_seconds, loadplan_ws_expect_duration_seconds, …;
//   - counters end in _total, bytes in _bytes_total: loadplan_http_reqs_total,
//     loadplan_data_sent_bytes_total, loadplan_ws_msgs_received_total, …;
//   - gauges keep their name: loadplan_vus, loadplan_vus_max;
//   - rates become counters, so that a rate over any window and any label selection is a ratio
//     of two increases, which a gauge could not give:
//     http_req_failed is loadplan_http_req_failed_total (failed requests), to divide by
//     loadplan_http_reqs_total (a series of each per request's labels, so the division matches
//     series one to one; a second counter of all samples would repeat http_reqs). One exception:
//     an attempt that never left the machine (connection refused) is a failed sample without an
//     http_reqs one, so its failed series (no status) has no partner, as k6 counts it;
//     checks are loadplan_checks_passed_total (passed) and loadplan_checks_total (all);
//     ws_expect_failed is loadplan_ws_expect_failed_total (failed) and loadplan_ws_expects_total
//     (all expect steps).
//
// Labels: scenario, task, step, target, method, name (the URL template's path or the step's name
// tag — never an expanded URL), status, and check (checks) or error (errors, ws_errors); a series
// has only the labels whose value is non-empty (vus has none, iterations no method or status).
// testid and segment are constant labels of every series.
//
// The latency histograms (a trend whose deltas carry a sampled trace: http_req_duration,
// ws_connecting) carry exemplars with the trace_id and span_id of the latest sampled request of
// each classic bucket, on the classic buckets and the native histogram alike; the OpenMetrics
// exposition shows them.
package prometheus

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// DefaultListen is the listen address when the output does not give one.
const DefaultListen = "127.0.0.1:9646"

// Buckets are the classic histogram buckets, in seconds. Native buckets are kept as well for
// servers that scrape them.
var Buckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Output is the Prometheus output. Create it with New.
type Output struct {
	listen   string
	linger   time.Duration
	pushURL  string
	testID   string
	segment  string
	logf     func(string, ...any)
	reg      *prometheus.Registry
	families map[metrics.Metric]*family

	// The collectors of each series are resolved once per key, not per delta. Only the
	// Manager's goroutine (EmitSeries) touches the map; the collectors themselves are safe for
	// the concurrent scrape.
	index map[metrics.Key]*series

	ln      net.Listener
	srv     *http.Server
	done    chan struct{} // closed when the server has stopped serving
	scrapes scrapes
	// finalWait is the least and the most Stop waits for the final scrape (tests change it).
	finalWait [2]time.Duration
}

// family is the collectors of one metric.
type family struct {
	kind  metrics.Kind
	label string     // "check", "error" or "" — the name of the Sample.Label label
	value *scalarVec // counters, gauges, and a rate's samples whose value is true
	all   *scalarVec // a rate's every sample; nil where another metric counts them
	hist  *trendVec
}

func (f *family) collectors() []prometheus.Collector {
	var out []prometheus.Collector
	for _, c := range []*scalarVec{f.value, f.all} {
		if c != nil {
			out = append(out, c)
		}
	}
	if f.hist != nil {
		out = append(out, f.hist)
	}
	return out
}

// series is the resolved collectors of one metrics.Key.
type series struct {
	kind  metrics.Kind
	value *scalar
	all   *scalar
	hist  *trendSeries
	vec   *trendVec
}

// rateCounter names the counters of a rate: the samples whose value is true and, where no other
// metric counts them, all samples ("" for none).
type rateCounter struct {
	name, allName, allHelp string
}

var rateCounters = map[metrics.Metric]rateCounter{
	// Every request that has an http_req_failed sample has an http_reqs one with the same labels.
	metrics.HTTPReqFailed:  {name: "loadplan_http_req_failed_total"},
	metrics.Checks:         {"loadplan_checks_passed_total", "loadplan_checks_total", "checks evaluated, passed or failed"},
	metrics.WSExpectFailed: {"loadplan_ws_expect_failed_total", "loadplan_ws_expects_total", "WebSocket expect steps run, failed or not"},
}

// New checks cfg and builds the registry; nothing listens before Start.
// The testid label defaults to the plan name.
func New(cfg Config, opts outputs.Options) (*Output, error) {
	p := &Output{
		listen: cfg.Listen, linger: cfg.Linger, pushURL: cfg.PushGateway, testID: cfg.TestID, segment: opts.SegmentName,
		logf: opts.Logf, reg: prometheus.NewRegistry(), families: make(map[metrics.Metric]*family),
		done: make(chan struct{}),
	}
	p.finalWait = [2]time.Duration{finalScrapeMin, finalScrapeMax}
	p.index = make(map[metrics.Key]*series)
	if p.listen == "" {
		p.listen = DefaultListen
	}
	if _, _, err := net.SplitHostPort(p.listen); err != nil {
		return nil, fmt.Errorf("prometheus: listen address %q: %w", p.listen, err)
	}
	if p.linger < 0 {
		return nil, fmt.Errorf("prometheus: linger %s is negative", p.linger)
	}
	if p.testID == "" {
		p.testID = opts.PlanName
	}
	if p.logf == nil {
		p.logf = func(string, ...any) {}
	}
	constLabels := prometheus.Labels{"testid": p.testID}
	if p.segment != "" {
		constLabels["segment"] = p.segment
	}
	for _, m := range metrics.All() {
		f, err := newFamily(m, constLabels)
		if err != nil {
			return nil, err
		}
		for _, c := range f.collectors() {
			if err := p.reg.Register(c); err != nil {
				return nil, fmt.Errorf("prometheus: register %s: %w", m, err)
			}
		}
		p.families[m] = f
	}
	return p, nil
}

// MetricName returns the Prometheus name of m (for a rate, the name of its counter of the samples
// whose value is true: failed requests, passed checks, failed expects).
func MetricName(m metrics.Metric) string {
	info := m.Info()
	base := "loadplan_" + info.Name
	switch info.Kind {
	case metrics.Trend:
		if info.Unit == metrics.Time {
			return base + "_seconds"
		}
		return base
	case metrics.Counter:
		if info.Unit == metrics.Bytes {
			return base + "_bytes_total"
		}
		return base + "_total"
	case metrics.Rate:
		if rc, ok := rateCounters[m]; ok {
			return rc.name
		}
		return base + "_total"
	}
	return base
}

func newFamily(m metrics.Metric, constLabels prometheus.Labels) (*family, error) {
	info := m.Info()
	f := &family{kind: info.Kind}
	switch m {
	case metrics.Checks:
		f.label = "check"
	case metrics.Errors, metrics.WSErrors:
		f.label = "error"
	}
	name := MetricName(m)
	switch info.Kind {
	case metrics.Counter:
		f.value = newScalarVec(name, info.Help, prometheus.CounterValue, constLabels)
	case metrics.Rate:
		f.value = newScalarVec(name, info.Help, prometheus.CounterValue, constLabels)
		if rc := rateCounters[m]; rc.allName != "" {
			f.all = newScalarVec(rc.allName, rc.allHelp, prometheus.CounterValue, constLabels)
		}
	case metrics.Gauge:
		f.value = newScalarVec(name, info.Help, prometheus.GaugeValue, constLabels)
	case metrics.Trend:
		help, scale := info.Help, 1.0
		if info.Unit == metrics.Time {
			help, scale = help+" (seconds)", 1.0/1000
		}
		f.hist = newTrendVec(name, help, constLabels, scale)
	default:
		return nil, fmt.Errorf("prometheus: metric %s has unknown kind %s", m, info.Kind)
	}
	return f, nil
}

// Name returns "prometheus".
func (p *Output) Name() string { return "prometheus" }

// Gatherer returns the private registry, for tests and for embedding the handler elsewhere.
func (p *Output) Gatherer() prometheus.Gatherer { return p.reg }

// Emit folds a batch of samples, for callers that feed samples directly (tests); the Manager
// calls EmitSeries instead. The batch is aggregated first and goes the same way as the deltas.
func (p *Output) Emit(batch []metrics.Sample) {
	byKey := map[metrics.Key]*metrics.Series{}
	var deltas []*metrics.Series
	for i := range batch {
		k := metrics.KeyOf(&batch[i])
		d := byKey[k]
		if d == nil {
			d = &metrics.Series{Key: k}
			byKey[k] = d
			deltas = append(deltas, d)
		}
		d.Add(&batch[i])
	}
	p.EmitSeries(deltas)
}

// EmitSeries updates the collectors of each series by what it gained since the last call
// (outputs.SeriesOutput): the Manager hands it the aggregator's per-interval deltas, so its cost
// follows the number of series, not of samples. It allocates only for a series seen for the
// first time.
func (p *Output) EmitSeries(deltas []*metrics.Series) {
	for _, d := range deltas {
		se, ok := p.index[d.Key]
		if !ok {
			se = p.resolve(d.Key)
			p.index[d.Key] = se
		}
		if se == nil || d.Count == 0 {
			continue
		}
		switch se.kind {
		case metrics.Counter:
			if d.Sum > 0 { // a counter only grows
				se.value.add(d.Sum)
			}
		case metrics.Rate:
			if d.Trues > 0 {
				se.value.add(float64(d.Trues))
			}
			if se.all != nil {
				se.all.add(float64(d.Count))
			}
		case metrics.Gauge:
			se.value.set(d.Last)
		case metrics.Trend:
			se.vec.add(se.hist, d)
		}
	}
}

// resolve finds the collectors of a new series; nil for an unknown metric.
func (p *Output) resolve(k metrics.Key) *series {
	f := p.families[k.Metric]
	if f == nil {
		return nil
	}
	names, values := seriesLabels(k, f.label)
	se := &series{kind: f.kind}
	if f.value != nil {
		se.value = f.value.with(names, values)
	}
	if f.all != nil {
		se.all = f.all.with(names, values)
	}
	if f.hist != nil {
		se.vec, se.hist = f.hist, f.hist.with(names, values)
	}
	return se
}
