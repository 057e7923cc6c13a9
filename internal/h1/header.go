package h1

import (
	"bytes"
	"net/textproto"
	"strings"
)

// splitField splits a field line into its name and trimmed value, refusing what textproto
// refuses: no colon, an empty name, a name byte that is neither a token character nor a space
// (a space is kept, uncanonicalised, as textproto keeps it), a control character in the value.
func splitField(line []byte) (name, val []byte, err error) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return nil, nil, protoErr("header line %q", trunc(line))
	}
	name, val = line[:i], line[i+1:]
	for _, b := range name {
		if !tokenByte(b) && b != ' ' {
			return nil, nil, protoErr("header name %q", trunc(name))
		}
	}
	if !validValue(val) {
		return nil, nil, protoErr("header line %q", trunc(line))
	}
	return name, trimOWS(val), nil
}

// tokenByte reports whether b may appear in a field name (RFC 9110 5.6.2 tchar).
func tokenByte(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

// validValue reports whether v holds only what a field value may: no control character but HTAB
// (RFC 9110 5.5; obs-text, bytes of 0x80 and above, is allowed).
func validValue(v []byte) bool {
	for _, b := range v {
		if (b < 0x20 && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// trimOWS cuts spaces and tabs (and nothing else: not the Unicode spaces bytes.TrimSpace cuts).
func trimOWS(b []byte) []byte {
	return bytes.TrimRight(bytes.TrimLeft(b, " \t"), " \t")
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

// canonicalKey returns the canonical form of a header name (a name with a space is returned as
// it is, as textproto returns it).
func canonicalKey(b []byte) string {
	for _, k := range commonKeys {
		if len(k) == len(b) && equalFoldBytes(k, b) {
			return k
		}
	}
	return textproto.CanonicalMIMEHeaderKey(string(b))
}
