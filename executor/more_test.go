package executor

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// TestTLSWithCAFileUsesHTTP2: a target with a CA file verifies the server and negotiates HTTP/2
// through ALPN; each VU keeps its own connection (one TLS handshake per VU).
func TestTLSWithCAFileUsesHTTP2(t *testing.T) {
	var h2, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			h2.Add(1)
		}
		w.Write([]byte("ok"))
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted run's handshake errors are expected
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	target := &plan.Target{Name: "secure", BaseURL: srv.URL, Timeout: 10 * time.Second, CAFile: ca}
	st := httpStepOf("s", "a", "GET", srv.URL+"/x")
	st.Target = target
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 3, Iterations: 4})
	col, _ := run(t, Config{Plan: planOf(l, st)})
	if h2.Load() != 12 || col.sum(metrics.HTTPReqs) != 12 || col.sum(metrics.HTTPReqFailed) != 0 {
		t.Errorf("HTTP/2 requests %d, http_reqs %v, failed %v; want 12, 12, 0", h2.Load(), col.sum(metrics.HTTPReqs), col.sum(metrics.HTTPReqFailed))
	}
	if conns.Load() != 3 {
		t.Errorf("server saw %d connections, want one per VU (3)", conns.Load())
	}
	if tls := col.series(metrics.HTTPReqTLSHandshaking); tls.Hist == nil || tls.Hist.Max <= 0 {
		t.Errorf("no TLS handshake time recorded")
	}

	// Without the CA file the certificate is not trusted: every request fails with a tls error.
	target2 := &plan.Target{Name: "untrusted", BaseURL: srv.URL, Timeout: 10 * time.Second}
	st2 := httpStepOf("s", "a", "GET", srv.URL+"/x")
	st2.Target = target2
	col, _ = run(t, Config{Plan: planOf(l, st2)})
	if e := col.errors(); e["tls"] != 12 {
		t.Errorf("errors %v, want 12 × tls", e)
	}
	// A CA file that does not exist is a clear error from New.
	target3 := &plan.Target{Name: "broken", BaseURL: srv.URL, CAFile: filepath.Join(t.TempDir(), "none.pem")}
	st3 := httpStepOf("s", "a", "GET", srv.URL)
	st3.Target = target3
	if _, err := New(Config{Plan: planOf(l, st3)}); err == nil || !strings.Contains(err.Error(), "ca file") {
		t.Errorf("missing CA file: err = %v", err)
	}
}

func TestThinkTimeAndSleepSteps(t *testing.T) {
	srv := newCounter(t, nil)
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 2, Iterations: 2})
	p := planOf(l, httpStepOf("s", "a", "GET", srv.URL), httpStepOf("s", "b", "GET", srv.URL))
	sc := p.Scenarios[0]
	sc.ThinkTime = plan.ThinkTime{Min: 20 * time.Millisecond, Max: 30 * time.Millisecond}
	sc.Steps[1].HTTP.ThinkTime = &plan.ThinkTime{Min: 5 * time.Millisecond, Max: 5 * time.Millisecond}
	sc.Steps = append(sc.Steps, &plan.Step{Kind: plan.SleepStepKind, Sleep: plan.ThinkTime{Min: 40 * time.Millisecond, Max: 40 * time.Millisecond}})
	col, _ := run(t, Config{Plan: p})
	it := col.series(metrics.IterationDuration)
	// at least 20 ms (a) + 5 ms (b) + 40 ms (sleep) in every iteration
	if it.Count != 4 || it.Hist.Min < 65 {
		t.Errorf("iteration_duration count %d min %.1f ms; want 4 iterations of ≥ 65 ms", it.Count, it.Hist.Min)
	}
	if col.sum(metrics.HTTPReqs) != 8 || srv.hits.Load() != 8 {
		t.Errorf("http_reqs %v, server %d", col.sum(metrics.HTTPReqs), srv.hits.Load())
	}
}

// TestRampDownLetsTheIterationFinish: VUs ramped down while a request is in flight finish it
// within graceful_ramp_down, or are cancelled when it is too short.
func TestRampDownLetsTheIterationFinish(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
		iters float64
	}{{"long grace", time.Minute, 2}, {"short grace", 10 * time.Millisecond, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			started := make(chan struct{}, 10)
			release := make(chan struct{})
			srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
				started <- struct{}{}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			})
			// 2 VUs for 300 ms, then 0 for 1 s: the ramp-down comes while both requests hang.
			l := withDefaults(&plan.Load{Model: plan.Users, StartVUs: 2, GracefulRampDown: tc.grace, Stages: []plan.Stage{
				{Duration: 300 * time.Millisecond, Target: 2}, {Duration: time.Millisecond, Target: 0}, {Duration: time.Second, Target: 0}}})
			col := newCollector()
			e, err := New(Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL)), Sink: col})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan Result)
			go func() { done <- e.Run(context.Background()) }()
			<-started
			<-started
			time.Sleep(800 * time.Millisecond) // well past the ramp-down (and the short grace)
			close(release)
			<-done
			if got := col.sum(metrics.Iterations); got != tc.iters {
				t.Errorf("iterations %v, want %v", got, tc.iters)
			}
			if srv.hits.Load() != 2 {
				t.Errorf("server saw %d, want 2 (no iteration after the ramp-down)", srv.hits.Load())
			}
		})
	}
}

func TestScheduleLagOverBoundSaturates(t *testing.T) {
	srv := newCounter(t, nil)
	l := withDefaults(&plan.Load{Model: plan.ArrivalRate, StartRate: 1, PreAllocatedVUs: 1,
		Stages: []plan.Stage{{Duration: time.Second, Target: 1}}})
	l.MaxScheduleLag = 100 * time.Millisecond
	e, err := New(Config{Plan: planOf(l, httpStepOf("s", "a", "GET", srv.URL)), Sink: newCollector()})
	if err != nil {
		t.Fatal(err)
	}
	v := newVU(e, e.scenarios[0])
	ctx := context.Background()
	v.activate(ctx, ctx, func() { v.iterate(time.Now().Add(-time.Second).UnixNano()) })
	if !e.saturated || !strings.Contains(e.satReason, "schedule lag") {
		t.Errorf("saturated %v %q, want schedule lag", e.saturated, e.satReason)
	}
}
