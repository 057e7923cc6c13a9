package executor

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// gzipServer answers gzip-encoded when asked (Accept-Encoding: gzip) and counts the requests
// that asked and the body bytes it wrote on the wire.
type gzipServer struct {
	*httptest.Server
	hits, asked, bodyBytes, h2 atomic.Int64
}

const gzipPayload = `{"symbol":"AAPL","note":"` + "repeated text compresses well " + `"}`

func newGzipServer(t *testing.T, tls bool) *gzipServer { return newGzipServerH2(t, tls, false) }

// newGzipServerH2 is newGzipServer offering HTTP/2 through ALPN when h2 is set.
func newGzipServerH2(t *testing.T, tls, h2 bool) *gzipServer {
	g := &gzipServer{}
	g.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.hits.Add(1)
		if r.ProtoMajor == 2 {
			g.h2.Add(1)
		}
		body := []byte(strings.Repeat(gzipPayload, 20))
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			g.asked.Add(1)
			var b strings.Builder
			zw := gzip.NewWriter(&b)
			zw.Write(body)
			zw.Close()
			body = []byte(b.String())
			w.Header().Set("Content-Encoding", "gzip")
		}
		g.bodyBytes.Add(int64(len(body)))
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	}))
	g.EnableHTTP2 = h2
	if tls {
		g.StartTLS()
	} else {
		g.Start()
	}
	t.Cleanup(g.Close)
	return g
}

// bodyBytes sums Sample.BodyBytes of the data_received samples.
type bodySink struct {
	store *metrics.Store
	body  atomic.Int64
}

func (b *bodySink) Push(batch []metrics.Sample) {
	b.store.Add(batch)
	for _, s := range batch {
		if s.Metric == metrics.DataReceived {
			b.body.Add(int64(s.BodyBytes))
		}
	}
}

func encodingPlan(t *testing.T, base, attrs string, env map[string]string) *plan.Plan {
	t.Helper()
	src := fmt.Sprintf(`
target "api" {
  base_url             = %q
  insecure_skip_verify = true
  %s
}
scenario "s" {
  http "read" {
    target = target.api
    path   = "/quote"
    check { body_contains = "AAPL" }
  }
  http "blind" {
    target = target.api
    path   = "/quote"
  }
}
load {
  model      = "per_vu_iterations"
  vus        = 2
  iterations = 5
}
`, base, attrs)
	p, diags := plan.LoadSource("enc.hcl", []byte(src), plan.Options{Env: env})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return p
}

