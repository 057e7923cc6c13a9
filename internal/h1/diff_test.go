package h1

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// parsed is one response as a client read it: what checks see, and how the framing ended.
type parsed struct {
	status int
	header http.Header
	body   []byte
	close  bool
	err    error
	// net/http only: a head that h1 refuses on purpose (see the package doc) was taken.
	lenient bool
	// added is a header net/http made up (Cache-Control from Pragma), which h1 does not.
	added string
	// http10te: an HTTP/1.0 response with Transfer-Encoding, after which h1 closes (RFC 9112
	// 6.1) and net/http does not.
	http10te bool
}

// viaNetHTTP reads one response with http.ReadResponse as the Transport does: interim 1xx
// responses are skipped, the body is read to its end.
func viaNetHTTP(br *bufio.Reader, raw []byte, method string) parsed {
	req := &http.Request{Method: method}
	var p parsed
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			p.err = err
			return p
		}
		if resp.ProtoMajor != 1 || strings.Trim(resp.Status[:3], "0123456789") != "" { // "+20", "-00"
			p.lenient = true
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		p.status, p.header, p.close = resp.StatusCode, resp.Header, resp.Close
		p.http10te = resp.ProtoMinor == 0 && bytes.Contains(bytes.ToLower(raw), []byte("transfer-encoding"))
		if pr := resp.Header["Pragma"]; len(pr) > 0 && pr[0] == "no-cache" {
			p.added = "Cache-Control"
		}
		p.body, p.err = io.ReadAll(resp.Body)
		return p
	}
}

// viaH1 reads one response with the Client's parser; lean reads it as a Lean request does.
func viaH1(c *Client, method string, lean bool) parsed {
	var resp Response
	closeAfter, err := c.readResponse(&Request{Method: method, Lean: lean}, &resp, true)
	return parsed{status: resp.Status, header: resp.Header.Clone(), body: resp.Body, close: closeAfter, err: err}
}

// leanDisagreement compares a lean reading with the full one of the same bytes: the same
// status, body, end of the response and verdict, and the same fields a client acts on.
func leanDisagreement(full, lean parsed) string {
	switch {
	case (full.err == nil) != (lean.err == nil):
		return fmt.Sprintf("lean error %v, full %v", lean.err, full.err)
	case full.err != nil:
		return ""
	case full.status != lean.status:
		return fmt.Sprintf("lean status %d, full %d", lean.status, full.status)
	case !bytes.Equal(full.body, lean.body):
		return fmt.Sprintf("lean body %q, full %q", lean.body, full.body)
	case full.close != lean.close:
		return fmt.Sprintf("lean close %v, full %v", lean.close, full.close)
	}
	want := http.Header{}
	for _, k := range []string{"Set-Cookie", "Location", "Content-Encoding"} {
		if v, ok := full.header[k]; ok {
			want[k] = v
		}
	}
	if len(want) == 0 && len(lean.header) == 0 {
		return ""
	}
	if !reflect.DeepEqual(want, lean.header) {
		return fmt.Sprintf("lean header %q, full %q", lean.header, want)
	}
	return ""
}

// disagreement compares h1's reading of a response with net/http's and says how they differ,
// or returns "" when they agree. Where h1 differs from net/http on purpose, the package doc says
// why; each such case is named here.
func disagreement(want, got parsed) string {
	switch {
	case want.err == nil && want.lenient:
		// "HTTP/2.0 200" or a status code "+20" or "-00": net/http takes it, h1 refuses it (RFC 9112 2.3, 4).
		if got.err == nil {
			return "h1 took a status line that is not HTTP/1.x with a 3-digit code"
		}
		return ""
	case want.err != nil && got.err == nil && strings.Contains(want.err.Error(), "suspiciously long trailer"):
		// net/http wants a CR LF CR LF within its read buffer after trailer fields; h1 reads
		// them as header lines (a bare LF ends one) up to 4 KiB.
		if !bytes.Equal(want.body, got.body) {
			return fmt.Sprintf("body %q, net/http %q", got.body, want.body)
		}
		return ""
	case (want.err == nil) != (got.err == nil):
		return fmt.Sprintf("error %v, net/http %v", got.err, want.err)
	case want.err != nil:
		return "" // both refuse the response
	}
	if want.added != "" {
		if _, ok := got.header[want.added]; !ok {
			delete(want.header, want.added)
		}
	}
	if len(want.header) == 0 && len(got.header) == 0 {
		want.header, got.header = nil, nil
	}
	switch {
	case want.status != got.status:
		return fmt.Sprintf("status %d, net/http %d", got.status, want.status)
	case !reflect.DeepEqual(want.header, got.header):
		return fmt.Sprintf("header %q, net/http %q", got.header, want.header)
	case !bytes.Equal(want.body, got.body):
		return fmt.Sprintf("body %q, net/http %q", got.body, want.body)
	case want.close != got.close && want.status != http.StatusSwitchingProtocols && !(want.http10te && got.close):
		return fmt.Sprintf("close %v, net/http %v", got.close, want.close)
	}
	return ""
}

