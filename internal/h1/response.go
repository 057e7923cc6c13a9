package h1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
)

// maxHeaderBytes bounds the heads of one response: the interim (1xx) heads and the final one
// together, as net/http's Transport bounds them (its limit is 10 MiB; see the package doc).
const maxHeaderBytes = 1 << 20

// framing is how the body of a response is delimited, decided from its head as net/http's
// readTransfer decides it.
type framing struct {
	bodyless bool   // HEAD, 1xx, 204, 304: no body whatever the head says
	chunked  bool   // chunked is the final transfer coding
	badTE    string // transfer codings besides chunked: framed, then refused (see frame)
	length   int64  // Content-Length, -1 when absent
	close    bool   // the connection ends with this response
}

// readResponse reads one response (skipping 1xx interim ones) and its body. It reports whether
// the connection must be closed afterwards.
func (c *Client) readResponse(req *Request, resp *Response, keepBody bool) (closeAfter bool, err error) {
	budget := maxHeaderBytes
	var f framing
	for {
		if err := c.readHead(resp, &budget, req.Lean); err != nil {
			return true, err
		}
		// An interim head is checked as a final one is: net/http fails on a bad one too.
		if f, err = c.frame(req.Method, resp, req.Lean); err != nil {
			return true, err
		}
		if resp.Status >= 100 && resp.Status < 200 && resp.Status != http.StatusSwitchingProtocols {
			continue // 100 Continue, 103 Early Hints: the real response follows
		}
		break
	}
	if !keepBody {
		resp.Body = resp.Body[:0]
	}
	resp.BodyLen = 0
	switch {
	case f.bodyless:
		err = nil
	case f.chunked:
		err = c.readChunked(resp, keepBody)
	case f.length >= 0:
		err = c.readN(resp, f.length, keepBody)
	default:
		// No length: the body runs to the end of the connection.
		f.close = true
		err = c.readToEOF(resp, keepBody)
	}
	if err == nil && f.badTE != "" {
		err = protoErr("transfer coding %q (only chunked is supported)", f.badTE)
	}
	return f.close || err != nil || resp.Status == http.StatusSwitchingProtocols, err
}

// readHead parses the status line and the header fields into resp. budget is what is left of
// maxHeaderBytes for this response. A lean head keeps only the framing fields (in c.fixed) and
// the fields a client acts on (Set-Cookie, Location, Content-Encoding, in resp.Header); every other field is
// checked as in a full head and skipped, without a key or a map entry.
func (c *Client) readHead(resp *Response, budget *int, lean bool) error {
	line, err := c.readLine()
	if err != nil {
		return err
	}
	if *budget -= len(line); *budget < 0 {
		return protoErr("response head larger than %d bytes", maxHeaderBytes)
	}
	if err := parseStatusLine(line, resp); err != nil {
		return err
	}
	if c.header == nil {
		c.header = make(http.Header, 8)
	}
	h := c.header
	// A lean head leaves the map empty nearly always: even ranging over an empty map costs an
	// iterator set-up per response (0.6 % of the bench's user CPU), hence the length tests.
	if len(h) > 0 {
		for k, v := range h {
			h[k] = v[:0] // keep the slices (and their strings, for reuse) of the previous response
		}
	}
	resp.Header = h
	fx := &c.fixed
	fx.te, fx.cl, fx.trailer, fx.conn = fx.te[:0], fx.cl[:0], fx.trailer[:0], fx.conn[:0]
	var last string // key of the previous field, for obsolete line folding
	var lastFixed *[]string
	for {
		line, err := c.readLine()
		if err != nil {
			return unexpected(err)
		}
		if len(line) == 0 {
			break
		}
		if *budget -= len(line); *budget < 0 {
			return protoErr("response head larger than %d bytes", maxHeaderBytes)
		}
		if line[0] == ' ' || line[0] == '\t' { // obs-fold: continues the previous value
			if last == "" {
				return protoErr("header continuation line %q without a field", trunc(line))
			}
			cont := trimOWS(line)
			if !validValue(cont) {
				return protoErr("header line %q", trunc(line))
			}
			var vs []string
			switch {
			case lastFixed != nil:
				vs = *lastFixed
			case lean && last != "Set-Cookie" && last != "Location" && last != "Content-Encoding":
				continue // a skipped field
			default:
				vs = h[last]
			}
			// As textproto joins folded lines: one space, leading whitespace of the value cut.
			vs[len(vs)-1] = strings.TrimLeft(vs[len(vs)-1]+" "+string(cont), " \t")
			continue
		}
		name, val, err := splitField(line)
		if err != nil {
			return err
		}
		if lean {
			last, lastFixed = "-", nil // a field, though perhaps skipped
			if p := fx.slot(name); p != nil {
				*p, lastFixed = appendValue(*p, val), p
				continue
			}
			if k := actedOn(name); k != "" {
				h[k], last = appendValue(h[k], val), k
			}
			continue
		}
		key := canonicalKey(name)
		vs, ok := h[key]
		if !ok && key == "Transfer-Encoding" {
			vs = c.te
		}
		h[key] = appendValue(vs, val)
		last = key
	}
	if len(h) > 0 {
		for k, v := range h {
			if len(v) == 0 {
				delete(h, k)
			}
		}
	}
	return nil
}

