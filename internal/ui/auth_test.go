package ui

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func TestResolveAddr(t *testing.T) {
	for _, c := range []struct {
		in, want string
		loopback bool
	}{
		{":8089", "127.0.0.1:8089", true},
		{"127.0.0.1:8089", "127.0.0.1:8089", true},
		{"localhost:8089", "localhost:8089", true},
		{"[::1]:8089", "[::1]:8089", true},
		{"0.0.0.0:8089", "0.0.0.0:8089", false},
		{"192.168.1.5:8089", "192.168.1.5:8089", false},
		{"[::]:8089", "[::]:8089", false},
		{"myhost:8089", "myhost:8089", false},
	} {
		got, loop, err := ResolveAddr(c.in)
		if err != nil || got != c.want || loop != c.loopback {
			t.Errorf("ResolveAddr(%q) = %q, %v, %v; want %q, %v", c.in, got, loop, err, c.want, c.loopback)
		}
	}
	if _, _, err := ResolveAddr("8089"); err == nil {
		t.Error("ResolveAddr(\"8089\") accepted an address without a port separator")
	}
}

// TestListenRefusesNonLoopbackWithoutToken: nothing is bound (the error comes before Listen).
func TestListenRefusesNonLoopbackWithoutToken(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:0"} {
		srv, err := Listen(Config{Addr: addr})
		if !errors.Is(err, ErrNeedToken) {
			if srv != nil {
				srv.Close()
			}
			t.Fatalf("Listen(%s) without a token: %v, want ErrNeedToken", addr, err)
		}
	}
}

// TestTokenOnEveryRoute: with a token, no route answers a request without it (the handlers,
// counted, never run), the header, the cookie of a ?token= visit and Bearer all pass.
func TestTokenOnEveryRoute(t *testing.T) {
	const token = "s3cret-token"
	srv := listen(t, token)
	var reached atomic.Int64
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) })
	page := NewPage(srv, nil, 0)
	_ = page
	srv.Handle("GET /probe", counted)
	srv.Handle("POST /probe", counted)
	srv.Serve()
	base := "http://" + srv.Addr()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest(method, base+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	for _, r := range []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/events"}, {"GET", "/api/state"}, {"GET", "/assets/ui.js"}, {"GET", "/assets/uPlot.js"},
		{"GET", "/files/1/0"}, {"POST", "/api/stop"}, {"POST", "/api/abort"}, {"GET", "/probe"}, {"POST", "/probe"},
	} {
		for _, hdr := range []map[string]string{nil, {"X-Loadplan-Token": "wrong"}, {"Authorization": "Bearer wrong"},
			{"Cookie": tokenCookie + "=wrong"}} {
			if resp := do(r.method, r.path, hdr); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with %v: %s, want 401", r.method, r.path, hdr, resp.Status)
			}
		}
	}
	if resp := do("GET", "/?token=wrong", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("?token=wrong: %s, want 401", resp.Status)
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("a handler ran %d times for requests without the token", n)
	}

	for _, hdr := range []map[string]string{{"X-Loadplan-Token": token}, {"Authorization": "Bearer " + token}, {"Cookie": tokenCookie + "=" + token}} {
		if resp := do("GET", "/probe", hdr); resp.StatusCode != 200 {
			t.Errorf("GET /probe with %v: %s, want 200", hdr, resp.Status)
		}
	}
	// The first visit with ?token= sets the cookie and drops the token from the address.
	resp := do("GET", "/probe?token="+token+"&x=1", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/probe?x=1" {
		t.Fatalf("?token= visit: %s to %q, want 303 to /probe?x=1", resp.Status, resp.Header.Get("Location"))
	}
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == tokenCookie && c.Value == token && c.HttpOnly && c.SameSite == http.SameSiteStrictMode {
			cookie = c.Name + "=" + c.Value
		}
	}
	if cookie == "" {
		t.Fatalf("?token= visit set no HttpOnly SameSite=Strict cookie: %v", resp.Header["Set-Cookie"])
	}
	if resp := do("GET", "/probe", map[string]string{"Cookie": cookie}); resp.StatusCode != 200 {
		t.Errorf("with the cookie: %s", resp.Status)
	}
	if n := reached.Load(); n != 4 {
		t.Fatalf("the handler ran %d times, want 4 (the requests with the token)", n)
	}
}

// TestLoopbackWithoutTokenChecksHost: a request naming another host (DNS rebinding) is refused.
func TestLoopbackWithoutTokenChecksHost(t *testing.T) {
	srv := listen(t, "")
	var reached atomic.Int64
	srv.Handle("GET /probe", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	srv.Serve()
	for host, want := range map[string]int{"evil.example:8089": 421, "localhost:8089": 200, srv.Addr(): 200, "[::1]:1": 200} {
		req, _ := http.NewRequest("GET", "http://"+srv.Addr()+"/probe", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %s, want %d", host, resp.Status, want)
		}
	}
	if n := reached.Load(); n != 3 {
		t.Fatalf("handler ran %d times, want 3", n)
	}
}

// TestPostIsSameOrigin: a state-changing request from another origin never reaches its handler.
func TestPostIsSameOrigin(t *testing.T) {
	srv := listen(t, "")
	var reached atomic.Int64
	srv.Handle("POST /probe", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	srv.Serve()
	url := "http://" + srv.Addr() + "/probe"
	for _, c := range []struct {
		hdr  map[string]string
		want int
	}{
		{map[string]string{"Origin": "http://evil.example"}, 403},
		{map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://other.localhost"}, 403},
		{map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
		{map[string]string{"Origin": "http://" + srv.Addr()}, 200},
		{nil, 200}, // not a browser
	} {
		req, _ := http.NewRequest("POST", url, strings.NewReader(""))
		for k, v := range c.hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("POST with %v: %s, want %d", c.hdr, resp.Status, c.want)
		}
	}
	if n := reached.Load(); n != 3 {
		t.Fatalf("handler ran %d times, want 3 (the same-origin requests)", n)
	}
}
