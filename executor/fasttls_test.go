package executor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/h1/h1test"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// HTTPS on the fast path (internal/h1 over crypto/tls) and HTTP/2 handed to net/http: every
// server here counts what it received, and loadplan's figures must equal it.

// tlsStep is a GET of url on an https target that trusts any certificate (the test's own).
func tlsStep(url string) *plan.HTTPStep {
	st := httpStepOf("s", "a", "GET", url)
	st.Target = &plan.Target{Name: "tls", BaseURL: url, Timeout: 10 * time.Second, InsecureSkipVerify: true}
	return st
}

// phaseSink counts, per timing metric, the samples with a value above zero.
type phaseSink struct {
	mu       sync.Mutex // guards positive and all
	positive map[metrics.Metric]int
	all      map[metrics.Metric]int
	reqs     float64
	body     uint64 // BodyBytes of the data_received samples
}

func (s *phaseSink) Push(batch []metrics.Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range batch {
		s.all[x.Metric]++
		if x.Value > 0 {
			s.positive[x.Metric]++
		}
		if x.Metric == metrics.HTTPReqs {
			s.reqs += x.Value
		}
		if x.Metric == metrics.DataReceived {
			s.body += uint64(x.BodyBytes)
		}
	}
}

// TestResetAfterReadFastPathTLS: over https the fast path does not resend either; the server
// resets every fifth request of a connection after reading it, and loadplan counts exactly what
// the server received (net/http would have resent each, see TestResetAfterReadNetHTTP).
func TestResetAfterReadFastPathTLS(t *testing.T) {
	srv := newDropServer(t, true)
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 4, Iterations: 50})
	col, _ := run(t, Config{Plan: planOf(l, tlsStep(srv.URL+"/x"))})
	checkDropAccounting(t, col, srv, 200)
	if srv.received.Load() != 200 {
		t.Errorf("server received %d requests for 200 iterations: something was resent", srv.received.Load())
	}
}

