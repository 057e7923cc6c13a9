// Package ui serves loadplan's live web UI: the page of `loadplan apply --ui ADDR` that watches
// one run, and the page of `loadplan ui [FOLDER]` that lists a folder's plans, starts them from
// a form (one at a time), watches them and keeps this session's history.
//
// The page is fed by server-sent events built from the run's aggregates (run.Subscribe), never
// from raw samples: one goroutine per watched run encodes one frame per snapshot, once, and hands
// it to every browser through a queue of one frame per client, where a newer frame replaces an
// unread one. Every frame is the whole state (its over-time series bounded in points), so a frame
// dropped for a slow browser loses nothing but an intermediate picture, and a slow or closed
// browser can never block a VU, the run or another browser.
//
// Security (see auth.go): loopback by default; any other address needs a token, checked on every
// request and on the event stream; state-changing requests are POST and must be same-origin.
// Everything the page loads is embedded in the binary (go:embed; uPlot from internal/webassets).
package ui

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/loadplan/loadplan/internal/webassets"
	"github.com/loadplan/loadplan/internal/webview"
)

// Config configures a Server.
type Config struct {
	// Addr is where to listen: "127.0.0.1:8089", ":8089" (loopback port 8089), "0.0.0.0:8089"
	// (every interface; needs Token).
	Addr string
	// Token, when set, is required on every request (header, cookie or a first ?token= visit).
	// A non-loopback Addr without one is refused.
	Token string
}

// Server is the web UI's HTTP server. Create it with Listen; Close ends it.
type Server struct {
	cfg      Config
	ln       net.Listener
	srv      *http.Server
	mux      *http.ServeMux
	loopback bool
	done     chan struct{} // closed when Serve returned
	quit     chan struct{} // closed by Close: event streams end
	closing  sync.Once
}

// ResolveAddr normalises a --ui address: a missing host means loopback (":8089" is
// 127.0.0.1:8089, as Locust's UI is on localhost, never on every interface by accident). It
// reports whether the address is a loopback one.
func ResolveAddr(addr string) (string, bool, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false, fmt.Errorf("--ui %q: write HOST:PORT or :PORT, e.g. :8089 or 127.0.0.1:8089", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), isLoopbackHost(host), nil
}

// isLoopbackHost reports whether host is localhost or a loopback IP.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// ErrNeedToken is returned by Listen for a non-loopback address without a token.
var ErrNeedToken = errors.New("a web UI on a non-loopback address needs a token: set --ui-token TOKEN or LOADPLAN_UI_TOKEN " +
	"(anyone who can reach the port could otherwise start and stop load), or bind to 127.0.0.1")

// Listen checks cfg, binds the address and returns a Server that serves nothing yet: add the
// pages (Handle), then Serve.
func Listen(cfg Config) (*Server, error) {
	addr, loop, err := ResolveAddr(cfg.Addr)
	if err != nil {
		return nil, err
	}
	if !loop && cfg.Token == "" {
		return nil, fmt.Errorf("--ui %s: %w", cfg.Addr, ErrNeedToken)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("web UI: %w", err)
	}
	s := &Server{cfg: cfg, ln: ln, mux: http.NewServeMux(), loopback: loop, done: make(chan struct{}), quit: make(chan struct{})}
	s.mux.Handle("GET /assets/", assetHandler())
	s.srv = &http.Server{Handler: s.guard(s.mux), ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

// Handle adds a route (a net/http pattern, "GET /x" or "POST /x") before Serve. POST routes get
// the same-origin check; every route gets the token check.
func (s *Server) Handle(pattern string, h http.Handler) {
	if strings.HasPrefix(pattern, "POST ") {
		h = sameOrigin(h)
	}
	s.mux.Handle(pattern, h)
}

// Serve serves on its own goroutine until Close.
func (s *Server) Serve() {
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(s.ln) // ErrServerClosed after Close
	}()
}

// Addr is the address bound, e.g. 127.0.0.1:8089 (the real port for :0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the page's address to print. With a token it carries ?token= so that the first visit
// sets the cookie; the page then drops it from the address bar.
func (s *Server) URL() string {
	host, port, _ := net.SplitHostPort(s.Addr())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // reachable from this machine; other machines use its name
	}
	u := "http://" + net.JoinHostPort(host, port) + "/"
	if s.cfg.Token != "" {
		u += "?token=<token>"
	}
	return u
}

// Quit is closed when Close begins; long-lived handlers (event streams) return on it.
func (s *Server) Quit() <-chan struct{} { return s.quit }

// Close stops serving: open event streams end, in-flight requests get a second to finish. It
// may be called more than once.
func (s *Server) Close() {
	s.closing.Do(s.close)
}

func (s *Server) close() {
	close(s.quit)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	select {
	case <-s.done:
	default:
		_ = s.ln.Close() // Serve never ran
	}
}

// The page and its script and style, embedded: the page loads nothing from the network.
//
//go:embed assets/index.html assets/ui.js assets/ui.css
var assets embed.FS

// contentSecurityPolicy lets the page load only from this server: no inline script, no other
// origin, no frame around it (clickjacking the Stop button).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

func serveIndex(w http.ResponseWriter, _ *http.Request) {
	b, _ := assets.ReadFile("assets/index.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// assetHandler serves /assets/: the page's own files, the shared renderer (internal/webview's
// view.js and view.css, the HTML report's too) and uPlot with its license.
func assetHandler() http.Handler {
	files := map[string]struct{ typ, body string }{
		"uPlot.js":      {"text/javascript; charset=utf-8", webassets.UPlotJS},
		"uPlot.css":     {"text/css; charset=utf-8", webassets.UPlotCSS},
		"uPlot.LICENSE": {"text/plain; charset=utf-8", webassets.UPlotLicense},
		"view.js":       {"text/javascript; charset=utf-8", webview.JS},
		"view.css":      {"text/css; charset=utf-8", webview.CSS},
	}
	for _, name := range []string{"ui.js", "ui.css"} {
		b, _ := assets.ReadFile("assets/" + name)
		typ := "text/javascript; charset=utf-8"
		if strings.HasSuffix(name, ".css") {
			typ = "text/css; charset=utf-8"
		}
		files[name] = struct{ typ, body string }{typ, string(b)}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[strings.TrimPrefix(r.URL.Path, "/assets/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", f.typ)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write([]byte(f.body))
	})
}
