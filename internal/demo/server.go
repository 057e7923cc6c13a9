// Package demo is loadplan's built-in demo backend: a small stock-trading style API with REST
// endpoints and two WebSocket streams (an oscilloscope feed with a start / configure / stop
// protocol and a market ticker with subscriptions), so that every example plan can run with
// nothing else installed. It counts what it sees, so tests can compare loadplan's figures with
// the server's.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// route identifies a counted route; the zero value is "anything else".
type route uint8

const (
	routeOther route = iota
	routeHealth
	routeStocks
	routeStock
	routeLogin
	routePortfolio
	routeSlow
	routeFlaky
	routeOscilloscope
	routeMarket
	numRoutes
)

// routeNames are the keys of Counts.Requests.
var routeNames = [numRoutes]string{
	routeOther:        "other",
	routeHealth:       "GET /api/health",
	routeStocks:       "GET /api/stocks",
	routeStock:        "GET /api/stocks/{symbol}",
	routeLogin:        "POST /api/login",
	routePortfolio:    "GET /api/portfolio",
	routeSlow:         "GET /api/slow",
	routeFlaky:        "GET /api/flaky",
	routeOscilloscope: "GET /api/oscilloscope/ws",
	routeMarket:       "GET /api/market/ws",
}

// Counts is what the server saw since it started.
type Counts struct {
	// Requests counts requests by route pattern ("GET /api/health", ...; "other" for the rest),
	// including WebSocket upgrade requests, whether accepted or not.
	Requests map[string]uint64
	// WSSessions counts WebSocket connections accepted (upgrades that succeeded), all routes.
	WSSessions uint64
	// WSSessionsByRoute counts accepted WebSocket connections per route pattern.
	WSSessionsByRoute map[string]uint64
	// WSFramesReceived counts data frames (text or binary) read from clients.
	WSFramesReceived uint64
	// WSFramesSent counts data frames the server wrote successfully to clients.
	WSFramesSent uint64
	// WSDropped counts connections the server cut abruptly because of ?drop_after=K.
	WSDropped uint64
	// WSHeartbeatTimeouts counts market connections closed for missing pongs.
	WSHeartbeatTimeouts uint64
}

// Total returns the sum of Requests.
func (c Counts) Total() uint64 {
	var n uint64
	for _, v := range c.Requests {
		n += v
	}
	return n
}

// counters are the server's live counts; every field is updated atomically by handlers.
type counters struct {
	requests     [numRoutes]atomic.Uint64
	sessions     [numRoutes]atomic.Uint64
	framesIn     atomic.Uint64
	framesOut    atomic.Uint64
	dropped      atomic.Uint64
	hbTimeouts   atomic.Uint64
	sessionTotal atomic.Uint64
}

// Server is a running demo backend. All methods are safe for concurrent use.
type Server struct {
	ln     net.Listener
	srv    *http.Server
	counts counters
	secret [32]byte // signs login tokens, so tokens need no server-side storage

	// ctx is cancelled by Close; WebSocket handlers (hijacked, so invisible to
	// http.Server.Shutdown) watch it and end their sessions with 1001 going away.
	ctx    context.Context
	cancel context.CancelFunc
	wsWG   sync.WaitGroup // running WebSocket handlers
	served chan struct{}  // closed when Serve returned

	closeOnce sync.Once
	closeErr  error
}

// Listen starts a demo backend on addr ("127.0.0.1:0" picks a free port) and serves it in the
// background until Close.
func Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("demo: listen on %s: %w", addr, err)
	}
	s := &Server{ln: ln, served: make(chan struct{})}
	if _, err := rand.Read(s.secret[:]); err != nil {
		ln.Close()
		return nil, fmt.Errorf("demo: token secret: %w", err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after Shutdown
	}()
	return s, nil
}

// URL returns the server's base URL, e.g. "http://127.0.0.1:8000".
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server: no new connections, in-flight REST requests finish (up to 5 s),
// WebSocket sessions are closed with 1001 (going away). It returns when every handler ended.
// Close is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = s.srv.Close()
		}
		<-s.served
		s.wsWG.Wait()
		s.closeErr = err
	})
	return s.closeErr
}

// Counts returns a snapshot of what the server saw.
func (s *Server) Counts() Counts {
	c := Counts{
		Requests:            make(map[string]uint64, numRoutes),
		WSSessionsByRoute:   make(map[string]uint64, 2),
		WSSessions:          s.counts.sessionTotal.Load(),
		WSFramesReceived:    s.counts.framesIn.Load(),
		WSFramesSent:        s.counts.framesOut.Load(),
		WSDropped:           s.counts.dropped.Load(),
		WSHeartbeatTimeouts: s.counts.hbTimeouts.Load(),
	}
	for r := route(0); r < numRoutes; r++ {
		if n := s.counts.requests[r].Load(); n > 0 {
			c.Requests[routeNames[r]] = n
		}
		if n := s.counts.sessions[r].Load(); n > 0 {
			c.WSSessionsByRoute[routeNames[r]] = n
		}
	}
	return c
}

// routes builds the mux. Each handler is wrapped so that its route is counted before it runs.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(r route, h http.HandlerFunc) {
		mux.HandleFunc(routeNames[r], func(w http.ResponseWriter, req *http.Request) {
			s.counts.requests[r].Add(1)
			h(w, req)
		})
	}
	handle(routeHealth, s.health)
	handle(routeStocks, s.stocks)
	handle(routeStock, s.stock)
	handle(routeLogin, s.login)
	handle(routePortfolio, s.portfolio)
	handle(routeSlow, s.slow)
	handle(routeFlaky, s.flaky)
	handle(routeOscilloscope, s.oscilloscope)
	handle(routeMarket, s.market)
	mux.HandleFunc("GET /openapi.json", openapi) // not counted: see openapi.go
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		s.counts.requests[routeOther].Add(1)
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint: " + req.Method + " " + req.URL.Path})
	})
	return mux
}
