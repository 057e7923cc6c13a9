package executor

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/loadplan/loadplan/executor/httpstep"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// benchTarget is an httptest server answering every request with a trivial 200 over keep-alive,
// counting what it served. Its own per-request allocations are the same for both benchmarks
// below, so their difference is the executor's cost over a bare net/http request.
func benchTarget(b *testing.B) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	body := []byte("ok\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header()["Content-Length"] = []string{"3"}
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv, &n
}

// BenchmarkHTTPRequestVU is one HTTP request through the whole public path: a plan loaded from
// HCL, executor.New, Run with one VU running b.N iterations of one GET (per_vu_iterations),
// every sample batched and aggregated into a metrics.Store as the summary output does.
// allocs/op is the allocations per request, net/http's own included.
func BenchmarkHTTPRequestVU(b *testing.B) {
	srv, served := benchTarget(b)
	src := fmt.Sprintf(`
target "bench" { base_url = %q }
scenario "s" {
  target = target.bench
  http "get" { path = "/" }
}
load {
  model      = "per_vu_iterations"
  vus        = 1
  iterations = %d
}
`, srv.URL, b.N)
	p, diags := plan.LoadSource("bench.hcl", []byte(src), plan.Options{})
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	store := metrics.NewStore()
	e, err := New(Config{Plan: p, Sink: metrics.SinkFunc(store.Add)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	res := e.Run(context.Background())
	b.StopTimer()
	if res.Err != nil {
		b.Fatal(res.Err)
	}
	reqs := metrics.Combine(store.Snapshot(), metrics.HTTPReqs, nil).Sum
	if int64(reqs) != int64(b.N) || served.Load() != int64(b.N) {
		b.Fatalf("http_reqs %v, server saw %d, want %d", reqs, served.Load(), b.N)
	}
}

// BenchmarkHTTPRequestBare is the same GET with a bare keep-alive net/http client: the baseline
// whose allocations BenchmarkHTTPRequestVU's are compared with.
func BenchmarkHTTPRequestBare(b *testing.B) {
	srv, served := benchTarget(b)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/", nil)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.StopTimer()
	if served.Load() != int64(b.N) {
		b.Fatalf("server saw %d, want %d", served.Load(), b.N)
	}
}

// BenchmarkHTTPRequestVUNetHTTP is BenchmarkHTTPRequestVU with the HTTP/1.1 fast path off: the
// same request through net/http inside the VU (the path https and HTTP/2 targets take).
func BenchmarkHTTPRequestVUNetHTTP(b *testing.B) {
	httpstep.SetFastPath(false)
	defer httpstep.SetFastPath(true)
	BenchmarkHTTPRequestVU(b)
}
