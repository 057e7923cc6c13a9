package executor

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/loadplan/loadplan/executor/httpstep"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// Benchmarks of one iteration over https: the fast path, net/http, and HTTP/2 (allocs/op is
// per request, the in-process server's allocations included).

// benchVUOf returns a warmed VU of a one-step plan running st, samples into a Store.
func benchVUOf(b *testing.B, st *plan.HTTPStep) *vu {
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 1})
	e, err := New(Config{Plan: planOf(l, st), Sink: metrics.SinkFunc(metrics.NewStore().Add)})
	if err != nil {
		b.Fatal(err)
	}
	v := newVU(e, e.scenarios[0])
	v.begin(context.Background(), context.Background())
	v.iterate(0) // dial and handshake outside the loop
	return v
}

// benchTLSServer is an https target answering "ok", HTTP/2 when h2.
func benchTLSServer(b *testing.B, h2 bool) (*httptest.Server, *atomic.Int64) {
	var reqs atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		io.WriteString(w, "ok")
	}))
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	b.Cleanup(srv.Close)
	return srv, &reqs
}

// benchIterations runs b.N iterations of v and checks the server saw every request.
func benchIterations(b *testing.B, v *vu, reqs *atomic.Int64) {
	before := reqs.Load()
	b.ReportAllocs()
	for b.Loop() {
		v.iterate(0)
	}
	v.flush()
	if got := reqs.Load() - before; got < int64(b.N) {
		b.Fatalf("server saw %d requests for %d iterations", got, b.N)
	}
}

// BenchmarkHTTPSIteration is one iteration of a GET over https on the fast path (TLS under
// internal/h1), samples included; the in-process server's allocations count too.
func BenchmarkHTTPSIteration(b *testing.B) {
	srv, reqs := benchTLSServer(b, false)
	benchIterations(b, benchVUOf(b, tlsStep(srv.URL)), reqs)
}

// BenchmarkHTTPSIterationNetHTTP is the same iteration through net/http, as before the fast
// path took https.
func BenchmarkHTTPSIterationNetHTTP(b *testing.B) {
	httpstep.SetFastPath(false)
	defer httpstep.SetFastPath(true)
	srv, reqs := benchTLSServer(b, false)
	benchIterations(b, benchVUOf(b, tlsStep(srv.URL)), reqs)
}

// BenchmarkHTTP2Iteration is one iteration against a server that chose h2: net/http's HTTP/2
// client on the connection the fast path negotiated.
func BenchmarkHTTP2Iteration(b *testing.B) {
	srv, reqs := benchTLSServer(b, true)
	benchIterations(b, benchVUOf(b, tlsStep(srv.URL)), reqs)
}

// BenchmarkHTTP2IterationNetHTTP is the same HTTP/2 iteration with the fast path off: the VU's
// ordinary net/http client negotiates h2 itself, as before the fast path took https.
func BenchmarkHTTP2IterationNetHTTP(b *testing.B) {
	httpstep.SetFastPath(false)
	defer httpstep.SetFastPath(true)
	srv, reqs := benchTLSServer(b, true)
	benchIterations(b, benchVUOf(b, tlsStep(srv.URL)), reqs)
}
