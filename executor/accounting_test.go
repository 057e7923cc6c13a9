package executor

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/executor/httpstep"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// Request accounting under faults: each test starts a loopback server that counts what it
// received, and loadplan's figures must EQUAL the server's counts — on the HTTP/1.1 fast path
// (http://) and on the net/http path (https://, or the fast path switched off).

// paths runs fn once with the fast path and once through net/http.
func paths(t *testing.T, fn func(t *testing.T)) {
	for _, p := range []struct {
		name string
		fast bool
	}{{"fast", true}, {"nethttp", false}} {
		t.Run(p.name, func(t *testing.T) {
			httpstep.SetFastPath(p.fast)
			defer httpstep.SetFastPath(true)
			fn(t)
		})
	}
}

// connSeq is the number of requests a server connection has carried.
type connSeq struct{}

// dropServer answers every request except the 5th, 10th, … of each keep-alive connection,
// which it reads and then resets (RST) without answering: a fifth of the requests, none the
// first of its connection. received counts every request read, dropped those reset.
type dropServer struct {
	*httptest.Server
	received, dropped atomic.Int64
}

func newDropServer(t *testing.T, https bool) *dropServer {
	s := &dropServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.received.Add(1)
		if r.Context().Value(connSeq{}).(*atomic.Int64).Add(1)%5 != 0 {
			io.WriteString(w, "ok")
			return
		}
		s.dropped.Add(1)
		c, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		resetConn(c)
	}))
	s.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connSeq{}, new(atomic.Int64))
	}
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	if https {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// resetConn closes c with a TCP reset, as a crashing or overloaded server does.
func resetConn(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// checkDropAccounting asserts loadplan's figures against the drop server's counts.
func checkDropAccounting(t *testing.T, col *collector, srv *dropServer, iterations int) {
	t.Helper()
	received, dropped := srv.received.Load(), srv.dropped.Load()
	reqs, failed := col.series(metrics.HTTPReqs), col.series(metrics.HTTPReqFailed)
	durations := col.series(metrics.HTTPReqDuration).Count
	t.Logf("server received %d, dropped %d; loadplan http_reqs %v, failed %d, durations %d, errors %v",
		received, dropped, reqs.Sum, failed.Trues, durations, col.errors())
	if dropped == 0 {
		t.Fatal("the server dropped nothing: the test proves nothing")
	}
	if int64(reqs.Sum) != received || int64(failed.Trues) != dropped || failed.Count != uint64(received) {
		t.Errorf("http_reqs %v, http_req_failed %d of %d; server received %d, dropped %d: want equal",
			reqs.Sum, failed.Trues, failed.Count, received, dropped)
	}
	if int64(durations) != received-dropped {
		t.Errorf("%d http_req_duration samples, want one per answered request (%d)", durations, received-dropped)
	}
	var errs int64
	for kind, n := range col.errors() {
		if kind != "connection reset" && kind != "eof" {
			t.Errorf("errors %q: %d, want only connection reset or eof", kind, n)
		}
		errs += int64(n)
	}
	if errs != dropped {
		t.Errorf("%d errors samples, want one per dropped request (%d)", errs, dropped)
	}
	if it := col.sum(metrics.Iterations); it != float64(iterations) {
		t.Errorf("iterations %v, want %d", it, iterations)
	}
}

// TestResetAfterReadFastPath: the fast HTTP/1.1 client never resends, so every request the
// server read is one http_reqs and every reset one failed request.
func TestResetAfterReadFastPath(t *testing.T) {
	srv := newDropServer(t, false)
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 4, Iterations: 50})
	col, _ := run(t, Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL+"/x"))})
	checkDropAccounting(t, col, srv, 200)
	if srv.received.Load() != 200 {
		t.Errorf("server received %d requests for 200 iterations: something was resent", srv.received.Load())
	}
}

// TestResetAfterReadNetHTTP: over https, net/http resends a GET whose reused connection was
// reset before any response byte; the server receives it twice, and loadplan counts both: the
// reset attempt as a failed request of its own, the resend as the iteration's request. (https
// takes the fast path by default, see TestResetAfterReadFastPathTLS; this is net/http's.)
func TestResetAfterReadNetHTTP(t *testing.T) {
	httpstep.SetFastPath(false)
	defer httpstep.SetFastPath(true)
	srv := newDropServer(t, true)
	st := httpStepOf("s", "a", "GET", srv.URL+"/x")
	st.Target = &plan.Target{Name: "tls", BaseURL: srv.URL, Timeout: 10 * time.Second, InsecureSkipVerify: true}
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 4, Iterations: 50})
	col, _ := run(t, Config{Plan: planOf(l, st)})
	checkDropAccounting(t, col, srv, 200)
	if got, want := srv.received.Load(), 200+srv.dropped.Load(); got != want {
		t.Errorf("server received %d, want 200 + %d resends", got, srv.dropped.Load())
	}
}

// slowServer answers every request after 10 ms except every `every`th, which it answers after
// slow; unless the client goes away first. It counts what it received, answered and saw cut.
type slowServer struct {
	*httptest.Server
	received, answered, cut atomic.Int64
	started                 chan struct{} // one value per request received
}

func newSlowServer(t *testing.T, slow time.Duration, every int64) *slowServer {
	return newSlowServerOn(t, slow, every, false)
}

