package ui

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
)

// tokenCookie holds the token after a first ?token= visit, so that the page's own requests (and
// EventSource, which cannot set headers) carry it.
const tokenCookie = "loadplan_ui_token"

// guard wraps every route: the Host check of a loopback server without a token, and the token
// check of a server with one.
//
// Without a token, a loopback server answers only requests whose Host is a loopback name or
// address: a web page elsewhere could otherwise reach it through DNS rebinding (its own name
// resolved to 127.0.0.1) and, the origin then being "the same", start and stop load.
//
// With a token, every request must carry it: "Authorization: Bearer TOKEN", the header
// X-Loadplan-Token, or the cookie set by a first visit to any page with ?token=TOKEN (that visit
// is redirected to the same address without it, so the token does not stay in the address bar
// or the history). A request without it gets 401 and nothing else.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if s.cfg.Token == "" {
			if !loopbackHost(r.Host) {
				http.Error(w, "the web UI answers on a loopback address only (Host "+r.Host+"); use http://127.0.0.1 or bind another address with --ui-token", http.StatusMisdirectedRequest)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if q := r.URL.Query().Get("token"); q != "" && r.Method == http.MethodGet {
			if !s.tokenIs(q) {
				unauthorized(w)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: q, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			u := *r.URL
			qs := u.Query()
			qs.Del("token")
			u.RawQuery = qs.Encode()
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		if !s.tokenIs(requestToken(r)) {
			unauthorized(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requestToken is the token a request carries, "" when none.
func requestToken(r *http.Request) string {
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	if t := r.Header.Get("X-Loadplan-Token"); t != "" {
		return t
	}
	if c, err := r.Cookie(tokenCookie); err == nil {
		return c.Value
	}
	return ""
}

// tokenIs compares in constant time, so that the answer's timing does not spell the token.
func (s *Server) tokenIs(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) == 1
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="loadplan"`)
	http.Error(w, "401 unauthorized: this loadplan web UI needs its token (open the address printed at start, with ?token=…)", http.StatusUnauthorized)
}

// loopbackHost reports whether a Host header names this machine's loopback.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return isLoopbackHost(host)
}

// sameOrigin refuses a state-changing request sent by a page of another origin (the browser
// says so in Sec-Fetch-Site, or its Origin differs from Host): a page elsewhere must not be able
// to start, stop or abort a run through the user's browser. net/http's CrossOriginProtection does
// the checking; requests without either header (curl with the token) are not from a browser.
func sameOrigin(next http.Handler) http.Handler {
	return http.NewCrossOriginProtection().Handler(next)
}
