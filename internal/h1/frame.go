package h1

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// fields are the framing fields of a head: taken from Header, or read into these reused slices
// by a Lean head.
type fields struct {
	te, cl, trailer, conn []string
}

// frame validates the framing fields of a head and normalises them as net/http's ReadResponse
// does, so that checks see the same header on both paths: Transfer-Encoding is taken out, equal
// duplicate Content-Length fields become one, Content-Length is dropped beside chunked, Trailer
// is dropped from a chunked response, and Connection is dropped when it says close (HTTP/1.1).
// A Lean head has its framing fields in c.fixed and nothing of them in Header.
func (c *Client) frame(method string, resp *Response, lean bool) (f framing, err error) {
	h := resp.Header
	fl := &c.fixed
	if !lean {
		fl = &fields{te: h["Transfer-Encoding"], cl: h["Content-Length"], trailer: h["Trailer"], conn: h["Connection"]}
	}
	http10 := resp.Proto == "HTTP/1.0"
	f.bodyless = method == "HEAD" || resp.Status/100 == 1 ||
		resp.Status == http.StatusNoContent || resp.Status == http.StatusNotModified
	if te := fl.te; len(te) > 0 {
		if !lean {
			delete(h, "Transfer-Encoding")
			c.te = te[:0] // the next response's field reuses the slice and its strings
		}
		// RFC 9112 6.1: in HTTP/1.0 it is ignored, as net/http does, but the framing is not
		// trusted beyond this response (net/http keeps such a connection).
		f.close = http10
		if !http10 {
			if f.chunked, f.badTE, err = transferCodings(te); err != nil {
				return f, err
			}
		}
	}
	f.length = -1
	if cl := fl.cl; len(cl) > 0 {
		first := textproto.TrimString(cl[0])
		for _, v := range cl[1:] {
			if textproto.TrimString(v) != first {
				return f, protoErr("conflicting Content-Length values %q", cl)
			}
		}
		if len(cl) > 1 && !lean {
			h["Content-Length"] = append(cl[:0], first)
		}
		n, err := strconv.ParseUint(first, 10, 63) // no sign, no spaces: RFC 9110 8.6
		if err != nil {
			return f, protoErr("bad Content-Length %q", first)
		}
		f.length = int64(n)
	}
	if f.chunked {
		if !f.bodyless && !lean {
			delete(h, "Content-Length") // RFC 9112 6.3: Transfer-Encoding overrides it
		}
		if tr := fl.trailer; len(tr) > 0 {
			if !lean {
				delete(h, "Trailer")
			}
			for _, v := range tr {
				for _, k := range strings.Split(v, ",") {
					switch textproto.CanonicalMIMEHeaderKey(textproto.TrimString(k)) {
					case "Transfer-Encoding", "Trailer", "Content-Length":
						return f, protoErr("bad trailer field %q", k)
					}
				}
			}
		}
	}
	conn := fl.conn
	hasClose := hasToken(conn, "close")
	if http10 {
		f.close = f.close || hasClose || !hasToken(conn, "keep-alive")
	} else {
		f.close = hasClose
		if hasClose && !lean {
			delete(h, "Connection")
		}
	}
	return f, nil
}

// transferCodings reads the Transfer-Encoding fields of an HTTP/1.1 response. A single
// "chunked" is chunked. A list whose final coding is chunked is framed as chunked (RFC 9112
// 6.3) but reported in badTE, to be refused once the body is read: net/http refuses it at once,
// and neither client decodes gzip or deflate transfer codings. Any other list leaves the body's
// length unknown and is refused at once, as net/http does.
func transferCodings(te []string) (chunked bool, badTE string, err error) {
	if len(te) == 1 && asciiEqualFold(te[0], "chunked") {
		return true, "", nil
	}
	all := strings.Join(te, ",")
	codings := strings.Split(all, ",")
	n := 0
	for _, x := range codings {
		if x = textproto.TrimString(x); x != "" {
			codings[n] = x
			n++
		}
	}
	codings = codings[:n]
	for i, x := range codings {
		if asciiEqualFold(x, "chunked") && i != n-1 {
			return false, "", protoErr("transfer coding %q: chunked is not the final coding", all)
		}
	}
	if n == 0 || !asciiEqualFold(codings[n-1], "chunked") {
		return false, "", protoErr("transfer coding %q (only chunked is supported)", all)
	}
	return true, all, nil
}

// hasToken reports whether a comma-separated list field holds token (httpguts does the same).
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for {
			elem, rest, more := strings.Cut(v, ",")
			if asciiEqualFold(textproto.TrimString(elem), token) {
				return true
			}
			if !more {
				break
			}
			v = rest
		}
	}
	return false
}

// slot returns where a lean head keeps the framing field name, or nil for another field.
func (fx *fields) slot(name []byte) *[]string {
	switch len(name) {
	case len("Content-Length"):
		if equalFoldBytes("Content-Length", name) {
			return &fx.cl
		}
	case len("Transfer-Encoding"):
		if equalFoldBytes("Transfer-Encoding", name) {
			return &fx.te
		}
	case len("Connection"):
		if equalFoldBytes("Connection", name) {
			return &fx.conn
		}
	case len("Trailer"):
		if equalFoldBytes("Trailer", name) {
			return &fx.trailer
		}
	}
	return nil
}

// actedOn returns the canonical key of the fields a lean head still keeps in Header: cookies go
// to the jar, Location to a redirect and Content-Encoding to the decoding of a body a check
// reads, whatever the checks read of the head.
func actedOn(name []byte) string {
	switch {
	case len(name) == len("Content-Encoding") && equalFoldBytes("Content-Encoding", name):
		return "Content-Encoding"
	case len(name) == len("Set-Cookie") && equalFoldBytes("Set-Cookie", name):
		return "Set-Cookie"
	case len(name) == len("Location") && equalFoldBytes("Location", name):
		return "Location"
	}
	return ""
}
