package executor

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// acceptCounter is a loopback listener that counts the connections it accepts and closes them:
// all a preflight does is connect.
type acceptCounter struct {
	ln net.Listener
	n  atomic.Int64
}

func newAcceptCounter(t *testing.T) *acceptCounter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &acceptCounter{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			a.n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return a
}

// accepted returns the count once it reaches want, or after 10 s: a connect returns before the
// listener's Accept does, so the count lags the dial by a moment.
func (a *acceptCounter) accepted(want int64) int64 {
	deadline := time.Now().Add(10 * time.Second)
	for a.n.Load() < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return a.n.Load()
}

// TestPreflightThroughProxy: behind a proxy the preflight connects to the proxy, not to origins
// it may not even resolve (far.test is never looked up): an http target, an http step and a
// websocket block with their own URLs, all proxied by HTTP_PROXY, make the proxy accept one
// connection (the preflight dials each host:port once) and Preflight succeed; with NO_PROXY
// naming far.test no step is proxied, and a loopback target is dialled itself.
func TestPreflightThroughProxy(t *testing.T) {
	px := newAcceptCounter(t)
	origin := newAcceptCounter(t)
	src := fmt.Sprintf(`
target "far" {
  base_url = "http://far.test:8080"
}
target "near" {
  base_url = "http://%s"
}
scenario "s" {
  http "a" {
    target = target.far
    path   = "/x"
  }
  http "b" {
    url = "http://far.test:8081/y"
  }
  websocket "c" {
    url = "ws://far.test:8082/ws"
    close {}
  }
  http "d" {
    target = target.near
    path   = "/z"
  }
}
load {
  model      = "per_vu_iterations"
  vus        = 1
  iterations = 1
}
`, origin.ln.Addr())
	p, diags := plan.LoadSource("pf.hcl", []byte(src), plan.Options{Env: map[string]string{"HTTP_PROXY": "http://u:pw@" + px.ln.Addr().String()}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	e, err := New(Config{Plan: p, Sink: metrics.SinkFunc(metrics.NewStore().Add)})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Preflight(context.Background())
	if pn, on := px.accepted(1), origin.accepted(1); err != nil || pn != 1 || on != 1 {
		t.Errorf("preflight: %v; the proxy accepted %d connections, the loopback origin %d; want nil, 1, 1", err, pn, on)
	}
	if len(e.hosts) != 2 || !strings.Contains(strings.Join(e.hosts, " "), px.ln.Addr().String()) {
		t.Errorf("preflight hosts %v, want the proxy and the loopback origin", e.hosts)
	}

	// NO_PROXY names far.test: every step goes there directly, so the preflight lists its
	// three ports (not dialled here: far.test is not looked up by this test).
	p, diags = plan.LoadSource("pf.hcl", []byte(src), plan.Options{Env: map[string]string{"HTTP_PROXY": "http://" + px.ln.Addr().String(), "NO_PROXY": "far.test"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if e, err = New(Config{Plan: p, Sink: metrics.SinkFunc(metrics.NewStore().Add)}); err != nil {
		t.Fatal(err)
	}
	want := []string{"far.test:8080", "far.test:8081", "far.test:8082", origin.ln.Addr().String()}
	if fmt.Sprint(e.hosts) != fmt.Sprint(want) {
		t.Errorf("with NO_PROXY=far.test the preflight hosts are %v, want %v", e.hosts, want)
	}
}
