package executor

import (
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/loadplan/loadplan/executor/httpstep"
	"github.com/loadplan/loadplan/metrics"
)

// TestTracingPaths: the trace headers go out on every client path (the HTTP/1.1 fast path,
// net/http with the fast path off, HTTP/2 through ALPN), each request with its own span; a
// WebSocket handshake the server refuses keeps its trace id on its ws_errors sample.
func TestTracingPaths(t *testing.T) {
	for _, c := range []struct {
		name      string
		tls, h2   bool
		fastPath  bool
		wantProto int
	}{
		{"fast", false, false, true, 1},
		{"nethttp", false, false, false, 1},
		{"h2", true, true, true, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			httpstep.SetFastPath(c.fastPath)
			defer httpstep.SetFastPath(true)
			var mu sync.Mutex // guards seen
			var seen []traceRec
			protos := map[int]int{}
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, traceRec{r.URL.Path, r.Header.Get("Traceparent"), r.Header.Get("B3"), r.Header.Get("Baggage")})
				protos[r.ProtoMajor]++
				mu.Unlock()
				if r.URL.Path == "/nows" {
					w.WriteHeader(404)
				}
			}))
			srv.EnableHTTP2 = c.h2
			if c.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			ws := `
  websocket "ws" {
    path = "/nows"
    close {}
  }`
			if c.tls {
				ws = "" // the handshake is HTTP/1.1 whatever the target: once is enough
			}
			sink := runTraced(t, `
tracing {
  sampling = 0
}
target "api" {
  base_url             = "%s"
  insecure_skip_verify = true
}
scenario "s" {
  target = target.api
  http "a" {
    path = "/a"
  }
  http "b" {
    path = "/b"
  }`+ws+`
}
load {
  model      = "per_vu_iterations"
  vus        = 2
  iterations = 10
}
`, srv.URL)
			mu.Lock()
			defer mu.Unlock()
			perIter := 2
			if ws != "" {
				perIter = 3
			}
			if len(seen) != 20*perIter || protos[c.wantProto] != len(seen) {
				t.Fatalf("server saw %d requests (protocols %v), want %d over HTTP/%d", len(seen), protos, 20*perIter, c.wantProto)
			}
			spans, traces := map[string]bool{}, map[string]int{}
			var refused []string
			for _, r := range seen {
				m := traceparentRE.FindStringSubmatch(r.traceparent)
				if m == nil || m[3] != "00" {
					t.Fatalf("%s: traceparent %q, want a valid unsampled one", r.path, r.traceparent)
				}
				spans[m[2]] = true
				traces[m[1]]++
				if r.path == "/nows" {
					refused = append(refused, m[1])
				}
			}
			if len(spans) != len(seen) || len(traces) != 20 {
				t.Errorf("%d span ids and %d trace ids for %d requests in 20 iterations", len(spans), len(traces), len(seen))
			}
			// sampling 0: only the refused handshakes are spans, on ws_errors, ids as sent
			if len(sink.spans) != len(refused) {
				t.Fatalf("%d spans, want one per refused handshake (%d)", len(sink.spans), len(refused))
			}
			for i, x := range sink.spans {
				if x.Metric != metrics.WSErrors || x.Span.Error != "handshake_404" || x.Span.Sampled {
					t.Errorf("span on %s %+v", x.Metric, x.Span)
				}
				if got := hex.EncodeToString(x.Span.TraceID[:]); !slices.Contains(refused, got) {
					t.Errorf("span %d: trace id %s not among the refused handshakes' %v", i, got, refused)
				}
			}
		})
	}
}
