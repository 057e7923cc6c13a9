package fleet

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/loadplan/loadplan/outputs/summary"
)

// A segment summary as log lines, for fleets whose only way out is the log collector (kubectl
// logs, docker compose logs):
//
//	loadplan-segment v1 <i>/<N> <part>/<parts> <id> <base64 chunk> [sha256=<hex>]
//
// The payload is the summary's JSON, gzipped, base64-encoded and cut into chunks so that no line
// passes ~3 KB (container runtimes split longer lines: Docker at 16 KB, some collectors at 4 KB).
// id is the head of the payload's SHA-256, the same on every part: parts of one summary are found
// again by it when the collector interleaves segments, reorders them, or the stream holds two
// runs. The last part carries the whole payload's SHA-256, which Collect checks. Anything before
// "loadplan-segment" on a line (a compose "loadplan-3  | " prefix, a timestamp) is ignored, as are
// all other lines.
const (
	lineTag   = "loadplan-segment v1 "
	chunkSize = 3000
)

// WriteLines writes seg to w as log lines, one Write per line so that a line is never torn by
// another writer of the same stream.
func WriteLines(w io.Writer, seg *summary.SegmentSummary) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := summary.WriteSegment(zw, seg); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	sum := sha256.Sum256(buf.Bytes())
	id := hex.EncodeToString(sum[:6])
	text := base64.StdEncoding.EncodeToString(buf.Bytes())
	parts := (len(text) + chunkSize - 1) / chunkSize
	for p := 1; p <= parts; p++ {
		chunk := text[(p-1)*chunkSize : min(p*chunkSize, len(text))]
		line := fmt.Sprintf("%s%s %d/%d %s %s", lineTag, seg.Segment, p, parts, id, chunk)
		if p == parts {
			line += " sha256=" + hex.EncodeToString(sum[:])
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// ansi matches terminal colour sequences, which docker compose logs puts around its prefixes.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// Collector gathers segment summaries from log streams. Feed it with Read, then call Summaries.
// It is not safe for concurrent use.
type Collector struct {
	pending map[string]*partial // by segment + " " + id
	order   []string
	lines   int // segment lines seen
}

// partial is one summary's parts as found so far.
type partial struct {
	segment string
	id      string
	parts   []string // index part-1; "" while missing
	sum     string   // the last part's sha256
	bad     string   // why the parts cannot be one summary (parts disagree)
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector { return &Collector{pending: map[string]*partial{}} }

// Lines is the number of segment lines read so far.
func (c *Collector) Lines() int { return c.lines }

// Read reads a log stream to its end, keeping the segment lines. A line it cannot parse after
// the tag is an error naming the stream (name) and line number.
func (c *Collector) Read(r io.Reader, name string) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if i := strings.Index(line, lineTag); i >= 0 {
			if perr := c.add(ansi.ReplaceAllString(line[i+len(lineTag):], "")); perr != nil {
				return fmt.Errorf("%s:%d: %w", name, n, perr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
}

func (c *Collector) add(rest string) error {
	// Neither a backslash nor a double quote occurs in the format: a line quoted in JSON by a
	// collector (Docker's json-file: {"log":"loadplan-segment … sha256=…\n","stream":…}) ends there.
	if i := strings.IndexAny(rest, `\"`); i >= 0 {
		rest = rest[:i]
	}
	f := strings.Fields(rest)
	if len(f) != 4 && len(f) != 5 {
		return fmt.Errorf("segment summary line with %d fields, want 4 or 5 after %q", len(f), lineTag)
	}
	pn, total, ok := strings.Cut(f[1], "/")
	p, err1 := strconv.Atoi(pn)
	parts, err2 := strconv.Atoi(total)
	if !ok || err1 != nil || err2 != nil || parts < 1 || p < 1 || p > parts || parts > 1<<20 {
		return fmt.Errorf("segment summary line: bad part %q", f[1])
	}
	c.lines++
	key := f[0] + " " + f[2]
	pt := c.pending[key]
	if pt == nil {
		pt = &partial{segment: f[0], id: f[2], parts: make([]string, parts)}
		c.pending[key] = pt
		c.order = append(c.order, key)
	}
	switch {
	case len(pt.parts) != parts:
		pt.bad = "its parts disagree on how many there are"
	case pt.parts[p-1] != "" && pt.parts[p-1] != f[3]:
		pt.bad = fmt.Sprintf("part %d appears twice with different content", p)
	}
	if pt.bad != "" {
		return nil
	}
	pt.parts[p-1] = f[3]
	if len(f) == 5 {
		if p != parts || !strings.HasPrefix(f[4], "sha256=") {
			return fmt.Errorf("segment summary line: unexpected %q", f[4])
		}
		pt.sum = strings.TrimPrefix(f[4], "sha256=")
	}
	return nil
}

// Summaries decodes every summary whose parts all arrived. Each one that cannot be rebuilt
// (parts missing from the log, a checksum that does not match) is an error in the joined error,
// and its segment is left out, so that a caller names it among the missing.
func (c *Collector) Summaries() ([]*summary.SegmentSummary, error) {
	var out []*summary.SegmentSummary
	var errs []error
	for _, key := range c.order {
		pt := c.pending[key]
		seg, err := pt.decode()
		if err != nil {
			errs = append(errs, fmt.Errorf("segment %s (summary %s): %w", pt.segment, pt.id, err))
			continue
		}
		out = append(out, seg)
	}
	return out, errors.Join(errs...)
}

func (pt *partial) decode() (*summary.SegmentSummary, error) {
	if pt.bad != "" {
		return nil, errors.New(pt.bad)
	}
	var missing []string
	for i, s := range pt.parts {
		if s == "" {
			missing = append(missing, strconv.Itoa(i+1))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("part(s) %s of %d missing from the logs (cut by a log limit? kubectl logs needs --tail=-1)",
			strings.Join(slices.Compact(missing), ", "), len(pt.parts))
	}
	data, err := base64.StdEncoding.DecodeString(strings.Join(pt.parts, ""))
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != pt.sum {
		return nil, fmt.Errorf("checksum mismatch (a line was altered by the log collector)")
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	seg, err := summary.ReadSegment(io.LimitReader(zr, 1<<30))
	if err != nil {
		return nil, err
	}
	if seg.Segment != pt.segment {
		return nil, fmt.Errorf("the summary inside is of segment %q", seg.Segment)
	}
	return seg, nil
}
