package executor

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/executor/httpstep"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// fastServer is a target for the fast-path tests: login sets a cookie and returns a token, the
// quote route needs both, every request and connection is counted.
type fastServer struct {
	*httptest.Server
	reqs, conns, authed atomic.Int64
	mu                  sync.Mutex
	protos              map[string]int
}

func newFastServer(t *testing.T, idle time.Duration, https bool) *fastServer {
	s := &fastServer{protos: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.reqs.Add(1)
		s.mu.Lock()
		s.protos[r.Proto]++
		s.mu.Unlock()
		switch r.URL.Path {
		case "/login":
			b, _ := io.ReadAll(r.Body)
			if !strings.Contains(string(b), `"user":"u`) {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "s-" + r.Header.Get("X-Vu")})
			io.WriteString(w, `{"token":"t-`+r.Header.Get("X-Vu")+`"}`)
		case "/quote":
			c, err := r.Cookie("session")
			if err != nil || r.Header.Get("Authorization") != "Bearer t-"+strings.TrimPrefix(c.Value, "s-") {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			s.authed.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"symbol":%q,"price":1.5}`, r.URL.Query().Get("s"))
		}
	}))
	s.Config.IdleTimeout = idle
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if https {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// fastPlan logs in (POST json, cookie and token captured) and asks for a quote with both, then
// thinks for think; each of vus VUs runs iters iterations.
func fastPlan(t *testing.T, url string, vus, iters int, think string) *plan.Plan {
	insecure := "" // an https test server's certificate is its own
	if strings.HasPrefix(url, "https:") {
		insecure = "insecure_skip_verify = true"
	}
	src := fmt.Sprintf(`
target "api" {
  base_url = %q
  %s
}
scenario "s" {
  target     = target.api
  think_time = %q
  http "login" {
    method  = "POST"
    path    = "/login"
    headers = { "X-Vu" = "${vu.id}" }
    json    = { user = "u${vu.id}", password = "p" }
    check { status = 200 }
    capture "token" { json = "token" }
  }
  http "quote" {
    path    = "/quote"
    query   = { s = "AAPL" }
    headers = { Authorization = "Bearer ${capture.token}" }
    check {
      status        = 200
      body_contains = "AAPL"
    }
  }
}
load {
  model      = "per_vu_iterations"
  vus        = %d
  iterations = %d
}
`, url, insecure, think, vus, iters)
	p, diags := plan.LoadSource("fast.hcl", []byte(src), plan.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return p
}

// runFast runs p with the fast path on or off and returns the store of every sample.
func runFast(t *testing.T, p *plan.Plan, fast bool) *metrics.Store {
	httpstep.SetFastPath(fast)
	defer httpstep.SetFastPath(true)
	store := metrics.NewStore()
	e, err := New(Config{Plan: p, Sink: metrics.SinkFunc(store.Add)})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.Run(context.Background()); res.Err != nil {
		t.Fatal(res.Err)
	}
	return store
}

func total(st *metrics.Store, m metrics.Metric) *metrics.Series {
	return metrics.Combine(st.Snapshot(), m, nil)
}

// TestFastPathAgreesWithNetHTTP runs the same chained plan over the fast path and over net/http:
// the server sees the same requests, every check passes both ways, and the figures agree.
// Over https too: the fast path with TLS under it against net/http's TLS.
func TestFastPathAgreesWithNetHTTP(t *testing.T) {
	for _, c := range []struct{ fast, https bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
		fast := c.fast
		t.Run(fmt.Sprintf("fast=%v,https=%v", fast, c.https), func(t *testing.T) {
			srv := newFastServer(t, 0, c.https)
			st := runFast(t, fastPlan(t, srv.URL, 4, 5, "0s"), fast)
			reqs := total(st, metrics.HTTPReqs).Sum
			if reqs != 40 || srv.reqs.Load() != 40 || srv.authed.Load() != 20 {
				t.Fatalf("http_reqs %v, server saw %d requests, %d authorized quotes; want 40, 40, 20", reqs, srv.reqs.Load(), srv.authed.Load())
			}
			if c := total(st, metrics.Checks); c.Count != 60 || c.Trues != 60 {
				t.Fatalf("checks %d passed of %d, want 60 of 60", c.Trues, c.Count)
			}
			if f := total(st, metrics.HTTPReqFailed); f.Trues != 0 || f.Count != 40 {
				t.Fatalf("http_req_failed %d of %d", f.Trues, f.Count)
			}
			if srv.conns.Load() != 4 {
				t.Fatalf("%d connections for 4 VUs, want 4 (keep-alive)", srv.conns.Load())
			}
			if srv.protos["HTTP/1.1"] != 40 {
				t.Fatalf("protocols %v", srv.protos)
			}
			in, out := total(st, metrics.DataReceived).Sum, total(st, metrics.DataSent).Sum
			if in < 40*100 || out < 40*50 {
				t.Fatalf("data_received %v, data_sent %v: too small for 40 requests", in, out)
			}
			if d := total(st, metrics.HTTPReqDuration); d.Count != 40 || d.Hist.Max <= 0 {
				t.Fatalf("http_req_duration count %d max %v", d.Count, d.Hist.Max)
			}
			if w := total(st, metrics.HTTPReqWaiting); w.Count != 40 || w.Hist.Max <= 0 {
				t.Fatalf("http_req_waiting count %d max %v", w.Count, w.Hist.Max)
			}
		})
	}
}

// TestFastPathReplacesConnectionsTheServerClosed: the server closes idle connections after
// 20 ms and the VUs think for 300 ms, so every login POST (never retried once written) would
// meet a closed socket; the idle probe dials afresh instead, and no request fails or repeats.
func TestFastPathReplacesConnectionsTheServerClosed(t *testing.T) {
	srv := newFastServer(t, 20*time.Millisecond, false)
	st := runFast(t, fastPlan(t, srv.URL, 2, 3, "300ms"), true)
	if e := total(st, metrics.Errors); e.Count != 0 {
		t.Fatalf("%d errors", e.Count)
	}
	if reqs := total(st, metrics.HTTPReqs).Sum; reqs != 12 || srv.reqs.Load() != 12 || srv.authed.Load() != 6 {
		t.Fatalf("http_reqs %v, server saw %d requests and %d authorized quotes; want 12, 12, 6", reqs, srv.reqs.Load(), srv.authed.Load())
	}
	if srv.conns.Load() < 6 {
		t.Fatalf("%d connections: the server's idle timeout did not close any", srv.conns.Load())
	}
}

// TestNetHTTPPathStillWorks runs the step tests that exercise send() (checks, redirects,
// captures and cookies, timeouts, transport errors, latency truth) with the fast path off, so the
// net/http path, which https and HTTP/2 targets take, keeps the same behaviour.
func TestNetHTTPPathStillWorks(t *testing.T) {
	tests := map[string]func(*testing.T){
		"Checks": TestChecks, "RedirectsAreCountedPerHop": TestRedirectsAreCountedPerHop,
		"CapturesAndCookies": TestCapturesAndCookies, "MissingCaptureEndsIterationClearly": TestMissingCaptureEndsIterationClearly,
		"TimeoutIsAnErrorNotAHang": TestTimeoutIsAnErrorNotAHang, "TransportErrorIsCounted": TestTransportErrorIsCounted,
		"RedirectKeepsOneCookieHeader": TestRedirectKeepsOneCookieHeader, "ChecksFailOnTransportError": TestChecksFailOnTransportError,
		"LatencyTruth": TestLatencyTruth, "CoordinatedOmission": TestCoordinatedOmission,
	}
	httpstep.SetFastPath(false)
	defer httpstep.SetFastPath(true)
	for name, fn := range tests {
		t.Run(name, fn)
	}
}
