package metrics

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// requestSamples are the 14 samples the HTTP step emits per request (timings, counters, rates,
// bytes, a passed check), at time t.
func requestSamples(tags *Tags, status int, t int64, r *rand.Rand) []Sample {
	ms := []Metric{HTTPReqs, HTTPReqDuration, HTTPReqServiceTime, HTTPReqBlocked, HTTPReqConnecting,
		HTTPReqTLSHandshaking, HTTPReqSending, HTTPReqWaiting, HTTPReqReceiving, HTTPReqFailed,
		DataSent, DataReceived, Checks, IterationDuration}
	out := make([]Sample, len(ms))
	for i, m := range ms {
		v := 1.0
		switch {
		case m.Kind() == Trend:
			v = 0.05 + r.ExpFloat64()*3
		case m == HTTPReqFailed:
			v = float64(r.IntN(10) / 9) // one in ten fails
		case m == DataSent || m == DataReceived:
			v = float64(100 + r.IntN(50))
		}
		label := ""
		if m == Checks {
			label = "status is 200"
		}
		out[i] = Sample{Metric: m, Time: t, Value: v, Tags: tags, Status: status, Label: label}
	}
	return out
}

// TestAggregatorEqualsStore folds the same samples through many Folders on many goroutines,
// drained concurrently into a Store, and through Store.Add: every series must be equal (counts,
// trues, min, max, last, histogram buckets exactly; sums to float rounding).
func TestAggregatorEqualsStore(t *testing.T) {
	tags := []*Tags{{Scenario: "s", Step: "a"}, {Scenario: "s", Step: "b"}}
	const workers, batches = 8, 300
	agg := NewAggregator(3)
	got, want := NewStore(), NewStore()
	var wantMu sync.Mutex
	stop := make(chan struct{})
	drained := make(chan struct{})
	go func() { // the Manager's part: drain while the VUs fold
		defer close(drained)
		for {
			select {
			case <-stop:
				return
			default:
				agg.Drain(got.MergeAll)
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			f := agg.Folder()
			for i := range batches {
				var batch []Sample
				for j := range 4 {
					status := 200
					if r.IntN(5) == 0 {
						status = 500
					}
					batch = append(batch, requestSamples(tags[(i+j)%2], status, int64(w*batches+i), r)...)
				}
				batch = append(batch, Sample{Metric: VUs, Time: int64(w*batches + i), Value: float64(w)})
				f.Add(batch)
				wantMu.Lock()
				want.Add(batch)
				wantMu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-drained
	agg.Drain(got.MergeAll) // the final drain, after the last fold
	gs, ws := got.Snapshot(), want.Snapshot()
	if len(gs) != len(ws) {
		t.Fatalf("%d series, want %d", len(gs), len(ws))
	}
	var requests uint64
	for i, w := range ws {
		g := gs[i]
		if g.Key != w.Key || g.Count != w.Count || g.Trues != w.Trues || g.Min != w.Min || g.Max != w.Max ||
			g.End != w.End || math.Abs(g.Sum-w.Sum) > 1e-9*math.Abs(w.Sum) {
			t.Errorf("series %v:\n got %+v\nwant %+v", w.Key, g, w)
		}
		if w.Key.Metric == HTTPReqs {
			requests += g.Count
		}
		if w.Hist != nil {
			if g.Hist == nil || g.Hist.Count != w.Hist.Count || g.Hist.Quantile(0.5) != w.Hist.Quantile(0.5) ||
				g.Hist.Quantile(0.99) != w.Hist.Quantile(0.99) {
				t.Errorf("series %v: histogram differs", w.Key)
			}
		}
	}
	if requests != workers*batches*4 {
		t.Errorf("http_reqs %d, want %d", requests, workers*batches*4)
	}
	if s := Combine(gs, VUs, nil); s.Max != workers-1 || s.Count != workers*batches {
		t.Errorf("vus max %v count %d", s.Max, s.Count)
	}
}

// TestDrainEmptiesInPlace: a second Drain without folds yields nothing, and a Folder's cached
// handles stay valid across drains (its later samples are in the next deltas).
func TestDrainEmptiesInPlace(t *testing.T) {
	agg := NewAggregator(1)
	f := agg.Folder()
	tags := &Tags{Step: "a"}
	f.Add([]Sample{{Metric: HTTPReqs, Value: 1, Tags: tags}, {Metric: HTTPReqDuration, Value: 3, Tags: tags}})
	var n int
	agg.Drain(func(d []*Series) { n = len(d) })
	if n != 2 {
		t.Fatalf("first drain: %d deltas, want 2", n)
	}
	agg.Drain(func(d []*Series) { t.Fatalf("second drain without folds gave %d deltas", len(d)) })
	f.Add([]Sample{{Metric: HTTPReqDuration, Value: 5, Tags: tags}})
	agg.Drain(func(d []*Series) {
		if len(d) != 1 || d[0].Count != 1 || d[0].Sum != 5 || d[0].Hist.Count != 1 || d[0].Hist.Max != 5 {
			t.Fatalf("third drain: %+v", d[0])
		}
	})
}

func TestMask(t *testing.T) {
	m := MaskOf(HTTPReqDuration, VUs)
	if !m.Has(HTTPReqDuration) || !m.Has(VUs) || m.Has(HTTPReqs) {
		t.Fatalf("mask %b", m)
	}
	for _, x := range All() {
		if !AllMetrics.Has(x) {
			t.Fatalf("AllMetrics lacks %s", x)
		}
	}
}
