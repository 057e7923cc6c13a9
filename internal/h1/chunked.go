package h1

import (
	"bytes"
	"errors"
	"io"
)

const (
	// maxChunkLine bounds a chunk-size line with its extensions and CR LF, as net/http's 4 KiB
	// read buffer does.
	maxChunkLine = 4096
	// maxTrailerBytes bounds the trailer section, as net/http's 4 KiB read buffer does.
	maxTrailerBytes = 4096
	// maxChunkOverhead bounds what chunk-size lines cost beyond 16 bytes and twice their data each,
	// net/http's guard against a server sending one byte per long extension line.
	maxChunkOverhead = 16 << 10
	// maxChunkSize is beyond any real chunk, and keeps sizes clear of int64 overflow.
	maxChunkSize = 1 << 60
)

// readChunked reads a chunked body (RFC 9112 7.1) and its trailer section, whose fields are
// checked and dropped. Chunk lines are held to what net/http takes: CR LF endings (a bare LF is
// not a chunk-line ending, RFC 9112 erratum 7633), no whitespace before the size or before ';'.
func (c *Client) readChunked(resp *Response, keep bool) error {
	var excess int64
	for {
		line, err := c.readChunkLine()
		if err != nil {
			return err
		}
		excess += int64(len(line)) + 2
		line = bytes.TrimRight(line, " \t")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i] // chunk extensions are ignored
		}
		size, err := parseChunkSize(line)
		if err != nil {
			return err
		}
		excess = max(excess-16-2*size, 0)
		if excess > maxChunkOverhead {
			return protoErr("chunked body with too much non-data")
		}
		if size == 0 {
			return c.readTrailer()
		}
		if err := c.readN(resp, size, keep); err != nil {
			return err
		}
		cr, err := c.br.ReadByte() // byte by byte: a [2]byte handed to io.ReadFull would escape
		if err != nil {
			return unexpected(err)
		}
		lf, err := c.br.ReadByte()
		if err != nil {
			return unexpected(err)
		}
		if cr != '\r' || lf != '\n' {
			return protoErr("missing CR LF after chunk")
		}
	}
}

// readChunkLine returns a chunk-size line without its CR LF.
func (c *Client) readChunkLine() ([]byte, error) {
	line, err := c.readRawLine(maxChunkLine)
	if err != nil {
		return nil, unexpected(err)
	}
	if n := len(line); n < 2 || bytes.IndexByte(line, '\r') != n-2 {
		return nil, protoErr("chunk line %q does not end in CR LF", trunc(line))
	}
	return line[:len(line)-2], nil
}

// parseChunkSize parses 1 to 16 hex digits.
func parseChunkSize(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 16 {
		return 0, protoErr("chunk size %q", trunc(b))
	}
	var n uint64
	for _, d := range b {
		switch {
		case '0' <= d && d <= '9':
			d -= '0'
		case 'a' <= d && d <= 'f':
			d -= 'a' - 10
		case 'A' <= d && d <= 'F':
			d -= 'A' - 10
		default:
			return 0, protoErr("chunk size %q", trunc(b))
		}
		n = n<<4 | uint64(d)
	}
	if n > maxChunkSize {
		return 0, protoErr("chunk size %q too large", trunc(b))
	}
	return int64(n), nil
}

// readTrailer reads the trailer section after the last chunk: field lines checked as header
// lines are, then an empty line. The common case, no trailer fields, is a CR LF.
func (c *Client) readTrailer() error {
	if b, err := c.br.Peek(2); bytes.Equal(b, []byte("\r\n")) {
		_, _ = c.br.Discard(2)
		return nil
	} else if len(b) < 2 {
		return unexpected(err)
	}
	total := 0
	first := true
	for {
		line, err := c.readLine()
		if err != nil {
			return unexpected(err)
		}
		if len(line) == 0 {
			return nil
		}
		if total += len(line); total > maxTrailerBytes {
			return protoErr("trailer section larger than %d bytes", maxTrailerBytes)
		}
		if line[0] == ' ' || line[0] == '\t' {
			if first {
				return protoErr("trailer continuation line %q without a field", trunc(line))
			}
			if !validValue(line) {
				return protoErr("trailer line %q", trunc(line))
			}
			continue
		}
		if _, _, err := splitField(line); err != nil {
			return err
		}
		first = false
	}
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
