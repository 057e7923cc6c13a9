package executor

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/h1/h1test"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// benchVU returns a VU of a one-step plan against a trivial loopback server, with samples
// aggregated into a Store as the outputs Manager would.
func benchVU(b *testing.B, st func(url string) *plan.HTTPStep) (*vu, *metrics.Store) {
	url := rawServer(b)
	store := metrics.NewStore()
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 1})
	e, err := New(Config{Plan: planOf(l, st(url)), Sink: metrics.SinkFunc(store.Add)})
	if err != nil {
		b.Fatal(err)
	}
	v := newVU(e, e.scenarios[0])
	v.begin(context.Background(), context.Background())
	v.iterate(0) // warm the connection
	return v, store
}

// BenchmarkHTTPIteration measures one iteration of one constant GET, samples included
// (allocations per request = allocs/op).
func BenchmarkHTTPIteration(b *testing.B) {
	v, store := benchVU(b, func(url string) *plan.HTTPStep { return httpStepOf("s", "a", "GET", url) })
	b.ReportAllocs()
	for b.Loop() {
		v.iterate(0)
	}
	v.flush()
	if s := metrics.Combine(store.Snapshot(), metrics.HTTPReqs, nil); s.Sum < float64(b.N) {
		b.Fatalf("http_reqs %v < %d", s.Sum, b.N)
	}
}

// BenchmarkHTTPIterationChecked adds a status check, a body check and a JSON body.
func BenchmarkHTTPIterationChecked(b *testing.B) {
	v, _ := benchVU(b, func(url string) *plan.HTTPStep {
		st := httpStepOf("s", "a", "POST", url)
		st.Body = plan.Literal(`{"user":"u1"}`)
		st.Headers = []plan.KV{{Name: "X-Test", Value: plan.Literal("1")}}
		st.Checks = []*plan.Check{
			{Name: "status", Kind: plan.CheckStatus, Statuses: []int{200}},
			{Name: "ok", Kind: plan.CheckBodyContains, Value: "ok"},
		}
		return st
	})
	b.ReportAllocs()
	for b.Loop() {
		v.iterate(0)
	}
}

// TestAllocationsPerRequest reports the executor's allocations per HTTP iteration (net/http's
// own included) so that a regression is visible in test logs; it asserts only a loose bound.
func TestAllocationsPerRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("measures allocations over many requests")
	}
	res := testing.Benchmark(BenchmarkHTTPIteration)
	base := testing.Benchmark(BenchmarkNetHTTPBaseline)
	t.Logf("executor: %d allocs/op, %d B/op, %v/op (one GET, 11 samples); net/http alone: %d allocs/op, %d B/op",
		res.AllocsPerOp(), res.AllocedBytesPerOp(), time.Duration(res.NsPerOp()), base.AllocsPerOp(), base.AllocedBytesPerOp())
	if res.AllocsPerOp() > 200 {
		t.Errorf("%d allocations per request", res.AllocsPerOp())
	}
}

// rawServer is h1test.OKServer as an http:// URL.
func rawServer(b testing.TB) string { return "http://" + h1test.OKServer(b, "") }

// BenchmarkNetHTTPBaseline is net/http alone (one GET, body drained) against the same server:
// the executor's own allocations are BenchmarkHTTPIteration's minus these.
func BenchmarkNetHTTPBaseline(b *testing.B) {
	url := rawServer(b)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", url, nil)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
