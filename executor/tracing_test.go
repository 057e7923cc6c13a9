package executor

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// traceRec is what the trace server saw of one request: its path and trace headers.
type traceRec struct {
	path, traceparent, b3, baggage string
}

// traceServer is a counting loopback server that records the trace headers of every request
// (WebSocket handshakes on /ws included, which it upgrades and then closes normally).
type traceServer struct {
	*counter
	mu   sync.Mutex // guards recs
	recs []traceRec
}

func newTraceServer(t *testing.T) *traceServer {
	s := &traceServer{}
	s.counter = newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.recs = append(s.recs, traceRec{r.URL.Path, r.Header.Get("Traceparent"), r.Header.Get("B3"), r.Header.Get("Baggage")})
		s.mu.Unlock()
		if r.URL.Path == "/ws" {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			c.Close(websocket.StatusNormalClosure, "")
			return
		}
		if r.URL.Path == "/fail" {
			w.WriteHeader(500)
		}
	})
	return s
}

func (s *traceServer) records() []traceRec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]traceRec(nil), s.recs...)
}

// spanSink keeps every sample that carries a trace span, and counts http_reqs.
type spanSink struct {
	mu    sync.Mutex // guards spans and reqs
	spans []metrics.Sample
	reqs  int
}

func (s *spanSink) Push(batch []metrics.Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range batch {
		if x.Span != nil {
			s.spans = append(s.spans, x)
		}
		if x.Metric == metrics.HTTPReqs {
			s.reqs++
		}
	}
}