// appendValue appends val to vs, reusing the string left past len(vs) by the previous response
// when it is the same value (no allocation for a header like the last one).
func appendValue(vs []string, val []byte) []string {
	n := len(vs)
	if n < cap(vs) && vs[:n+1][n] == string(val) {
		return vs[:n+1]
	}
	return append(vs, string(val))
}

// parseStatusLine parses "HTTP/1.1 200 OK" as net/http does (spaces before the code are
// skipped, the reason is optional), except that only HTTP/1.x is taken and the code must be three
// digits (RFC 9112 4; net/http also takes "HTTP/2.0", "+99" and "-00").
func parseStatusLine(line []byte, resp *Response) error {
	proto, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		return protoErr("status line %q", trunc(line))
	}
	if len(proto) != 8 || !bytes.HasPrefix(proto, []byte("HTTP/1.")) || proto[7] < '0' || proto[7] > '9' {
		return protoErr("version %q", trunc(proto))
	}
	switch proto[7] {
	case '1':
		resp.Proto = "HTTP/1.1"
	case '0':
		resp.Proto = "HTTP/1.0"
	default:
		resp.Proto = string(proto) // a later 1.x is read as 1.1 (RFC 9112 2.3)
	}
	rest = bytes.TrimLeft(rest, " ")
	code, _, _ := bytes.Cut(rest, []byte(" "))
	if len(code) != 3 {
		return protoErr("status code %q", trunc(code))
	}
	n := 0
	for _, d := range code {
		if d < '0' || d > '9' {
			return protoErr("status code %q", trunc(code))
		}
		n = n*10 + int(d-'0')
	}
	resp.Status = n
	return nil
}

// readLine returns the next line without its LF or CR LF (a bare LF ends a line in a head, RFC
// 9112 2.2, as in net/http). The slice is valid until the next read.
func (c *Client) readLine() ([]byte, error) {
	line, err := c.readRawLine(maxHeaderBytes)
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readRawLine returns the next line with its LF, of at most limit bytes.
func (c *Client) readRawLine(limit int) ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		c.line = append(c.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(c.line) > limit {
				return nil, protoErr("line longer than %d bytes", limit)
			}
			line, err = c.br.ReadSlice('\n')
			c.line = append(c.line, line...)
		}
		line = c.line
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) > limit {
		return nil, protoErr("line longer than %d bytes", limit)
	}
	return line, nil
}

// readN reads an n-byte body. The buffer grows as the bytes arrive, at most 1 MiB ahead of them:
// a Content-Length of a terabyte costs memory only for what the server really sends.
func (c *Client) readN(resp *Response, n int64, keep bool) error {
	if !keep {
		for n > 0 {
			got, err := c.br.Discard(int(min(n, 1<<30)))
			n -= int64(got)
			resp.BodyLen += int64(got)
			if err != nil && n > 0 {
				return unexpected(err)
			}
		}
		return nil
	}
	start := len(resp.Body)
	b := resp.Body
	for n > 0 {
		if len(b) == cap(b) {
			b = slices.Grow(b, int(min(n, 1<<20)))
		}
		got, err := c.br.Read(b[len(b):min(int64(cap(b)), int64(len(b))+n)])
		b = b[:len(b)+got]
		n -= int64(got)
		resp.BodyLen += int64(got)
		if err != nil && n > 0 {
			resp.Body = b[:start]
			return unexpected(err)
		}
	}
	resp.Body = b
	return nil
}

// readToEOF reads a close-delimited body.
func (c *Client) readToEOF(resp *Response, keep bool) error {
	buf := make([]byte, 0, 512)
	if keep {
		buf = resp.Body
	}
	for {
		if len(buf) == cap(buf) {
			if keep {
				buf = append(buf, 0)[:len(buf)]
			} else {
				buf = buf[:0]
			}
		}
		n, err := c.br.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		resp.BodyLen += int64(n)
		if err == io.EOF {
			if keep {
				resp.Body = buf
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}
