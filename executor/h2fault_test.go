package executor

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/h1/h1test"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2FaultServer is a raw HTTP/2 server on loopback (TLS, ALPN h2) that counts every request
// stream it received (a HEADERS frame) and every one it answered, and misbehaves on purpose:
// fault(n) is asked, for the n-th request of a connection (from 1), what to do with it.
type h2FaultServer struct {
	addr               string
	received, answered atomic.Int64
	conns              atomic.Int64
	// fault: "" answer, "refuse" RST_STREAM REFUSED_STREAM, "reset" RST_STREAM INTERNAL_ERROR,
	// "goaway" answer then GOAWAY, "close" close unanswered
	fault func(n int) string
	wg    sync.WaitGroup
}

func newH2FaultServer(t *testing.T, fault func(n int) string) *h2FaultServer {
	scfg, _ := h1test.TLSConfigs(t)
	scfg.NextProtos = []string{"h2"}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", scfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &h2FaultServer{addr: ln.Addr().String(), fault: fault}
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	return s
}

// serve speaks just enough HTTP/2 for one client stream at a time.
func (s *h2FaultServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second)) // bounded, whatever the client does
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil {
		return
	}
	fr := http2.NewFramer(c, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if fr.WriteSettings() != nil {
		return
	}
	var hbuf bytes.Buffer
	enc := hpack.NewEncoder(&hbuf)
	n := 0
	goaway := false
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				fr.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			s.received.Add(1)
			if goaway {
				return // after its GOAWAY: counted, never processed, then the close
			}
			n++
			switch s.fault(n) {
			case "refuse":
				fr.WriteRSTStream(f.StreamID, http2.ErrCodeRefusedStream)
				continue
			case "reset":
				fr.WriteRSTStream(f.StreamID, http2.ErrCodeInternal)
				continue
			case "close":
				return
			}
			s.answered.Add(1) // before the answer: the client may finish the run as soon as it has it
			hbuf.Reset()
			enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: hbuf.Bytes(), EndHeaders: true})
			fr.WriteData(f.StreamID, true, []byte("ok"))
			if s.fault(n) == "goaway" {
				fr.WriteGoAway(f.StreamID, http2.ErrCodeNo, nil)
				goaway = true
			}
		}
	}
}

// runH2Fault runs one VU for iters iterations against s and checks loadplan's figures against
// the server's counts: every stream the server received is one http_reqs, every one it did not
// answer one failed request with an error of kind want.
func runH2Fault(t *testing.T, s *h2FaultServer, iters int, want string) {
	t.Helper()
	l := withDefaults(&plan.Load{Model: plan.PerVUIterations, VUs: 1, Iterations: iters})
	col, _ := run(t, Config{Plan: planOf(l, tlsStep("https://"+s.addr+"/x"))})
	recv, ans := s.received.Load(), s.answered.Load()
	if got := col.sum(metrics.HTTPReqs); got != float64(recv) {
		t.Fatalf("http_reqs %v, server received %d streams (answered %d)", got, recv, ans)
	}
	if got := col.sum(metrics.HTTPReqFailed); got != float64(recv-ans) {
		t.Fatalf("http_req_failed %v, server left %d of %d unanswered; errors %v", got, recv-ans, recv, col.errors())
	}
	if ans == recv || ans == 0 {
		t.Fatalf("server answered %d of %d: the fault did not happen", ans, recv)
	}
	errs := col.errors()
	if errs[want] != int(recv-ans) || len(errs) != 1 {
		t.Fatalf("errors %v; want %d of kind %q", errs, recv-ans, want)
	}
}

// TestH2RefusedStreamIsOneFailedRequest: a REFUSED_STREAM is one failed request (net/http resends
// it unseen); the connection stays in use.
func TestH2RefusedStreamIsOneFailedRequest(t *testing.T) {
	s := newH2FaultServer(t, func(n int) string {
		if n%3 == 0 {
			return "refuse"
		}
		return ""
	})
	runH2Fault(t, s, 9, "stream refused")
	if s.received.Load() != 9 || s.conns.Load() != 1 {
		t.Fatalf("server received %d streams on %d connections; want 9 on 1", s.received.Load(), s.conns.Load())
	}
}

// TestH2ResetStream: a stream the server resets (INTERNAL_ERROR) before answering is one
// failed request of kind stream reset; the connection stays in use.
func TestH2ResetStream(t *testing.T) {
	s := newH2FaultServer(t, func(n int) string {
		if n%2 == 0 {
			return "reset"
		}
		return ""
	})
	runH2Fault(t, s, 6, "stream reset")
	if s.received.Load() != 6 || s.conns.Load() != 1 {
		t.Fatalf("server received %d streams on %d connections; want 6 on 1", s.received.Load(), s.conns.Load())
	}
}

// TestH2GoawayAfterN: the server answers 3 streams per connection, then sends GOAWAY naming
// the third and drops the fourth, which the client wrote before reading the GOAWAY: one failed
// request, then a new connection.
func TestH2GoawayAfterN(t *testing.T) {
	s := newH2FaultServer(t, func(n int) string {
		if n == 3 {
			return "goaway"
		}
		return ""
	})
	runH2Fault(t, s, 10, "goaway")
	if s.conns.Load() < 2 {
		t.Fatalf("%d connections; want a new one after each GOAWAY", s.conns.Load())
	}
}

// TestH2ServerCloseMidRequest: the server closes the connection on the third stream of each
// connection without answering: one failed request each, then a new connection.
func TestH2ServerCloseMidRequest(t *testing.T) {
	s := newH2FaultServer(t, func(n int) string {
		if n == 3 {
			return "close"
		}
		return ""
	})
	runH2Fault(t, s, 8, "eof")
	if s.conns.Load() != 3 {
		t.Fatalf("%d connections; want 3", s.conns.Load())
	}
}