// TestTLSPhasesAndResumptionFastPath: the server closes each connection after its fifth
// request. tls_handshaking and connecting are above zero exactly on the requests that opened a
// connection (as many as the server accepted) and zero on reuse; each VU's first handshake is
// a full one, the later ones resume its session (the server sees it), as a browser's do.
func TestTLSPhasesAndResumptionFastPath(t *testing.T) {
	var reqs, conns, resumed, h1reqs atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		if r.ProtoMajor == 1 {
			h1reqs.Add(1)
		}
		n := r.Context().Value(connSeq{}).(*atomic.Int64).Add(1)
		if n == 1 && r.TLS.DidResume {
			resumed.Add(1)
		}
		if n == 5 {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connSeq{}, new(atomic.Int64))
	}
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)

	sink := &phaseSink{positive: map[metrics.Metric]int{}, all: map[metrics.Metric]int{}}
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 2, Iterations: 10})
	e, err := New(Config{Plan: planOf(l, tlsStep(srv.URL+"/x")), Sink: sink, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.Run(context.Background()); res.Err != nil {
		t.Fatal(res.Err)
	}
	t.Logf("server: %d requests (%d HTTP/1.1), %d connections, %d resumed; loadplan: http_reqs %v, tls_handshaking > 0 in %d of %d, connecting > 0 in %d",
		reqs.Load(), h1reqs.Load(), conns.Load(), resumed.Load(), sink.reqs, sink.positive[metrics.HTTPReqTLSHandshaking],
		sink.all[metrics.HTTPReqTLSHandshaking], sink.positive[metrics.HTTPReqConnecting])
	if reqs.Load() != 20 || h1reqs.Load() != 20 || sink.reqs != 20 {
		t.Fatalf("server saw %d requests (%d HTTP/1.1), loadplan http_reqs %v; want 20, all HTTP/1.1", reqs.Load(), h1reqs.Load(), sink.reqs)
	}
	if conns.Load() != 4 || resumed.Load() != 2 {
		t.Fatalf("%d connections, %d resumed; want 4 (5 requests each), 2 resumed (each VU's second)", conns.Load(), resumed.Load())
	}
	if got := sink.positive[metrics.HTTPReqTLSHandshaking]; got != int(conns.Load()) || sink.all[metrics.HTTPReqTLSHandshaking] != 20 {
		t.Fatalf("tls_handshaking above zero in %d of %d samples, want %d of 20 (one per connection)",
			got, sink.all[metrics.HTTPReqTLSHandshaking], conns.Load())
	}
	if got := sink.positive[metrics.HTTPReqConnecting]; got != int(conns.Load()) {
		t.Fatalf("connecting above zero in %d samples, want %d", got, conns.Load())
	}
}

// TestHTTP2TargetIsHandedToNetHTTP: a server that chooses h2 through ALPN gets every request
// over HTTP/2, on one connection per VU: the connection the fast path negotiated is handed to
// net/http's HTTP/2 client, not dropped and dialled again.
func TestHTTP2TargetIsHandedToNetHTTP(t *testing.T) {
	var reqs, h2reqs, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		if r.ProtoMajor == 2 {
			h2reqs.Add(1)
		}
		io.WriteString(w, "ok")
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	sink := &phaseSink{positive: map[metrics.Metric]int{}, all: map[metrics.Metric]int{}}
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 2, Iterations: 5})
	e, err := New(Config{Plan: planOf(l, tlsStep(srv.URL+"/x")), Sink: sink, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.Run(context.Background()); res.Err != nil {
		t.Fatal(res.Err)
	}
	if reqs.Load() != 10 || h2reqs.Load() != 10 || sink.reqs != 10 {
		t.Fatalf("server saw %d requests (%d HTTP/2), loadplan http_reqs %v; want 10, all HTTP/2", reqs.Load(), h2reqs.Load(), sink.reqs)
	}
	if conns.Load() != 2 {
		t.Fatalf("%d connections for 2 VUs, want 2 (the negotiated connection is reused)", conns.Load())
	}
	if got := sink.positive[metrics.HTTPReqTLSHandshaking]; got != 2 {
		t.Fatalf("tls_handshaking above zero in %d samples, want 2 (one per VU's connection)", got)
	}
	if got := sink.all[metrics.HTTPReqDuration]; got != 10 {
		t.Fatalf("%d http_req_duration samples, want 10", got)
	}
	if sink.body != 20 { // the VU's own HTTP/2 client counts DATA bytes (Locust's content size)
		t.Fatalf("body bytes %d over HTTP/2, want 20 (10 bodies of 2 bytes)", sink.body)
	}
}

// newTLSCounter is an https server counting requests and connections; handle answers them.
func newTLSCounter(t *testing.T, idle time.Duration, handle http.HandlerFunc) (*httptest.Server, *atomic.Int64, *atomic.Int64) {
	var reqs, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		handle(w, r)
	}))
	srv.Config.IdleTimeout = idle
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &reqs, &conns
}

// TestTimeoutOverTLSFastPath: a server that never answers; each request is one http_reqs (the
// server read it), one failed request and one timeout error, and nothing hangs.
func TestTimeoutOverTLSFastPath(t *testing.T) {
	srv, reqs, _ := newTLSCounter(t, 0, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	st := tlsStep(srv.URL)
	st.Timeout = 300 * time.Millisecond // long enough for a loaded machine's server to read it
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 2, Iterations: 2})
	col, _ := run(t, Config{Plan: planOf(l, st)})
	if col.sum(metrics.HTTPReqs) != 4 || reqs.Load() != 4 {
		t.Errorf("http_reqs %v, server %d, want 4", col.sum(metrics.HTTPReqs), reqs.Load())
	}
	if e := col.errors(); e["timeout"] != 4 || len(e) != 1 {
		t.Errorf("errors %v, want 4 × timeout", e)
	}
	if col.sum(metrics.HTTPReqFailed) != 4 || col.series(metrics.HTTPReqDuration).Count != 0 {
		t.Errorf("http_req_failed %v, durations %d; want 4, 0", col.sum(metrics.HTTPReqFailed), col.series(metrics.HTTPReqDuration).Count)
	}
}