// TestCompressionParity: the same plan over plain http (fast path), https (fast path over TLS),
// HTTP/2 (the VU's own h2 client) and through a proxy (net/http's transport) asks for gzip on every request, reports as body
// bytes exactly what the server wrote (the encoded bytes), and decodes the body for the check
// on every path; compression = "none" asks for nothing and reports the plain bytes.
func TestCompressionParity(t *testing.T) {
	px := newTestProxy(t)
	proxyURL := strings.Replace(px.URL, "http://", "http://user:secret@", 1)
	type result struct{ body, checks, asked int64 }
	var got []result
	cases := []struct {
		name, attrs string
		tls, h2     bool
	}{
		{"http", "", false, false}, {"https", "", true, false}, {"http via net/http", fmt.Sprintf("proxy = %q", proxyURL), false, false},
		{"https via net/http", fmt.Sprintf("proxy = %q", proxyURL), true, false}, {"https h2", "", true, true},
		{"https h2 via net/http", fmt.Sprintf("proxy = %q", proxyURL), true, true},
	}
	for _, c := range cases {
		g := newGzipServerH2(t, c.tls, c.h2)
		sink := &bodySink{store: metrics.NewStore()}
		runSink(t, encodingPlan(t, g.URL, c.attrs, nil), sink)
		checks := metrics.Combine(sink.store.Snapshot(), metrics.Checks, nil)
		reqs := metrics.Combine(sink.store.Snapshot(), metrics.HTTPReqs, nil).Sum
		if g.hits.Load() != 20 || reqs != 20 || g.asked.Load() != 20 {
			t.Errorf("%s: server received %d (%d asking for gzip), loadplan %v; want 20", c.name, g.hits.Load(), g.asked.Load(), reqs)
		}
		if c.h2 != (g.h2.Load() == 20) || (!c.h2 && g.h2.Load() != 0) {
			t.Errorf("%s: %d of the requests over HTTP/2", c.name, g.h2.Load())
		}
		if sink.body.Load() != g.bodyBytes.Load() {
			t.Errorf("%s: loadplan body bytes %d, server wrote %d", c.name, sink.body.Load(), g.bodyBytes.Load())
		}
		got = append(got, result{sink.body.Load(), int64(checks.Trues), g.asked.Load()})
	}
	for i, r := range got {
		if r != got[0] || r.checks != 10 {
			t.Errorf("%s: %+v, want %+v as over http with 10 checks passed", cases[i].name, r, got[0])
		}
	}

	g := newGzipServer(t, false)
	sink := &bodySink{store: metrics.NewStore()}
	runSink(t, encodingPlan(t, g.URL, `compression = "none"`, nil), sink)
	checks := metrics.Combine(sink.store.Snapshot(), metrics.Checks, nil)
	plain := int64(20 * len(strings.Repeat(gzipPayload, 20)))
	if g.asked.Load() != 0 || sink.body.Load() != plain || g.bodyBytes.Load() != plain || checks.Trues != 10 {
		t.Errorf("none: %d asked for gzip, body bytes %d (server %d), checks passed %d; want 0, %d, 10",
			g.asked.Load(), sink.body.Load(), g.bodyBytes.Load(), checks.Trues, plain)
	}
	if got[0].body >= plain {
		t.Errorf("gzip body bytes %d not below the plain %d", got[0].body, plain)
	}
}

func runSink(t *testing.T, p *plan.Plan, sink metrics.Sink) {
	t.Helper()
	e, err := New(Config{Plan: p, Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	if res := e.Run(t.Context()); res.Err != nil {
		t.Fatal(res.Err)
	}
}

// TestExpectedStatus: http_req_failed counts by status as k6 does: of 100 requests, 20 answered
// 500 and 10 with a body that fails the check, http_req_failed is 20/100 and checks failed 10;
// expected_status = [200, 500] makes it 0/100; fail_on_check = true adds the check failures.
func TestExpectedStatus(t *testing.T) {
	for _, c := range []struct {
		attrs        string
		failed, fchk uint64
	}{
		{"", 20, 10}, {"expected_status = [200, 500]", 0, 10}, {"fail_on_check = true", 30, 10},
		{`expected_status = ["200-299", "5xx"]` + "\n    fail_on_check = true", 10, 10},
	} {
		var n atomic.Int64
		srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
			i := n.Add(1)
			switch {
			case i%5 == 0: // 20 of 100
				w.WriteHeader(500)
				io.WriteString(w, "ok but failing")
			case i%10 == 1: // 10 of 100
				io.WriteString(w, "nothing here")
			default:
				io.WriteString(w, "ok")
			}
		})
		src := fmt.Sprintf(`
scenario "s" {
  http "get" {
    url = "%s/x"
    %s
    check { body_contains = "ok" }
  }
}
load {
  model      = "shared_iterations"
  vus        = 4
  iterations = 100
}
`, srv.URL, c.attrs)
		p, diags := plan.LoadSource("status.hcl", []byte(src), plan.Options{})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		store := runStore(t, p)
		failed := metrics.Combine(store.Snapshot(), metrics.HTTPReqFailed, nil)
		checks := metrics.Combine(store.Snapshot(), metrics.Checks, nil)
		if srv.hits.Load() != 100 || failed.Count != 100 || failed.Trues != c.failed || checks.Count-checks.Trues != c.fchk {
			t.Errorf("%q: server received %d; http_req_failed %d/%d, checks failed %d/%d; want 100, %d/100, %d/100",
				c.attrs, srv.hits.Load(), failed.Trues, failed.Count, checks.Count-checks.Trues, checks.Count, c.failed, c.fchk)
		}
	}
}
