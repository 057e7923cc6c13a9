package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// counted is an httptest server that counts requests and new connections.
type counted struct {
	*httptest.Server
	reqs, conns atomic.Int64
}

func newCounted(t *testing.T, h http.HandlerFunc) *counted {
	c := &counted{}
	c.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.reqs.Add(1)
		h(w, r)
	}))
	c.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			c.conns.Add(1)
		}
	}
	if serverTLS != nil {
		c.TLS = serverTLS
		c.StartTLS()
	} else {
		c.Start()
	}
	t.Cleanup(c.Close)
	return c
}

func (c *counted) addr() string {
	return strings.TrimPrefix(strings.TrimPrefix(c.URL, "http://"), "https://")
}

func get(addr, uri string) *Request {
	return &Request{Method: "GET", Addr: addr, Host: addr, URI: uri, Header: http.Header{}, TLS: clientTLS}
}

func TestKeepAliveReusesOneConnection(t *testing.T) {
	srv := newCounted(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Path", r.URL.RequestURI())
		io.WriteString(w, "hello "+r.URL.Query().Get("i"))
	})
	var c Client
	defer c.Close()
	var resp Response
	for i := 0; i < 20; i++ {
		resp.Body = resp.Body[:0]
		uri := "/x?i=" + string(rune('a'+i))
		if err := c.Do(context.Background(), get(srv.addr(), uri), &resp, true, nil); err != nil {
			t.Fatal(err)
		}
		if resp.Status != 200 || string(resp.Body) != "hello "+string(rune('a'+i)) || resp.Header.Get("X-Path") != uri {
			t.Fatalf("request %d: status %d body %q X-Path %q", i, resp.Status, resp.Body, resp.Header.Get("X-Path"))
		}
	}
	if srv.reqs.Load() != 20 || srv.conns.Load() != 1 {
		t.Fatalf("server saw %d requests on %d connections, want 20 on 1", srv.reqs.Load(), srv.conns.Load())
	}
}

func TestPostSendsBodyAndHeaders(t *testing.T) {
	type seen struct {
		method, body, ua, custom, host string
		length                         int64
	}
	var got seen
	srv := newCounted(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{r.Method, string(b), r.UserAgent(), r.Header.Get("X-Custom"), r.Host, r.ContentLength}
		w.WriteHeader(http.StatusCreated)
	})
	var c Client
	defer c.Close()
	req := &Request{Method: "POST", Addr: srv.addr(), Host: "example.test", URI: "/login",
		Header: http.Header{"X-Custom": {"v1"}, "Host": {"ignored"}, "Content-Length": {"99"}}, Body: []byte(`{"user":"u1"}`)}
	var resp Response
	if err := c.Do(context.Background(), req, &resp, false, nil); err != nil {
		t.Fatal(err)
	}
	want := seen{"POST", `{"user":"u1"}`, "Go-http-client/1.1", "v1", "example.test", 13}
	if resp.Status != 201 || got != want {
		t.Fatalf("status %d, server saw %+v, want %+v", resp.Status, got, want)
	}
	// An empty POST body is announced as Content-Length: 0.
	req.Body = []byte{}
	if err := c.Do(context.Background(), req, &resp, false, nil); err != nil {
		t.Fatal(err)
	}
	if got.length != 0 || got.body != "" || srv.reqs.Load() != 2 {
		t.Fatalf("empty POST: server saw length %d body %q (%d requests)", got.length, got.body, srv.reqs.Load())
	}
}

func TestChunkedResponse(t *testing.T) {
	srv := newCounted(t, func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 5; i++ {
			io.WriteString(w, strings.Repeat(string(rune('a'+i)), 1000))
			w.(http.Flusher).Flush()
		}
	})
	var c Client
	defer c.Close()
	var resp Response
	for i := 0; i < 3; i++ {
		resp.Body = resp.Body[:0]
		if err := c.Do(context.Background(), get(srv.addr(), "/"), &resp, i != 1, nil); err != nil {
			t.Fatal(err)
		}
		// A chunked response has neither Content-Length nor (taken out, as net/http does)
		// Transfer-Encoding in Header.
		if _, ok := resp.Header["Transfer-Encoding"]; ok || resp.Header.Get("Content-Length") != "" {
			t.Fatalf("response was not chunked, or Transfer-Encoding was left in: %v", resp.Header)
		}
		want := ""
		if i != 1 {
			for j := 0; j < 5; j++ {
				want += strings.Repeat(string(rune('a'+j)), 1000)
			}
		}
		if string(resp.Body) != want {
			t.Fatalf("request %d: body of %d bytes, want %d", i, len(resp.Body), len(want))
		}
	}
	if srv.reqs.Load() != 3 || srv.conns.Load() != 1 {
		t.Fatalf("server saw %d requests on %d connections, want 3 on 1", srv.reqs.Load(), srv.conns.Load())
	}
}