// runTraced loads src (%s is the server's URL) and runs it to the end into a spanSink.
func runTraced(t *testing.T, src, url string) *spanSink {
	t.Helper()
	p, diags := plan.LoadSource("traced.hcl", []byte(fmt.Sprintf(src, url)), plan.Options{})
	if diags.HasErrors() {
		t.Fatalf("plan: %s", diags.Error())
	}
	sink := &spanSink{}
	e, err := New(Config{Plan: p, Sink: sink, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.Run(context.Background()); res.Err != nil {
		t.Fatal(res.Err)
	}
	return sink
}

var (
	traceparentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$`)
	b3RE          = regexp.MustCompile(`^([0-9a-f]{32})-([0-9a-f]{16})-([01])-([0-9a-f]{16})$`)
)

const zeroTrace = "00000000000000000000000000000000"

// TestTracingW3C: every request carries a valid traceparent; the two requests of an iteration
// share its trace id and sampled flag, each iteration has its own trace id, every request its
// own span id; baggage names run, scenario and step; the sampled and the failed requests'
// samples carry a span with the ids the server saw, and no other sample does.
func TestTracingW3C(t *testing.T) {
	srv := newTraceServer(t)
	sink := runTraced(t, `
tracing {
  sampling = 0.5
  baggage  = ["run", "scenario", "step"]
}
target "api" {
  base_url = "%s"
}
scenario "s" {
  target = target.api
  http "first" {
    path = "/a"
  }
  http "second step" {
    path = "/fail"
  }
}
load {
  model      = "per_vu_iterations"
  vus        = 2
  iterations = 50
}
`, srv.URL)
	recs := srv.records()
	if len(recs) != 200 || int(srv.hits.Load()) != 200 || sink.reqs != 200 {
		t.Fatalf("server saw %d requests (%d hits), loadplan counted %d; want 200", len(recs), srv.hits.Load(), sink.reqs)
	}
	spans := map[string]bool{}
	type iter struct {
		n     int
		flags string
	}
	traces := map[string]*iter{}
	sampledAtServer := map[string]traceRec{} // by span id
	for _, r := range recs {
		m := traceparentRE.FindStringSubmatch(r.traceparent)
		if m == nil {
			t.Fatalf("invalid traceparent %q", r.traceparent)
		}
		if m[1] == zeroTrace || m[2] == "0000000000000000" {
			t.Fatalf("all-zero id in %q", r.traceparent)
		}
		if spans[m[2]] {
			t.Fatalf("span id %s sent twice", m[2])
		}
		spans[m[2]] = true
		it := traces[m[1]]
		if it == nil {
			it = &iter{flags: m[3]}
			traces[m[1]] = it
		}
		it.n++
		if it.flags != m[3] {
			t.Errorf("trace %s: sampled flag changed within the iteration", m[1])
		}
		if m[3] == "01" || r.path == "/fail" {
			sampledAtServer[m[2]] = r
		}
		want := "loadplan.run=traced,loadplan.scenario=s,loadplan.step=first"
		if r.path == "/fail" {
			want = "loadplan.run=traced,loadplan.scenario=s,loadplan.step=second%20step"
		}
		if r.baggage != want {
			t.Errorf("baggage %q, want %q", r.baggage, want)
		}
	}
	if len(traces) != 100 {
		t.Errorf("%d trace ids for 100 iterations", len(traces))
	}
	for id, it := range traces {
		if it.n != 2 {
			t.Errorf("trace %s carried %d requests, want the iteration's 2", id, it.n)
		}
	}
	// Spans: one per sampled or failed request, on its http_req_duration sample, ids as sent;
	// and a sampled iteration's root span on its iteration_duration sample.
	roots := 0
	for _, x := range sink.spans {
		if x.Metric == metrics.IterationDuration {
			roots++
			if _, ok := traces[hex.EncodeToString(x.Span.TraceID[:])]; !ok || !x.Span.Sampled {
				t.Errorf("root span %+v: no sampled trace of the server's", x.Span)
			}
		}
	}
	if len(sink.spans)-roots != len(sampledAtServer) {
		t.Errorf("%d samples carry a span; the server saw %d sampled or failed requests", len(sink.spans)-roots, len(sampledAtServer))
	}
	for _, x := range sink.spans {
		if x.Metric == metrics.IterationDuration {
			continue
		}
		if x.Metric != metrics.HTTPReqDuration {
			t.Errorf("span on a %s sample", x.Metric)
		}
		sp := x.Span
		r, ok := sampledAtServer[hex.EncodeToString(sp.SpanID[:])]
		if !ok {
			t.Fatalf("span %x: the server saw no sampled or failed request with it", sp.SpanID)
		}
		m := traceparentRE.FindStringSubmatch(r.traceparent)
		if m[1] != hex.EncodeToString(sp.TraceID[:]) || (m[3] == "01") != sp.Sampled {
			t.Errorf("span %+v, server saw %q", sp, r.traceparent)
		}
		if sp.Parent == ([8]byte{}) || sp.Start == 0 || sp.Error != "" || sp.Phases[3] < 0 {
			t.Errorf("span incomplete: %+v", sp)
		}
	}
}

// TestTracingSampledShare: over 10,000 iterations of one request, the share of sampled trace
// flags the server saw is inside the binomial 99.9%% interval of sampling = 0.1
// (1000 ± 3.29·30, [901, 1099]); the trace ids are all distinct.
func TestTracingSampledShare(t *testing.T) {
	srv := newTraceServer(t)
	sink := runTraced(t, `
tracing {
  sampling = 0.1
}
scenario "s" {
  http "a" {
    url = "%s/a"
  }
}
load {
  model      = "shared_iterations"
  vus        = 4
  iterations = 10000
}
`, srv.URL)
	recs := srv.records()
	if len(recs) != 10000 || sink.reqs != 10000 {
		t.Fatalf("server saw %d, loadplan counted %d; want 10000", len(recs), sink.reqs)
	}
	sampled := 0
	ids := map[string]bool{}
	for _, r := range recs {
		m := traceparentRE.FindStringSubmatch(r.traceparent)
		if m == nil {
			t.Fatalf("invalid traceparent %q", r.traceparent)
		}
		ids[m[1]] = true
		if m[3] == "01" {
			sampled++
		}
	}
	if sampled < 901 || sampled > 1099 {
		t.Errorf("%d of 10000 sampled: outside [901, 1099]", sampled)
	}
	if len(ids) != 10000 {
		t.Errorf("%d distinct trace ids for 10000 iterations", len(ids))
	}
	roots := 0 // a sampled iteration's root span, on its iteration_duration sample
	for _, x := range sink.spans {
		if x.Metric == metrics.IterationDuration {
			roots++
		}
	}
	if len(sink.spans)-roots != sampled || roots != sampled {
		t.Errorf("%d spans and %d roots for %d sampled requests, one per iteration", len(sink.spans)-roots, roots, sampled)
	}
	t.Logf("sampled %d of 10000", sampled)
}

// TestTracingB3AndOverrides: a b3 target gets the single b3 header (its parent the
// iteration's root span, shared with the w3c target's requests of the iteration), a target whose
// override is "none" gets no trace header at all, a header the plan sets itself is sent as
// written, and a WebSocket handshake carries a traceparent.
func TestTracingB3AndOverrides(t *testing.T) {
	srv := newTraceServer(t)
	sink := runTraced(t, `
tracing {
  sampling = 1
}
target "w3c" {
  base_url = "%[1]s"
}
target "old" {
  base_url = "%[1]s"
  tracing {
    propagator = "b3"
  }
}
target "quiet" {
  base_url = "%[1]s"
  tracing {
    propagator = "none"
  }
}
scenario "s" {
  http "w" {
    target = target.w3c
    path   = "/w3c"
  }
  http "b" {
    target = target.old
    path   = "/b3"
  }
  http "q" {
    target = target.quiet
    path   = "/quiet"
  }
  http "own" {
    target  = target.w3c
    path    = "/own"
    headers = { traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }
  }
  websocket "ws" {
    target = target.w3c
    path   = "/ws"
    close {}
  }
}
load {
  model      = "per_vu_iterations"
  vus        = 1
  iterations = 20
}
`, srv.URL)
	byPath := map[string][]traceRec{}
	for _, r := range srv.records() {
		byPath[r.path] = append(byPath[r.path], r)
	}
	for _, p := range []string{"/w3c", "/b3", "/quiet", "/own", "/ws"} {
		if len(byPath[p]) != 20 {
			t.Fatalf("%s: server saw %d requests, want 20", p, len(byPath[p]))
		}
	}
	for i := range 20 {
		w, b, q, own, ws := byPath["/w3c"][i], byPath["/b3"][i], byPath["/quiet"][i], byPath["/own"][i], byPath["/ws"][i]
		mw := traceparentRE.FindStringSubmatch(w.traceparent)
		mb := b3RE.FindStringSubmatch(b.b3)
		mws := traceparentRE.FindStringSubmatch(ws.traceparent)
		if mw == nil || mb == nil || mws == nil || b.traceparent != "" || w.b3 != "" {
			t.Fatalf("iteration %d: w3c %+v, b3 %+v, ws %+v", i, w, b, ws)
		}
		if mb[1] != mw[1] || mws[1] != mw[1] || mb[3] != "1" || mws[3] != "01" {
			t.Errorf("iteration %d: one trace per iteration, sampled: %q %q %q", i, w.traceparent, b.b3, ws.traceparent)
		}
		if q != (traceRec{path: "/quiet"}) {
			t.Errorf("target with propagator none got trace headers: %+v", q)
		}
		if own.traceparent != "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" {
			t.Errorf("the plan's own traceparent was replaced: %q", own.traceparent)
		}
	}
	n := map[metrics.Metric]int{}
	for _, x := range sink.spans {
		n[x.Metric]++
	}
	// sampled: w3c, b3 and ws each have a span per iteration; quiet and own have none; each
	// iteration has its root span
	if n[metrics.HTTPReqDuration] != 40 || n[metrics.WSConnecting] != 20 || n[metrics.IterationDuration] != 20 || len(sink.spans) != 80 {
		t.Errorf("spans by metric %v, want 40 http_req_duration, 20 ws_connecting and 20 iteration_duration", n)
	}
}

// TestTracingOff: a plan without a tracing block sends no trace header and no sample carries a
// span.
func TestTracingOff(t *testing.T) {
	srv := newTraceServer(t)
	sink := runTraced(t, `
scenario "s" {
  http "a" {
    url = "%[1]s/a"
  }
  websocket "ws" {
    url = "%[1]s/ws"
    close {}
  }
}
load {
  model      = "per_vu_iterations"
  vus        = 2
  iterations = 10
}
`, srv.URL)
	recs := srv.records()
	if len(recs) != 40 {
		t.Fatalf("server saw %d requests, want 40", len(recs))
	}
	for _, r := range recs {
		if r.traceparent != "" || r.b3 != "" || r.baggage != "" {
			t.Errorf("tracing off, yet %+v", r)
		}
	}
	if len(sink.spans) != 0 {
		t.Errorf("%d samples carry a span", len(sink.spans))
	}
}
