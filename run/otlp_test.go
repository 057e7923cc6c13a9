package run_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/loadplan/loadplan/internal/otlptest"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/run"
)

// traceServer is a loopback target that counts every request (and WebSocket handshake) and
// records its traceparent; /fail answers 500, /ws upgrades and closes.
type traceServer struct {
	srv    *httptest.Server
	hits   atomic.Int64
	wsHits atomic.Int64
	mu     sync.Mutex // guards tps
	tps    []string
}

func newTraceServer(t *testing.T) *traceServer {
	t.Helper()
	s := &traceServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		s.tps = append(s.tps, r.Header.Get("Traceparent"))
		s.mu.Unlock()
		switch r.URL.Path {
		case "/ws":
			s.wsHits.Add(1)
			if c, err := websocket.Accept(w, r, nil); err == nil {
				c.Close(websocket.StatusNormalClosure, "")
			}
			return
		case "/fail":
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// spanKey is a span's trace and span id, as hex, as a traceparent carries them.
type spanKey struct{ trace, span string }

// sampled parses the traceparents the server saw: every request must carry a valid one; it
// returns those whose sampled flag is set.
func (s *traceServer) sampled(t *testing.T) map[spanKey]bool {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[spanKey]bool{}
	for _, tp := range s.tps {
		f := strings.Split(tp, "-")
		if len(f) != 4 || f[0] != "00" || len(f[1]) != 32 || len(f[2]) != 16 || (f[3] != "00" && f[3] != "01") {
			t.Fatalf("request without a valid traceparent: %q", tp)
		}
		if f[3] == "01" {
			out[spanKey{f[1], f[2]}] = true
		}
	}
	return out
}

// traces returns the distinct trace ids of spans: one per sampled iteration.
func traces(spans map[spanKey]bool) map[string]bool {
	out := map[string]bool{}
	for k := range spans {
		out[k.trace] = true
	}
	return out
}

// tracedPlan is a plan of 200 iterations of two requests (the second answered 500) and a
// WebSocket handshake, with a tracing block sampling 0.2 and exporting to endpoint, with a
// secret header.
func tracedPlan(t *testing.T, host, endpoint string) *plan.Plan {
	t.Helper()
	src := fmt.Sprintf(`variable "host" {
  type = string
}

tracing {
  sampling      = 0.2
  otlp_endpoint = %q
  otlp_headers  = { "X-Scope-OrgID" = "tenant-1", Authorization = env("OTLP_TOKEN") }
}

target "api" {
  base_url = var.host
}

scenario "rest" {
  target = target.api
  http "ok" {
    path = "/ok"
  }
  http "fail" {
    path = "/fail"
  }
  websocket "ws" {
    path = "/ws"
    close {}
  }
}

load {
  model      = "shared_iterations"
  vus        = 4
  iterations = 200
}
`, endpoint)
	p, diags := plan.LoadSource(filepath.Join(t.TempDir(), "traced.hcl"), []byte(src), plan.Options{
		Vars: map[string]string{"host": host}, Env: map[string]string{"OTLP_TOKEN": "Bearer t0ps3cret"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return p
}

// checkCounts holds the run's request counts to the server's: 400 HTTP requests and 200
// handshakes.
func checkCounts(t *testing.T, res *run.Result, srv *traceServer) {
	t.Helper()
	reqs, ws := count(res, metrics.HTTPReqs), count(res, metrics.WSSessions)
	if reqs+ws != float64(srv.hits.Load()) || ws != float64(srv.wsHits.Load()) || reqs != 400 || ws != 200 {
		t.Fatalf("http_reqs %v and ws_sessions %v; the server saw %d requests, %d of them handshakes; the plan makes 400 and 200",
			reqs, ws, srv.hits.Load(), srv.wsHits.Load())
	}
}

// otlpDrops is the otlp output's dropped count in the report, -1 when it has none.
func otlpDrops(res *run.Result) int64 {
	for _, d := range res.Report.Dropped {
		if d.Output == "otlp" {
			return int64(d.Count)
		}
	}
	return -1
}

// TestRunExportsTheSampledRequestsSpans: the receiver gets exactly one client span per request
// whose traceparent had the sampled flag, with that traceparent's trace and span id, under one
// root span per sampled iteration, the headers on every export, and no span of an unsampled
// request.
func TestRunExportsTheSampledRequestsSpans(t *testing.T) {
	srv := newTraceServer(t)
	rcv := otlptest.New(t, otlptest.Accept)
	var logs bytes.Buffer
	r := start(t, tracedPlan(t, srv.srv.URL, rcv.URL+"/v1/traces"), run.Config{Name: "traced",
		Logf: func(f string, a ...any) { fmt.Fprintf(&logs, f+"\n", a...) }})
	res := r.Wait()
	checkCounts(t, res, srv)
	want := srv.sampled(t)
	if len(want) == 0 || len(want) == 600 {
		t.Fatalf("%d of 600 requests sampled at 0.2", len(want))
	}
	got := map[spanKey]bool{}
	roots := map[spanKey]bool{} // the iterations' root spans
	var clients []otlptest.Span
	for _, s := range rcv.Spans() {
		k := spanKey{hex.EncodeToString(s.TraceID[:]), hex.EncodeToString(s.SpanID[:])}
		if s.Kind != tracepb.Span_SPAN_KIND_CLIENT {
			if s.Kind != tracepb.Span_SPAN_KIND_INTERNAL || s.Parent != ([8]byte{}) || s.Name != "iteration rest" || roots[k] {
				t.Errorf("a span neither a request's nor an iteration's root: %+v", s)
			}
			roots[k] = true
			continue
		}
		if got[k] {
			t.Errorf("span %v exported twice", k)
		}
		got[k] = true
		clients = append(clients, s)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("sampled request %v has no span", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("span %v is not a sampled request's", k)
		}
	}
	if otlpDrops(res) != 0 {
		t.Errorf("otlp drops %d, want 0 reported", otlpDrops(res))
	}
	if n := len(traces(want)); len(roots) != n {
		t.Errorf("%d root spans for %d sampled iterations (traces)", len(roots), n)
	}
	handshakes := 0
	for _, s := range clients {
		if p := (spanKey{hex.EncodeToString(s.TraceID[:]), hex.EncodeToString(s.Parent[:])}); !roots[p] {
			t.Errorf("span %x: its parent %x is no root span of its trace", s.SpanID, s.Parent)
		}
		if s.Attrs["loadplan.step"] == "ws" {
			handshakes++
			if s.Name != "WS /ws" || s.Attrs["http.request.method"] != "GET" || s.Status == tracepb.Status_STATUS_CODE_ERROR {
				t.Errorf("handshake span %x: %q %v %v", s.SpanID, s.Name, s.Attrs, s.Status)
			}
			continue
		}
		step, st := s.Attrs["loadplan.step"], s.Attrs["http.response.status_code"]
		if (step == "fail") != (st == "500") || (st == "500") != (s.Status == tracepb.Status_STATUS_CODE_ERROR) ||
			s.Resource["service.name"] != "loadplan" || s.Attrs["server.address"] != "127.0.0.1" {
			t.Errorf("span %x: step %q status %q %v, resource %v, attrs %v", s.SpanID, step, st, s.Status, s.Resource, s.Attrs)
		}
	}
	if n := len(traces(want)); handshakes != n {
		t.Errorf("%d handshake spans for %d sampled iterations", handshakes, n)
	}
	t.Logf("server: %d requests, %d sampled; receiver: %d client spans (%d handshakes), %d root spans",
		srv.hits.Load(), len(want), len(got), handshakes, len(roots))
	for _, h := range rcv.Headers() {
		if h.Get("X-Scope-OrgID") != "tenant-1" || h.Get("Authorization") != "Bearer t0ps3cret" {
			t.Errorf("an export without the headers: %v", h)
		}
	}
	if strings.Contains(logs.String(), "t0ps3cret") {
		t.Errorf("the secret header was logged: %s", logs.String())
	}
}

// TestRunDeadCollector: a collector port that refuses and one that never answers slow nothing:
// every request the plan makes reaches the server and is counted, each span of a sampled request
// and of a sampled iteration is counted as dropped, and the summary says so.
func TestRunDeadCollector(t *testing.T) {
	for _, mode := range []string{"refused", "hang"} {
		t.Run(mode, func(t *testing.T) {
			srv := newTraceServer(t)
			endpoint := otlptest.RefusingURL(t)
			var rcv *otlptest.Receiver
			if mode == "hang" {
				rcv = otlptest.New(t, otlptest.Hang)
				endpoint = rcv.URL + "/v1/traces"
			}
			var out, logs bytes.Buffer
			r := start(t, tracedPlan(t, srv.srv.URL, endpoint), run.Config{Name: "traced", Stdout: &out,
				Logf: func(f string, a ...any) { fmt.Fprintf(&logs, f+"\n", a...) }})
			res := r.Wait()
			checkCounts(t, res, srv)
			want := srv.sampled(t)
			// A span per sampled request and a root span per sampled iteration (trace).
			spans := int64(len(want) + len(traces(want)))
			if d := otlpDrops(res); d != spans {
				t.Errorf("otlp drops %d; the server saw %d sampled requests in %d traces", d, len(want), len(traces(want)))
			}
			t.Logf("server: %d requests, %d sampled in %d traces; otlp dropped %d", srv.hits.Load(), len(want), len(traces(want)), otlpDrops(res))
			if note := fmt.Sprintf("output otlp dropped %d spans", spans); !strings.Contains(out.String(), note) {
				t.Errorf("the summary does not say %q:\n%s", note, out.String())
			}
			if rcv != nil && len(rcv.Spans()) != 0 {
				t.Errorf("the hanging receiver recorded %d spans", len(rcv.Spans()))
			}
			if strings.Contains(logs.String(), "t0ps3cret") || !strings.Contains(logs.String(), "spans were dropped") {
				t.Errorf("warnings: %s", logs.String())
			}
		})
	}
}
