package outputs

import (
	"context"
	"sync"
	"testing"

	"github.com/loadplan/loadplan/metrics"
)

// seriesRecorder is a SeriesOutput that totals the deltas it receives by metric.
type seriesRecorder struct {
	recorder
	counts map[metrics.Metric]uint64
	calls  int
}

func (r *seriesRecorder) EmitSeries(deltas []*metrics.Series) {
	r.calls++
	for _, d := range deltas {
		r.counts[d.Key.Metric] += d.Count
	}
}

// filtered is a per-sample output that needs one metric only (as the thresholds' adapter).
type filtered struct {
	recorder
	want    metrics.Metric
	others  int
	matched int
}

func (f *filtered) Wants() metrics.Mask { return metrics.MaskOf(f.want) }
func (f *filtered) Emit(b []metrics.Sample) {
	for _, s := range b {
		if s.Metric == f.want {
			f.matched++
		} else {
			f.others++
		}
	}
}

// produce plays the executor's VUs: each folds its batches with its own Folder and pushes the raw
// metrics' samples with PushRaw, and one more pushes whole batches with Push.
func produce(m *Manager, vus, batches int) {
	batch := []metrics.Sample{{Metric: metrics.HTTPReqs, Value: 1}, {Metric: metrics.HTTPReqDuration, Value: 2},
		{Metric: metrics.DataSent, Value: 100}}
	var wg sync.WaitGroup
	for range vus {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, raw := m.Folder(), m.RawMetrics()
			for range batches {
				f.Add(batch)
				var sel []metrics.Sample
				for _, s := range batch {
					if raw.Has(s.Metric) {
						sel = append(sel, s)
					}
				}
				m.PushRaw(sel)
			}
		}()
	}
	for range batches {
		m.Push(batch) // not folded: the loop folds it
	}
	wg.Wait()
}

// TestManagerAggregatesAndShipsOnlyRawMetrics: series outputs get every folded or pushed sample
// as deltas, exactly; a filtered output gets its metric's samples and no other; with no
// per-sample output no metric is raw and no batch is queued.
func TestManagerAggregatesAndShipsOnlyRawMetrics(t *testing.T) {
	const vus, batches = 8, 500
	var log []string
	sum := &seriesRecorder{recorder: recorder{name: "summary", log: &log}, counts: map[metrics.Metric]uint64{}}
	thr := &filtered{recorder: recorder{name: "thresholds", log: &log}, want: metrics.HTTPReqDuration}
	m := NewManager(sum, thr)
	if m.RawMetrics() != metrics.MaskOf(metrics.HTTPReqDuration) {
		t.Fatalf("raw metrics %b, want http_req_duration alone", m.RawMetrics())
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	produce(m, vus, batches)
	if err := m.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := uint64((vus + 1) * batches)
	for _, x := range []metrics.Metric{metrics.HTTPReqs, metrics.HTTPReqDuration, metrics.DataSent} {
		if sum.counts[x] != want {
			t.Errorf("summary %s: %d samples, want %d", x, sum.counts[x], want)
		}
	}
	if thr.matched != int(want) || thr.others != batches*2 { // Push's whole batches reach it too
		t.Errorf("thresholds got %d http_req_duration and %d other samples, want %d and %d", thr.matched, thr.others, want, batches*2)
	}

	// Only aggregating outputs: nothing raw, nothing queued.
	sum2 := &seriesRecorder{recorder: recorder{name: "summary", log: &log}, counts: map[metrics.Metric]uint64{}}
	m2 := NewManager(sum2)
	if m2.RawMetrics() != 0 {
		t.Fatalf("raw metrics %b with no per-sample output", m2.RawMetrics())
	}
	if err := m2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := m2.Folder()
	for range batches {
		f.Add([]metrics.Sample{{Metric: metrics.HTTPReqs, Value: 1}})
	}
	if len(m2.ch) != 0 {
		t.Fatalf("%d batches queued with no per-sample output", len(m2.ch))
	}
	if err := m2.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sum2.counts[metrics.HTTPReqs] != batches { // drained at Close: nothing folded is lost
		t.Errorf("summary got %d, want %d", sum2.counts[metrics.HTTPReqs], batches)
	}
}

// A plain output that says nothing about what it needs gets every metric.
func TestManagerPlainOutputWantsEverySample(t *testing.T) {
	var log []string
	if m := NewManager(&recorder{name: "csv", log: &log}); m.RawMetrics() != metrics.AllMetrics {
		t.Fatalf("raw metrics %b, want all", m.RawMetrics())
	}
}
