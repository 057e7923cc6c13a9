// Command server is the benchmark target of `make bench`: a small, fast HTTP server on loopback
// that answers every request with a trivial 200 over keep-alive connections, and a WebSocket
// endpoint that sends each session one frame per interval (default one a second). It counts what
// it served, so the harness can check every tool's figures against what the target saw.
//
// It is not the demo backend: it does as little work per request as net/http allows, so that the
// generator, not the target, is what the benchmark measures as far as one shared machine permits.
//
// Routes:
//
//	GET /stats       the counts as JSON (not counted as a request); ?reset_peak=1 restarts conns_peak
//	GET /ws          WebSocket: a frame {"type":"tick","seq":N} every -ws-interval per session;
//	                 frames the client sends are read and counted
//	anything else    200 "ok\n" (Content-Length 3)
//
// It listens on 127.0.0.1 only, writes the chosen address to -addr-file when given, and exits on
// SIGINT/SIGTERM after printing the final counts.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// Counts is what the server saw. The harness decodes it from /stats.
type Counts struct {
	Requests       uint64 `json:"requests"`        // HTTP requests answered, excluding /stats and /ws upgrades
	WSSessions     uint64 `json:"ws_sessions"`     // WebSocket sessions accepted
	WSActive       int64  `json:"ws_active"`       // sessions open now
	FramesSent     uint64 `json:"frames_sent"`     // WebSocket frames written
	FramesReceived uint64 `json:"frames_received"` // WebSocket frames read
	Conns          int64  `json:"conns"`           // TCP connections open now (HTTP and WebSocket)
	ConnsPeak      int64  `json:"conns_peak"`      // most TCP connections open at once since start or the last ?reset_peak=1
}

// server holds the counters; every field is an atomic, shared by all handler goroutines.
type server struct {
	requests       atomic.Uint64
	wsSessions     atomic.Uint64
	wsActive       atomic.Int64
	framesSent     atomic.Uint64
	framesReceived atomic.Uint64
	conns          atomic.Int64
	connsPeak      atomic.Int64
	interval       time.Duration
	wg             sync.WaitGroup // WebSocket sessions in flight
	done           chan struct{}  // closed at shutdown: sessions end
}

var okBody = []byte("ok\n")

func (s *server) counts() Counts {
	return Counts{
		Requests:       s.requests.Load(),
		WSSessions:     s.wsSessions.Load(),
		WSActive:       s.wsActive.Load(),
		FramesSent:     s.framesSent.Load(),
		FramesReceived: s.framesReceived.Load(),
		Conns:          s.conns.Load(),
		ConnsPeak:      s.connsPeak.Load(),
	}
}

// connState tracks open connections: a new one counts until it is closed or hijacked (a
// WebSocket session, counted by ws_active instead).
func (s *server) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		n := s.conns.Add(1)
		for {
			p := s.connsPeak.Load()
			if n <= p || s.connsPeak.CompareAndSwap(p, n) {
				break
			}
		}
	case http.StateClosed, http.StateHijacked:
		s.conns.Add(-1)
	}
}

// ServeHTTP routes without a mux: the hot path is one comparison and a write.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/stats":
		if r.URL.Query().Get("reset_peak") == "1" {
			s.connsPeak.Store(s.conns.Load())
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.counts())
		return
	case "/ws":
		s.serveWS(w, r)
		return
	}
	s.requests.Add(1)
	h := w.Header()
	h["Content-Length"] = contentLength
	h["Content-Type"] = contentType
	_, _ = w.Write(okBody)
}

var (
	contentLength = []string{"3"}
	contentType   = []string{"text/plain"}
)

// serveWS accepts a session, sends a frame every interval and counts frames both ways until the
// client goes or the server shuts down.
func (s *server) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	s.wsSessions.Add(1)
	s.wsActive.Add(1)
	defer s.wsActive.Add(-1)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() { // reader: counts frames, ends the session when the client closes
		defer cancel()
		for {
			_, _, err := c.Read(ctx)
			if err != nil {
				return
			}
			s.framesReceived.Add(1)
		}
	}()
	t := time.NewTicker(s.interval)
	defer t.Stop()
	buf := make([]byte, 0, 48)
	for seq := uint64(1); ; seq++ {
		select {
		case <-ctx.Done():
			c.CloseNow()
			return
		case <-s.done:
			c.Close(websocket.StatusGoingAway, "server shutting down")
			return
		case <-t.C:
		}
		buf = append(buf[:0], `{"type":"tick","seq":`...)
		buf = strconv.AppendUint(buf, seq, 10)
		buf = append(buf, '}')
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		err := c.Write(wctx, websocket.MessageText, buf)
		wcancel()
		if err != nil {
			c.CloseNow()
			return
		}
		s.framesSent.Add(1)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	addrFile := flag.String("addr-file", "", "write the listening address to this file once serving")
	interval := flag.Duration("ws-interval", time.Second, "time between frames on each WebSocket session")
	flag.Parse()
	if err := run(*addr, *addrFile, *interval); err != nil {
		fmt.Fprintln(os.Stderr, "bench server:", err)
		os.Exit(1)
	}
}

func run(addr, addrFile string, interval time.Duration) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %q: the benchmark target listens on a loopback address only", addr)
	}
	if interval <= 0 {
		return errors.New("-ws-interval must be positive")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s := &server{interval: interval, done: make(chan struct{})}
	srv := &http.Server{Handler: s, ConnState: s.connState, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute}
	if addrFile != "" {
		tmp := addrFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(ln.Addr().String()), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, addrFile); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "bench server: listening on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
	case err := <-errc:
		return err
	}
	close(s.done)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	s.wg.Wait()
	return json.NewEncoder(os.Stdout).Encode(s.counts())
}
