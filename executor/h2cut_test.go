package executor

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// newSlowH2Server is newSlowServerOn over TLS with HTTP/2 (ALPN h2): every request it
// receives over HTTP/1.1 counts in h1, so that a test sees the path it meant to test was taken.
func newSlowH2Server(t *testing.T, slow time.Duration, every int64) (*slowServer, *atomic.Int64) {
	s := &slowServer{started: make(chan struct{}, 1000)}
	var h1 atomic.Int64
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			h1.Add(1)
		}
		d := 10 * time.Millisecond
		if s.received.Add(1)%every == 0 {
			d = slow
		}
		s.started <- struct{}{}
		tm := time.NewTimer(d)
		defer tm.Stop()
		select {
		case <-tm.C:
			s.answered.Add(1)
			io.WriteString(w, "ok")
		case <-r.Context().Done():
			s.cut.Add(1)
		}
	}))
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	return s, &h1
}

// settle waits (bounded) until the server's handlers all ended: httptest's Close does not wait
// for HTTP/2 handlers, which end when they see the connection's close.
func settle(t *testing.T, s *slowServer) {
	t.Helper()
	s.Close()
	for i := 0; s.answered.Load()+s.cut.Load() < s.received.Load(); i++ {
		if i == 2000 {
			t.Fatalf("server handlers still running: received %d, answered %d, cut %d", s.received.Load(), s.answered.Load(), s.cut.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCutRequestsOverH2: graceful_stop's end and the hard abort cut requests on the VU's
// HTTP/2 client as on the fast path (TestCutRequestsOverTLS): every stream the server received
// is one http_reqs, the cut ones interrupted, without latency.
func TestCutRequestsOverH2(t *testing.T) {
	t.Run("graceful_stop", func(t *testing.T) {
		srv, h1 := newSlowH2Server(t, 3*time.Second, 3)
		l := withDefaults(&plan.Load{Model: plan.Users, StartVUs: 4, Stages: []plan.Stage{{Duration: time.Second, Target: 4}}})
		l.GracefulStop = 200 * time.Millisecond
		col, res := run(t, Config{Plan: planOf(l, tlsStep(srv.URL+"/x"))})
		if res.Aborted {
			t.Errorf("result %+v: a graceful_stop cut is not an abort", res)
		}
		settle(t, srv)
		checkCut(t, col, srv)
		if h1.Load() != 0 {
			t.Errorf("%d requests over HTTP/1.1", h1.Load())
		}
	})
	t.Run("hard_abort", func(t *testing.T) {
		srv, _ := newSlowH2Server(t, time.Hour, 1)
		col := newCollector()
		e, err := New(Config{Plan: planOf(longUsers(5, time.Hour), tlsStep(srv.URL+"/x")), Sink: col})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan Result)
		go func() { done <- e.Run(ctx) }()
		for range 5 {
			<-srv.started
		}
		cancel()
		if res := <-done; !res.Aborted {
			t.Errorf("result %+v, want aborted", res)
		}
		settle(t, srv)
		checkCut(t, col, srv)
		if srv.received.Load() != 5 {
			t.Errorf("server received %d, want 5", srv.received.Load())
		}
	})
}

// TestH2StepTimeout: every third request outlives the step's timeout; each is one failed
// request of kind timeout, the connection is replaced, and every stream the server received
// is one http_reqs.
func TestH2StepTimeout(t *testing.T) {
	srv, h1 := newSlowH2Server(t, time.Hour, 3)
	st := tlsStep(srv.URL + "/x")
	st.Timeout = 300 * time.Millisecond
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 2, Iterations: 6})
	col, _ := run(t, Config{Plan: planOf(l, st)})
	settle(t, srv)
	received, answered := srv.received.Load(), srv.answered.Load()
	t.Logf("server received %d, answered %d, cut %d; errors %v", received, answered, srv.cut.Load(), col.errors())
	if int64(col.sum(metrics.HTTPReqs)) != received || received != 12 || h1.Load() != 0 {
		t.Fatalf("http_reqs %v; server received %d (%d over HTTP/1.1); want 12, all HTTP/2", col.sum(metrics.HTTPReqs), received, h1.Load())
	}
	if e := col.errors(); int64(e["timeout"]) != received-answered || len(e) != 1 {
		t.Fatalf("errors %v; server answered %d of %d", e, answered, received)
	}
	if f := col.series(metrics.HTTPReqFailed); int64(f.Trues) != received-answered {
		t.Fatalf("http_req_failed %d, want %d", f.Trues, received-answered)
	}
}
