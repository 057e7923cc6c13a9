package h1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
)

// maxHeaderBytes bounds a response head, as net/http's default does for requests (1 MiB).
const maxHeaderBytes = 1 << 20

// readResponse reads one response (skipping 1xx interim ones) and its body. It reports whether
// the connection must be closed afterwards.
func (c *Client) readResponse(req *Request, resp *Response, keepBody bool) (closeAfter bool, err error) {
	for {
		if err := c.readHead(resp); err != nil {
			return true, err
		}
		if resp.Status >= 100 && resp.Status < 200 && resp.Status != http.StatusSwitchingProtocols {
			continue // 100 Continue, 103 Early Hints: the real response follows
		}
		break
	}
	h := resp.Header
	closeAfter = resp.Proto == "HTTP/1.0"
	if conn, ok := h["Connection"]; ok {
		for _, v := range conn {
			switch {
			case asciiEqualFold(v, "close"):
				closeAfter = true
			case asciiEqualFold(v, "keep-alive"):
				closeAfter = false
			}
		}
	}
	if !keepBody {
		resp.Body = resp.Body[:0]
	}
	switch {
	case req.Method == "HEAD" || resp.Status == http.StatusNoContent || resp.Status == http.StatusNotModified ||
		resp.Status == http.StatusSwitchingProtocols:
		return closeAfter || resp.Status == http.StatusSwitchingProtocols, nil
	case chunked(h):
		return closeAfter, c.readChunked(resp, keepBody)
	}
	if cl, ok := h["Content-Length"]; ok && len(cl) > 0 {
		n, err := strconv.ParseInt(textproto.TrimString(cl[0]), 10, 64)
		if err != nil || n < 0 {
			return true, protoErr("bad Content-Length %q", cl[0])
		}
		for _, v := range cl[1:] {
			if textproto.TrimString(v) != textproto.TrimString(cl[0]) {
				return true, protoErr("conflicting Content-Length values")
			}
		}
		return closeAfter, c.readN(resp, n, keepBody)
	}
	// No length: the body runs to the end of the connection.
	return true, c.readToEOF(resp, keepBody)
}

// readHead parses the status line and the header fields into resp.
func (c *Client) readHead(resp *Response) error {
	line, err := c.readLine()
	if err != nil {
		return err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return protoErr("status line %q", trunc(line))
	}
	switch line[7] {
	case '1':
		resp.Proto = "HTTP/1.1"
	case '0':
		resp.Proto = "HTTP/1.0"
	default:
		return protoErr("version %q", trunc(line[:8]))
	}
	code := 0
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return protoErr("status code %q", trunc(line[9:12]))
		}
		code = code*10 + int(d-'0')
	}
	if len(line) > 12 && line[12] != ' ' {
		return protoErr("status line %q", trunc(line))
	}
	resp.Status = code
	if c.header == nil {
		c.header = make(http.Header, 8)
	}
	h := c.header
	for k, v := range h {
		h[k] = v[:0] // keep the slices (and their strings, for reuse) of the previous response
	}
	resp.Header = h
	total := 0
	var last string // key of the previous field, for obsolete line folding
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		if total += len(line); total > maxHeaderBytes {
			return protoErr("response head larger than %d bytes", maxHeaderBytes)
		}
		if line[0] == ' ' || line[0] == '\t' { // obs-fold: continues the previous value
			if vs := h[last]; last != "" && len(vs) > 0 {
				vs[len(vs)-1] += " " + string(bytes.TrimSpace(line))
			}
			continue
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 {
			return protoErr("header line %q", trunc(line))
		}
		key := canonicalKey(line[:i])
		val := bytes.TrimSpace(line[i+1:])
		vs := h[key]
		n := len(vs)
		if n < cap(vs) && vs[:n+1][n] == string(val) {
			vs = vs[:n+1] // the same value as in the previous response: no allocation
		} else {
			vs = append(vs, string(val))
		}
		h[key] = vs
		last = key
	}
	for k, v := range h {
		if len(v) == 0 {
			delete(h, k)
		}
	}
	return nil
}

// readLine returns the next line without its CR LF. The slice is valid until the next read.
func (c *Client) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		c.line = append(c.line[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(c.line) > maxHeaderBytes {
				return nil, protoErr("header line longer than %d bytes", maxHeaderBytes)
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
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readN reads an n-byte body.
func (c *Client) readN(resp *Response, n int64, keep bool) error {
	if !keep {
		got, err := c.br.Discard(int(n))
		if err != nil && int64(got) < n {
			return unexpected(err)
		}
		return nil
	}
	start := len(resp.Body)
	resp.Body = grow(resp.Body, int(n))
	if _, err := io.ReadFull(c.br, resp.Body[start:start+int(n)]); err != nil {
		resp.Body = resp.Body[:start]
		return unexpected(err)
	}
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

// readChunked reads a chunked body and its trailer (trailer fields are dropped).
func (c *Client) readChunked(resp *Response, keep bool) error {
	for {
		line, err := c.readLine()
		if err != nil {
			return unexpected(err)
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || len(line) > 16 {
			return protoErr("chunk size %q", trunc(line))
		}
		size, err := strconv.ParseUint(string(line), 16, 63)
		if err != nil {
			return protoErr("chunk size %q", trunc(line))
		}
		if size == 0 {
			for {
				l, err := c.readLine()
				if err != nil {
					return unexpected(err)
				}
				if len(l) == 0 {
					return nil
				}
			}
		}
		if err := c.readN(resp, int64(size), keep); err != nil {
			return err
		}
		if l, err := c.readLine(); err != nil {
			return unexpected(err)
		} else if len(l) != 0 {
			return protoErr("missing CRLF after chunk")
		}
	}
}

func chunked(h http.Header) bool {
	te := h["Transfer-Encoding"]
	return len(te) > 0 && asciiEqualFold(textproto.TrimString(te[len(te)-1]), "chunked")
}

// grow extends b by n bytes.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n+len(b)/2)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func trunc(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

func asciiEqualFold(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// equalFoldBytes is asciiEqualFold for a []byte, without converting it.
func equalFoldBytes(s string, b []byte) bool {
	if len(s) != len(b) {
		return false
	}
	for i := 0; i < len(s); i++ {
		x, y := s[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// commonKeys are the canonical forms of frequent response header names, matched without
// allocating.
var commonKeys = []string{"Content-Length", "Content-Type", "Date", "Connection", "Transfer-Encoding",
	"Set-Cookie", "Location", "Server", "Cache-Control", "Keep-Alive", "Vary", "Etag", "Last-Modified",
	"Content-Encoding", "Expires", "Access-Control-Allow-Origin", "X-Content-Type-Options", "Strict-Transport-Security"}

// canonicalKey returns the canonical form of a header name.
func canonicalKey(b []byte) string {
	for _, k := range commonKeys {
		if len(k) == len(b) && equalFoldBytes(k, b) {
			return k
		}
	}
	return textproto.CanonicalMIMEHeaderKey(string(b))
}