// newSlowServerOn is newSlowServer, over TLS when https.
func newSlowServerOn(t *testing.T, slow time.Duration, every int64, https bool) *slowServer {
	s := &slowServer{started: make(chan struct{}, 1000)}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := 10 * time.Millisecond
		if s.received.Add(1)%every == 0 {
			d = slow
		}
		s.started <- struct{}{}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			s.answered.Add(1)
			io.WriteString(w, "ok")
		case <-r.Context().Done():
			s.cut.Add(1)
		}
	}))
	if https {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// checkCut asserts the figures of a run whose stop cut requests: every request the server
// received is one http_reqs; the cut ones failed as interrupted, with no latency, and their
// iterations are interrupted.
func checkCut(t *testing.T, col *collector, srv *slowServer) {
	t.Helper()
	srv.Close() // waits for every handler: the server's counts are final
	received, answered, cut := srv.received.Load(), srv.answered.Load(), srv.cut.Load()
	e := col.errors()
	t.Logf("server received %d, answered %d, cut %d; loadplan http_reqs %v, errors %v, iterations %v, iterations_interrupted %v",
		received, answered, cut, col.sum(metrics.HTTPReqs), e, col.sum(metrics.Iterations), col.sum(metrics.IterationsInterrupted))
	if cut == 0 {
		t.Fatal("no request was cut: the test proves nothing")
	}
	if int64(col.sum(metrics.HTTPReqs)) != received {
		t.Errorf("http_reqs %v, server received %d", col.sum(metrics.HTTPReqs), received)
	}
	if int64(e["interrupted"]) != cut || len(e) != 1 {
		t.Errorf("errors %v, want %d × interrupted and nothing else", e, cut)
	}
	if f := col.series(metrics.HTTPReqFailed); int64(f.Trues) != cut || int64(f.Count) != received {
		t.Errorf("http_req_failed %d of %d, want %d of %d", f.Trues, f.Count, cut, received)
	}
	if n := col.series(metrics.HTTPReqDuration).Count; int64(n) != answered {
		t.Errorf("%d http_req_duration samples, want one per answered request (%d)", n, answered)
	}
	if int64(col.sum(metrics.IterationsInterrupted)) != cut || int64(col.sum(metrics.Iterations)) != answered {
		t.Errorf("iterations_interrupted %v, iterations %v; want %d cut, %d completed",
			col.sum(metrics.IterationsInterrupted), col.sum(metrics.Iterations), cut, answered)
	}
}

// TestGracefulStopEndCountsCutRequests: graceful_stop = 200ms ends a 1 s run while 3 s requests
// are in flight. They reached the server, so they are requests — failed as interrupted.
func TestGracefulStopEndCountsCutRequests(t *testing.T) {
	paths(t, func(t *testing.T) {
		srv := newSlowServer(t, 3*time.Second, 3)
		l := withDefaults(&plan.Load{Model: plan.Users, StartVUs: 4, Stages: []plan.Stage{{Duration: time.Second, Target: 4}}})
		l.GracefulStop = 200 * time.Millisecond
		col, res := run(t, Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL+"/x"))})
		if res.Aborted {
			t.Errorf("result %+v: a graceful_stop cut is not an abort", res)
		}
		checkCut(t, col, srv)
	})
}

// TestHardAbortCountsRequestsOnTheWire: the second Ctrl-C (Run's ctx cancelled) with five
// requests on the wire: five http_reqs, all interrupted, five interrupted iterations.
func TestHardAbortCountsRequestsOnTheWire(t *testing.T) {
	paths(t, func(t *testing.T) {
		srv := newSlowServer(t, time.Hour, 1)
		col := newCollector()
		e, err := New(Config{Plan: planOf(longUsers(5, time.Hour), httpStepOf("s", "a", "GET", srv.URL+"/x")), Sink: col})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan Result)
		go func() { done <- e.Run(ctx) }()
		for range 5 {
			<-srv.started
		}
		cancel() // graceful_stop is an hour: only the hard abort ends this run
		if res := <-done; !res.Aborted {
			t.Errorf("result %+v, want aborted", res)
		}
		checkCut(t, col, srv)
		if srv.received.Load() != 5 {
			t.Errorf("server received %d, want 5", srv.received.Load())
		}
	})
}

// TestDeadTargetSendsNoRequest: a closed port refuses every connection. Nothing left the
// machine, so there is no http_reqs and no latency; each attempt is one failed
// http_req_failed sample and ONE errors sample (the missing capture that follows adds none).
func TestDeadTargetSendsNoRequest(t *testing.T) {
	paths(t, func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		url := "http://" + ln.Addr().String()
		ln.Close() // nothing listens any more
		login := httpStepOf("s", "login", "POST", url+"/login")
		login.Captures = []*plan.Capture{{Name: "token", Kind: plan.CaptureJSON, Path: "token", Required: true}}
		l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 2, Iterations: 5})
		col, _ := run(t, Config{Plan: planOf(l, login, httpStepOf("s", "next", "GET", url+"/next"))})
		const attempts = 10 // one login per iteration; the iteration ends there
		if col.sum(metrics.HTTPReqs) != 0 || col.series(metrics.HTTPReqDuration).Count != 0 || col.series(metrics.HTTPReqWaiting).Count != 0 {
			t.Errorf("http_reqs %v, %d durations, %d waiting; want none", col.sum(metrics.HTTPReqs),
				col.series(metrics.HTTPReqDuration).Count, col.series(metrics.HTTPReqWaiting).Count)
		}
		if f := col.series(metrics.HTTPReqFailed); f.Trues != attempts || f.Count != attempts {
			t.Errorf("http_req_failed %d of %d, want %d of %d", f.Trues, f.Count, attempts, attempts)
		}
		if e := col.errors(); e["connection refused"] != attempts || len(e) != 1 {
			t.Errorf("errors %v, want %d × connection refused (one per failure)", e, attempts)
		}
		if col.sum(metrics.Iterations) != attempts {
			t.Errorf("iterations %v, want %d", col.sum(metrics.Iterations), attempts)
		}
	})
}
