package httpstep

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// seen is what the reference server observed of one request.
type seen struct {
	method, uri, value, ua, length string
	body                           []byte
	proto                          int
}

// h2Reference is a loopback HTTP/2 server (net/http's, x/net/http2's code): it records each
// request it received and answers with the status, the X-Echo field and the body the request
// asks for (query s, v and n).
func h2Reference(t testing.TB) (*httptest.Server, func() []seen) {
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{method: r.Method, uri: r.RequestURI, value: r.Header.Get("X-Value"),
			ua: r.Header.Get("User-Agent"), length: r.Header.Get("Content-Length"), body: b, proto: r.ProtoMajor})
		mu.Unlock()
		q := r.URL.Query()
		st, _ := strconv.Atoi(q.Get("s"))
		n, _ := strconv.Atoi(q.Get("n"))
		w.Header().Set("X-Echo", q.Get("v"))
		w.WriteHeader(st)
		w.Write(bytes.Repeat([]byte("b"), n))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	take := func() []seen {
		mu.Lock()
		defer mu.Unlock()
		out := got
		got = nil
		return out
	}
	return srv, take
}

// leanDo sends one request through an h2conn on a new connection to srv.
func leanDo(t testing.TB, srv *httptest.Server, r *h2req) (*h2resp, error) {
	u, _ := url.Parse(srv.URL)
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN %q", p)
	}
	c := newH2conn(conn, u.Host)
	r.authority, r.scheme, r.deadline = u.Host, "https", time.Now().Add(10*time.Second)
	resp := &h2resp{header: http.Header{}}
	_, err = c.do(r, resp)
	return resp, err
}

// FuzzH2Request holds the VU's HTTP/2 client to net/http's on the same requests: the reference
// server must observe the same method, target, field, user agent, length and body from both,
// and both must read the same status, field and body back; a field value net/http refuses to
// send (CR, LF or NUL) is refused by both, before anything is written.
func FuzzH2Request(f *testing.F) {
	f.Add(uint8(0), "/a", "x", []byte(nil), uint16(200), uint16(3))
	f.Add(uint8(1), "/p/q r", "tab\tin", []byte("hello"), uint16(404), uint16(0))
	f.Add(uint8(2), "/big", "", bytes.Repeat([]byte("z"), 70000), uint16(503), uint16(40000))
	f.Add(uint8(3), "/é", " lead", []byte{}, uint16(301), uint16(1))
	f.Add(uint8(0), "/", "bad\r\nX: y", []byte(nil), uint16(200), uint16(3))
	srv, take := h2Reference(f)
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true,
		DisableCompression: true}
	f.Cleanup(tr.CloseIdleConnections)
	f.Fuzz(func(t *testing.T, m uint8, path, value string, body []byte, status, n uint16) {
		method := []string{"GET", "POST", "PUT", "DELETE"}[m%4]
		st := 200 + int(status)%400
		if st == 204 || st == 304 || st < 200 {
			st = 200 // no body allowed: another test's subject
		}
		size := int(n) % 100000
		for _, r := range value {
			if (r < 0x20 && r != '\t' && r != '\r' && r != '\n' && r != 0) || r == 0x7f || r == utf8Error {
				return // other controls: net/http refuses them, the plan's fields never hold them
			}
		}
		if strings.TrimSpace(value) != value {
			return // net/http trims leading and trailing space; the server's view differs by that only
		}
		q := url.Values{"s": {strconv.Itoa(st)}, "v": {value}, "n": {strconv.Itoa(size)}}.Encode()
		uri := (&url.URL{Path: "/" + path}).EscapedPath() + "?" + q
		hdr := http.Header{"X-Value": {value}}
		var b []byte
		if method != "GET" && method != "DELETE" {
			b = body
			if b == nil {
				b = []byte{}
			}
		}
		lean, lerr := leanDo(t, srv, &h2req{method: method, path: uri, header: hdr, body: b, keepBody: true, fullHeader: true})
		leanSeen := take()
		req, _ := http.NewRequest(method, srv.URL+uri, bytes.NewReader(b))
		if b == nil {
			req, _ = http.NewRequest(method, srv.URL+uri, nil)
		}
		req.Header = hdr.Clone()
		ref, rerr := tr.RoundTrip(req)
		var refBody []byte
		if rerr == nil {
			refBody, _ = io.ReadAll(ref.Body)
			ref.Body.Close()
		}
		refSeen := take()
		if (lerr != nil) != (rerr != nil) {
			t.Fatalf("lean error %v, net/http error %v", lerr, rerr)
		}
		if lerr != nil {
			if !errors.Is(lerr, errInvalidH2Header) || len(leanSeen) != 0 {
				t.Fatalf("lean error %v after the server saw %d requests", lerr, len(leanSeen))
			}
			return
		}
		if len(leanSeen) != 1 || len(refSeen) != 1 {
			t.Fatalf("server saw %d lean requests, %d net/http ones; want 1 each", len(leanSeen), len(refSeen))
		}
		ls, rs := leanSeen[0], refSeen[0]
		if ls.method != rs.method || ls.uri != rs.uri || ls.value != rs.value || ls.ua != rs.ua ||
			ls.length != rs.length || !bytes.Equal(ls.body, rs.body) || ls.proto != 2 || rs.proto != 2 {
			t.Fatalf("server saw\n lean     %+v\n net/http %+v", ls, rs)
		}
		if lean.status != ref.StatusCode || lean.header.Get("X-Echo") != ref.Header.Get("X-Echo") ||
			!bytes.Equal(lean.body, refBody) || len(lean.body) != size {
			t.Fatalf("lean read %d %q %d bytes; net/http %d %q %d bytes", lean.status, lean.header.Get("X-Echo"),
				len(lean.body), ref.StatusCode, ref.Header.Get("X-Echo"), len(refBody))
		}
	})
}

const utf8Error = '\uFFFD'
