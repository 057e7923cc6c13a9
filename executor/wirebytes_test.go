package executor

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// byteListener counts the bytes its connections read and wrote.
type byteListener struct {
	net.Listener
	in, out *atomic.Int64
}

func (l byteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return byteConn{c, l.in, l.out}, nil
}

type byteConn struct {
	net.Conn
	in, out *atomic.Int64
}

func (c byteConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

func (c byteConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

// TestFastPathBytesEqualTheServers: data_sent and data_received of plain requests on the fast
// path, whose requests are written and first bytes read on the socket below the VU's counting
// wrapper (internal/h1's write inside the wait), equal the bytes the server read and wrote.
func TestFastPathBytesEqualTheServers(t *testing.T) {
	var in, out, reqs atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		reqs.Add(1)
		fmt.Fprintf(w, "read %d bytes of %s", n, r.URL.Path)
	}))
	srv.Listener = byteListener{srv.Listener, &in, &out}
	srv.Start()
	src := fmt.Sprintf(`
target "api" { base_url = %q }
scenario "s" {
  target = target.api
  http "get" { path = "/get/${iter}" }
  http "post" {
    method = "POST"
    path   = "/post"
    body   = "${vu.id}-${iter}-payload"
  }
}
load {
  model      = "per_vu_iterations"
  vus        = 3
  iterations = 20
}
`, srv.URL)
	p, diags := plan.LoadSource("bytes.hcl", []byte(src), plan.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	st := runFast(t, p, true)
	srv.Close() // every connection closed: the server's counts are final
	sent, recv := total(st, metrics.DataSent).Sum, total(st, metrics.DataReceived).Sum
	if n := total(st, metrics.HTTPReqs).Sum; n != 120 || reqs.Load() != 120 {
		t.Fatalf("http_reqs %v, server answered %d; want 120", n, reqs.Load())
	}
	if sent != float64(in.Load()) || recv != float64(out.Load()) {
		t.Fatalf("data_sent %v, data_received %v; the server read %d and wrote %d bytes", sent, recv, in.Load(), out.Load())
	}
}