// TestServerCloseOverTLSFastPath: the server closes idle TLS connections after 20 ms and the
// VUs think 300 ms; the idle probe sees each close (close_notify, then FIN) before a request is
// written, so no request fails or repeats.
func TestServerCloseOverTLSFastPath(t *testing.T) {
	srv, reqs, conns := newTLSCounter(t, 20*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})
	st := tlsStep(srv.URL + "/x")
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 2, Iterations: 3})
	p := planOf(l, st)
	p.Scenarios[0].ThinkTime = plan.ThinkTime{Min: 300 * time.Millisecond, Max: 300 * time.Millisecond}
	col, _ := run(t, Config{Plan: p})
	if e := col.errors(); len(e) != 0 {
		t.Fatalf("errors %v", e)
	}
	if col.sum(metrics.HTTPReqs) != 6 || reqs.Load() != 6 {
		t.Fatalf("http_reqs %v, server saw %d; want 6, 6", col.sum(metrics.HTTPReqs), reqs.Load())
	}
	if conns.Load() < 4 {
		t.Fatalf("%d connections: the server's idle timeout closed none", conns.Load())
	}
}

// TestUntrustedCertificateSendsNothing: without insecure_skip_verify or a CA, the test server's
// certificate is refused; every attempt is a failed request with error tls, none is an
// http_reqs, and the server received nothing.
func TestUntrustedCertificateSendsNothing(t *testing.T) {
	srv, reqs, _ := newTLSCounter(t, 0, func(w http.ResponseWriter, r *http.Request) {})
	st := tlsStep(srv.URL)
	st.Target.InsecureSkipVerify = false
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 3})
	col, _ := run(t, Config{Plan: planOf(l, st)})
	if col.sum(metrics.HTTPReqs) != 0 || reqs.Load() != 0 || col.series(metrics.HTTPReqFailed).Count != 3 {
		t.Fatalf("http_reqs %v, server %d, http_req_failed samples %d; want 0, 0, 3",
			col.sum(metrics.HTTPReqs), reqs.Load(), col.series(metrics.HTTPReqFailed).Count)
	}
	if e := col.errors(); e["tls"] != 3 || len(e) != 1 {
		t.Fatalf("errors %v, want 3 × tls", e)
	}
}

// TestHTTP2ReconnectsThroughItsOwnDial: after the server closed the idle HTTP/2 connection
// that was handed over, the VU's HTTP/2 client dials again itself (SNI, ALPN and the VU's
// session cache as on the fast path): every request still arrives over HTTP/2, none fails, and
// the later connections resume the VU's session.
func TestHTTP2ReconnectsThroughItsOwnDial(t *testing.T) {
	var reqs, h2reqs, resumed, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		if r.ProtoMajor == 2 {
			h2reqs.Add(1)
		}
		if r.TLS.DidResume {
			resumed.Add(1)
		}
		io.WriteString(w, "ok")
	}))
	srv.EnableHTTP2 = true
	srv.Config.IdleTimeout = 20 * time.Millisecond
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: 3})
	p := planOf(l, tlsStep(srv.URL+"/x"))
	p.Scenarios[0].ThinkTime = plan.ThinkTime{Min: 200 * time.Millisecond, Max: 200 * time.Millisecond}
	col, _ := run(t, Config{Plan: p})
	if e := col.errors(); len(e) != 0 {
		t.Fatalf("errors %v", e)
	}
	if col.sum(metrics.HTTPReqs) != 3 || reqs.Load() != 3 || h2reqs.Load() != 3 {
		t.Fatalf("http_reqs %v; server saw %d requests, %d over HTTP/2; want 3, all HTTP/2", col.sum(metrics.HTTPReqs), reqs.Load(), h2reqs.Load())
	}
	if conns.Load() != 3 || resumed.Load() != 2 {
		t.Fatalf("%d connections, %d requests on a resumed session; want 3, 2 (the idle timeout closed each)", conns.Load(), resumed.Load())
	}
}

