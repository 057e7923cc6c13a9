package executor

import (
	"context"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// tracedVU is benchVU with the plan's tracing block set to tr (nil: no tracing): one VU of a
// one-GET plan against the allocation-free loopback server (h1test.OKServer), on the fast path.
func tracedVU(tb testing.TB, tr *plan.Tracing) (*vu, *metrics.Store) {
	url := rawServer(tb)
	store := metrics.NewStore()
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 1})
	p := planOf(l, httpStepOf("s", "a", "GET", url))
	p.Tracing = tr
	e, err := New(Config{Plan: p, Sink: metrics.SinkFunc(store.Add)})
	if err != nil {
		tb.Fatal(err)
	}
	v := newVU(e, e.scenarios[0])
	v.begin(context.Background(), context.Background())
	v.iterate(0) // warm the connection
	return v, store
}

// BenchmarkTracing is one iteration of one GET on the HTTP/1.1 fast path, tracing off and on
// (w3c, sampling 0.1, baggage run/scenario/step), samples aggregated as the summary does.
// cpu-ns/req is the process CPU per request (the in-process server's included, the same in
// both). With -count N the two run alternately, N pairs:
//
//	go test -run '^$' -bench Tracing -benchmem -count 8 ./executor/
func BenchmarkTracing(b *testing.B) {
	cases := []struct {
		name string
		tr   *plan.Tracing
	}{
		{"off", nil},
		{"on", &plan.Tracing{Propagator: plan.PropagatorW3C, Sampling: 0.1, Baggage: plan.BaggageItems}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			v, store := tracedVU(b, c.tr)
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				v.iterate(0)
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/req")
			v.flush()
			if s := metrics.Combine(store.Snapshot(), metrics.HTTPReqs, nil); s.Sum < float64(b.N) {
				b.Fatalf("http_reqs %v < %d", s.Sum, b.N)
			}
		})
	}
}

// BenchmarkTracingPaired runs tracing off and on (w3c, sampling 0.1, with and without baggage;
// and off against off, the noise floor) in alternating
// chunks of 256 iterations within one run (which goes first alternating too), two VUs on the same loopback server, so that both see
// the same load of a shared machine; it reports the ratios of their process CPU and wall time per
// request (on/off) and each one's CPU per request. One op is one request of each.
//
//	go test -run '^$' -bench TracingPaired -count 5 ./executor/
func BenchmarkTracingPaired(b *testing.B) {
	for _, c := range []struct {
		name string
		tr   *plan.Tracing // the "on" side; nil is an A/A run, the noise floor of the ratios
	}{
		{"w3c+baggage", &plan.Tracing{Propagator: plan.PropagatorW3C, Sampling: 0.1, Baggage: plan.BaggageItems}},
		{"w3c", &plan.Tracing{Propagator: plan.PropagatorW3C, Sampling: 0.1}},
		{"off-vs-off", nil},
	} {
		b.Run(c.name, func(b *testing.B) { benchPaired(b, c.tr) })
	}
}

func benchPaired(b *testing.B, tr *plan.Tracing) {
	off, _ := tracedVU(b, nil)
	on, _ := tracedVU(b, tr)
	const chunk = 256
	var cpu, wall [2]int64
	vus := [2]*vu{off, on}
	n := 0
	for b.Loop() {
		n++
		if n%chunk != 0 {
			continue
		}
		for j := range vus {
			i := (j + n/chunk) % 2 // which runs first alternates too: no order bias
			v := vus[i]
			c0, w0 := processCPU(), time.Now()
			for range chunk {
				v.iterate(0)
			}
			cpu[i] += processCPU() - c0
			wall[i] += int64(time.Since(w0))
		}
	}
	if cpu[0] == 0 || wall[0] == 0 {
		return // too few ops for one chunk
	}
	reqs := float64(n / chunk * chunk)
	b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "cpu-on/off")
	b.ReportMetric(float64(wall[1])/float64(wall[0]), "wall-on/off")
	b.ReportMetric(float64(cpu[0])/reqs, "cpu-ns/req-off")
	b.ReportMetric(float64(cpu[1])/reqs, "cpu-ns/req-on")
}

// TestTracingAllocations: tracing costs no allocation for an unsampled request (sampling 0) on
// the fast path, and one (its TraceSpan) for a sampled one (sampling 1), plus its iteration's
// root span (outputs/otlp); the server allocates
// nothing, so the counts are the client's.
func TestTracingAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("measures allocations over many requests")
	}
	per := func(tr *plan.Tracing) float64 {
		v, _ := tracedVU(t, tr)
		return testing.AllocsPerRun(500, func() { v.iterate(0) })
	}
	off := per(nil)
	unsampled := per(&plan.Tracing{Propagator: plan.PropagatorW3C, Sampling: 0, Baggage: plan.BaggageItems})
	sampled := per(&plan.Tracing{Propagator: plan.PropagatorW3C, Sampling: 1})
	b3 := per(&plan.Tracing{Propagator: plan.PropagatorB3, Sampling: 0})
	t.Logf("allocations per iteration: off %.2f, unsampled %.2f, sampled %.2f, b3 unsampled %.2f", off, unsampled, sampled, b3)
	if unsampled > off || b3 > off {
		t.Errorf("an unsampled traced request allocates: %.2f (b3 %.2f) against %.2f off", unsampled, b3, off)
	}
	if sampled > off+2 {
		t.Errorf("a sampled iteration of one request allocates %.2f, want at most off (%.2f) + 2 TraceSpans (the request's, the iteration's root)", sampled, off)
	}
}