func TestConnectionCloseRedials(t *testing.T) {
	srv := newCounted(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	})
	var c Client
	defer c.Close()
	var resp Response
	var tr Trace
	for i := 0; i < 3; i++ {
		resp.Body = resp.Body[:0]
		if err := c.Do(context.Background(), get(srv.addr(), "/"), &resp, true, &tr); err != nil {
			t.Fatal(err)
		}
		if string(resp.Body) != "bye" || tr.ConnectStart == 0 || tr.ConnectDone < tr.ConnectStart {
			t.Fatalf("request %d: body %q trace %+v", i, resp.Body, tr)
		}
	}
	if srv.conns.Load() != 3 {
		t.Fatalf("server saw %d connections, want 3", srv.conns.Load())
	}
}

// rawServer serves each connection with script, which reads requests from r and writes raw
// responses to w. It counts connections.
func rawServer(t *testing.T, script func(r *bufio.Reader, w net.Conn)) (string, *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if serverTLS != nil {
		ln = tls.NewListener(ln, serverTLS)
	}
	var conns atomic.Int64
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				script(bufio.NewReader(c), c)
			}()
		}
	}()
	return ln.Addr().String(), &conns
}

// readReq consumes one request head (and a Content-Length body); false at EOF.
func readReq(r *bufio.Reader) (string, bool) {
	first := ""
	n := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", false
		}
		if first == "" {
			first = strings.TrimSpace(line)
		}
		if line == "\r\n" {
			break
		}
		if v, ok := strings.CutPrefix(strings.ToLower(line), "content-length:"); ok {
			for _, d := range strings.TrimSpace(v) {
				n = n*10 + int(d-'0')
			}
		}
	}
	r.Discard(n)
	return first, true
}

func TestFramingEdgeCases(t *testing.T) {
	addr, _ := rawServer(t, func(r *bufio.Reader, w net.Conn) {
		for {
			first, ok := readReq(r)
			if !ok {
				return
			}
			switch {
			case strings.HasPrefix(first, "GET /interim "):
				io.WriteString(w, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"+
					"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal")
			case strings.HasPrefix(first, "HEAD "):
				io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
			case strings.HasPrefix(first, "GET /nocontent "):
				io.WriteString(w, "HTTP/1.1 204 No Content\r\n\r\n")
			case strings.HasPrefix(first, "GET /long "):
				io.WriteString(w, "HTTP/1.1 200 OK\r\nX-Long: "+strings.Repeat("x", 10000)+"\r\nX-Fold: a\r\n b\r\nContent-Length: 2\r\n\r\nok")
			case strings.HasPrefix(first, "GET /eof "):
				io.WriteString(w, "HTTP/1.0 200 OK\r\n\r\nuntil the end")
				return
			}
		}
	})
	var c Client
	defer c.Close()
	cases := []struct {
		method, uri, body string
		status            int
		check             func(h http.Header) bool
	}{
		{"GET", "/interim", "final", 200, nil},
		{"HEAD", "/", "", 200, func(h http.Header) bool { return h.Get("Content-Length") == "1000" }},
		{"GET", "/nocontent", "", 204, nil},
		{"GET", "/long", "ok", 200, func(h http.Header) bool { return len(h.Get("X-Long")) == 10000 && h.Get("X-Fold") == "a b" }},
		{"GET", "/interim", "final", 200, nil}, // the connection is still usable after all of the above
		{"GET", "/eof", "until the end", 200, nil},
	}
	var resp Response
	for _, tc := range cases {
		resp.Body = resp.Body[:0]
		req := get(addr, tc.uri)
		req.Method = tc.method
		if err := c.Do(context.Background(), req, &resp, true, nil); err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.uri, err)
		}
		if resp.Status != tc.status || string(resp.Body) != tc.body || (tc.check != nil && !tc.check(resp.Header)) {
			t.Fatalf("%s %s: status %d body %q header %v", tc.method, tc.uri, resp.Status, resp.Body, resp.Header)
		}
	}
}

func TestMalformedResponses(t *testing.T) {
	for _, raw := range []string{
		"HTTP/2.0 200 OK\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
		"garbage\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	} {
		addr, _ := rawServer(t, func(r *bufio.Reader, w net.Conn) {
			if _, ok := readReq(r); ok {
				io.WriteString(w, raw)
			}
		})
		var c Client
		var resp Response
		err := c.Do(context.Background(), get(addr, "/"), &resp, true, nil)
		var pe *ProtocolError
		if !errors.As(err, &pe) {
			t.Errorf("%q: got %v, want a ProtocolError", raw, err)
		}
		c.Close()
	}
}