// TestTargetTLSSettingsOnBothPaths: the target's ca_file (instead of insecure_skip_verify) and
// client certificate are what the fast path's TLS uses, as net/http's; SNI is the URL's host.
// The server requires and verifies the client certificate and counts the requests that
// presented it and the server names the clients sent.
func TestTargetTLSSettingsOnBothPaths(t *testing.T) {
	paths(t, func(t *testing.T) {
		scfg, _ := h1test.TLSConfigs(t)
		ccfg, _ := h1test.TLSConfigs(t) // the client's certificate
		dir := t.TempDir()
		caFile, _ := h1test.WritePEM(t, scfg, dir, "server")
		certFile, keyFile := h1test.WritePEM(t, ccfg, dir, "client")
		pool := x509.NewCertPool()
		pool.AddCert(ccfg.Certificates[0].Leaf)
		var reqs, authed atomic.Int64
		var mu sync.Mutex // guards names
		names := map[string]int{}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reqs.Add(1)
			if len(r.TLS.VerifiedChains) > 0 {
				authed.Add(1)
			}
			io.WriteString(w, "ok")
		}))
		srv.TLS = scfg.Clone()
		srv.TLS.ClientAuth, srv.TLS.ClientCAs = tls.RequireAndVerifyClientCert, pool
		srv.TLS.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			mu.Lock()
			names[hello.ServerName]++
			mu.Unlock()
			return nil, nil
		}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
		st := httpStepOf("s", "a", "GET", url+"/x")
		st.Target = &plan.Target{Name: "mtls", BaseURL: url, Timeout: 10 * time.Second, CAFile: caFile, CertFile: certFile, KeyFile: keyFile}
		l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 2, Iterations: 3})
		col, _ := run(t, Config{Plan: planOf(l, st)})
		if e := col.errors(); len(e) != 0 {
			t.Fatalf("errors %v", e)
		}
		if col.sum(metrics.HTTPReqs) != 6 || reqs.Load() != 6 || authed.Load() != 6 {
			t.Fatalf("http_reqs %v; server saw %d requests, %d with a verified client certificate; want 6, 6, 6",
				col.sum(metrics.HTTPReqs), reqs.Load(), authed.Load())
		}
		mu.Lock()
		defer mu.Unlock()
		if names["localhost"] != 2 || len(names) != 1 {
			t.Fatalf("server names in the handshakes %v, want localhost twice (one connection per VU)", names)
		}
	})
}

// TestCutRequestsOverTLS: graceful_stop's end and the hard abort cut https requests on the
// fast path as they cut plain ones (TestGracefulStopEndCountsCutRequests,
// TestHardAbortCountsRequestsOnTheWire): every request the server received is one http_reqs,
// the cut ones interrupted, without latency.
func TestCutRequestsOverTLS(t *testing.T) {
	t.Run("graceful_stop", func(t *testing.T) {
		srv := newSlowServerOn(t, 3*time.Second, 3, true)
		l := withDefaults(&plan.Load{Model: plan.Users, StartVUs: 4, Stages: []plan.Stage{{Duration: time.Second, Target: 4}}})
		l.GracefulStop = 200 * time.Millisecond
		col, res := run(t, Config{Plan: planOf(l, tlsStep(srv.URL+"/x"))})
		if res.Aborted {
			t.Errorf("result %+v: a graceful_stop cut is not an abort", res)
		}
		checkCut(t, col, srv)
	})
	t.Run("hard_abort", func(t *testing.T) {
		srv := newSlowServerOn(t, time.Hour, 1, true)
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
		checkCut(t, col, srv)
		if srv.received.Load() != 5 {
			t.Errorf("server received %d, want 5", srv.received.Load())
		}
	})
}