// compareResponses reads up to three responses from raw with both parsers, as one keep-alive
// connection would, and fails t where they disagree. Both read from memory, so nothing waits.
func compareResponses(t *testing.T, raw []byte, method string, bufSize int) {
	t.Helper()
	nr, hr, lr := bytes.NewReader(raw), bytes.NewReader(raw), bytes.NewReader(raw)
	nbr := bufio.NewReaderSize(nr, 4096) // the Transport's read buffer
	c := &Client{br: bufio.NewReaderSize(hr, bufSize)}
	lc := &Client{br: bufio.NewReaderSize(lr, bufSize)} // the same bytes read lean
	for i := 0; i < 3; i++ {
		want := viaNetHTTP(nbr, raw, method)
		got := viaH1(c, method, false)
		if d := disagreement(want, got); d != "" {
			t.Fatalf("%s response %d of %q:\n%s", method, i+1, raw, d)
		}
		if d := leanDisagreement(got, viaH1(lc, method, true)); d != "" {
			t.Fatalf("%s response %d of %q:\n%s", method, i+1, raw, d)
		}
		if got.err == nil && c.br.Buffered()+hr.Len() != lc.br.Buffered()+lr.Len() {
			t.Fatalf("%s response %d of %q: lean left %d bytes, full %d", method, i+1, raw,
				lc.br.Buffered()+lr.Len(), c.br.Buffered()+hr.Len())
		}
		if want.err != nil || got.err != nil || want.close || got.close || want.status == http.StatusSwitchingProtocols {
			return
		}
		// Both keep the connection: the next response must start at the same byte.
		wantLeft, gotLeft := nbr.Buffered()+nr.Len(), c.br.Buffered()+hr.Len()
		if wantLeft != gotLeft {
			t.Fatalf("%s response %d of %q: %d bytes left after it, net/http %d", method, i+1, raw, gotLeft, wantLeft)
		}
		if wantLeft == 0 {
			return
		}
	}
}

// FuzzResponse holds the response parser to net/http's: status, header, body, framing errors and
// where each response ends must agree, for GET and HEAD, with a tiny read buffer or a usual one.
// The lean head (Request.Lean) is held to the full one on the same bytes: same status, body,
// end and verdict, and the same Set-Cookie, Location and Content-Encoding.
func FuzzResponse(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add([]byte(s), false, false)
		f.Add([]byte(s), true, false)
		f.Add([]byte(s), false, true)
	}
	f.Fuzz(func(t *testing.T, raw []byte, head, small bool) {
		if len(raw) > 64<<10 {
			return
		}
		method, size := "GET", 4096
		if head {
			method = "HEAD"
		}
		if small {
			size = 16
		}
		compareResponses(t, raw, method, size)
	})
}

// responseSeeds are realistic and tricky responses; each one also runs in plain `go test`.
var responseSeeds = []string{
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\nDate: Sun, 22 Nov 2026 08:00:00 GMT\r\n\r\n{\"ok\":true}\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;name=val\r\n world\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\nContent-Length: 10\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
	"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nContent-Length: 0x3\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nContent-Length: 4611686018427387904\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\n\tthird\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\n folded-first: x\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\nContent-Length: 2\nX-Bare: lf\n\nok",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nabc\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 ;ext\r\nabc\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-Sum: 1\n\n",
	"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\nHTTP/1.1 201 Created\r\nLocation: /items/1\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 100 Continue\r\nContent-Length: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00",
	"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nokHTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
	"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc",
	"HTTP/1.0 200 OK\r\n\r\nuntil the end",
	"HTTP/1.1 200 OK\r\n\r\nclose-delimited",
	"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nEtag: \"x\"\r\n\r\n",
	"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
	"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX Space : v\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-Bad(name): v\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-Utf8: caf\xc3\xa9 \xc2\xa0\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\nContent-Language: en\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1  200  OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 +20 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 2x0 OK\r\n\r\n",
	"http/1.1 200 OK\r\n\r\n",
	"garbage\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nContent-Le",
	"",
}
