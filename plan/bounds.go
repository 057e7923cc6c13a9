package plan

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// The bounds on what a plan may make loadplan hold in memory. Each is far above what a real plan
// needs and far below what takes a machine down, so that a typo or a hostile file is a diagnostic
// with a position instead of an OOM, a hang or a stack overflow (issue 9, item 6).
const (
	// maxPlanFileSize bounds a plan (or -var-file) file. The largest example plan is a few KB; 4 MiB
	// is room for generated plans while keeping the parse and its AST (about 20× the source) small.
	maxPlanFileSize = MaxPlanFileSize

	// maxFileSize bounds what file() reads and a feeder's CSV file: a plan embeds bodies,
	// certificates and data sets of test users, not bulk data.
	maxFileSize = 64 << 20

	// maxBuildSize bounds any string a function or template builds while a plan loads (join(),
	// format(), replace(), "${…}"), and maxListLen the elements of any list built (range(),
	// split(), concat(), for expressions). Building is where a plan can blow up — a string doubled
	// 40 times is a terabyte — and 16 MiB is far above any request body a plan writes inline.
	maxBuildSize = 16 << 20
	maxListLen   = 1_000_000

	// maxJSONElements bounds the elements jsondecode makes (see boundedJSONDecode).
	maxJSONElements = 10_000

	// maxForIterations bounds the elements the for expressions of one local iterate over, nested
	// ones multiplied: HCL spends microseconds on each, so 100,000 take well under a second.
	maxForIterations = 100_000

	// maxValueSize bounds what one local holds: a file read with file(), not more.
	maxValueSize = maxFileSize

	// maxLocalsSize bounds the sum of every local value's size, so that many locals each just
	// under maxValueSize cannot add up to gigabytes.
	maxLocalsSize = 4 * maxValueSize

	// maxNesting bounds how deeply brackets, braces, parentheses and template interpolations nest.
	// The HCL parser and evaluator recurse per level: 100,000 nested parentheses overflow the
	// goroutine stack (a fatal error, not a recoverable panic). Real plans nest under 10 deep.
	maxNesting = 256

	// maxVUs bounds the virtual users of one loadplan instance. bench/RESULTS.md measures 21 KB of
	// resident memory per idle HTTP VU, so 1,000,000 VUs take about 21 GB — a whole large machine.
	// Beyond that a plan must be split with --segment i/N across machines.
	maxVUs = 1_000_000

	// maxWSSessions bounds the WebSocket sessions one instance may hold open at once (a VU holds one
	// per websocket step): 47 KB each in bench/RESULTS.md, so 500,000 sessions take about 24 GB.
	maxWSSessions = 500_000

	// maxRate bounds an arrival rate in iterations per second: each iteration needs a VU for as
	// long as it runs, so a rate above maxVUs per second cannot be served by one instance.
	maxRate = maxVUs

	// maxLoadDuration bounds every duration of a load block and the sum of its stages, so that
	// sums of durations never overflow time.Duration (292 years) anywhere in the schedule.
	maxLoadDuration = 366 * 24 * time.Hour
)

// maxFeederCells bounds a feeder's rows × columns. A cell costs about 16 bytes (its string header)
// on top of its text and a row about 50 more, so a 64 MiB file of tiny cells ("a,b\n" repeated)
// could otherwise expand to over 1 GB; 4,000,000 cells hold at most ~300 MB. A variable only so
// that a test can lower it.
var maxFeederCells = 4_000_000

// MaxPlanFileSize is the largest plan file loadplan reads (4 MiB); cmd bounds what it reads from
// standard input by it.
const MaxPlanFileSize = 4 << 20

// maxPEMFileSize bounds ca_file, cert_file and key_file, which a run reads whole: a bundle of
// every public CA is about 200 KB.
const maxPEMFileSize = 1 << 20

// checkPEMFile refuses, at load, a certificate or key path that names a device, a pipe, a folder
// or a file over maxPEMFileSize — the run would read it whole and hang or run out of memory. A
// missing file is left to the run, which says so when it starts (it may be created in between).
func (l *loader) checkPEMFile(a *hcl.Attribute, path string) {
	st, err := os.Stat(path)
	switch {
	case err != nil:
	case !st.Mode().IsRegular():
		l.errorAt(a.Expr.Range(), "Not a regular file", "%s names %s; give the path of a PEM file.", a.Name, fileKind(st.Mode()))
	case st.Size() > maxPEMFileSize:
		l.errorAt(a.Expr.Range(), "File too large", "%s names a file of %s bytes; a PEM certificate or key file is at most %s.",
			a.Name, thousands(st.Size()), byteSize(maxPEMFileSize))
	}
}

// errNotRegular and errTooLarge are the two ways a bounded read refuses a file.
var (
	errNotRegular = errors.New("not a regular file")
	errTooLarge   = errors.New("too large")
)

// openBounded opens path for reading only when it is a regular file of at most limit bytes: a
// device (/dev/zero), a FIFO or a directory is refused before it is opened, since opening a FIFO
// blocks and reading a device never ends. The returned reader stops after limit+1 bytes, so a file
// that grows after the check is still caught by the caller (see readBounded and readCSV).
func openBounded(path string, limit int64) (*os.File, io.Reader, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w (%s)", errNotRegular, fileKind(st.Mode()))
	}
	if st.Size() > limit {
		return nil, nil, fmt.Errorf("%w: %s bytes, more than %s", errTooLarge, thousands(st.Size()), byteSize(limit))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	// The file may have been swapped between Stat and Open: check what was opened.
	if st, err = f.Stat(); err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%w (%s)", errNotRegular, fileKind(st.Mode()))
	}
	return f, io.LimitReader(f, limit+1), nil
}

// readBounded reads a regular file of at most limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	f, r, err := openBounded(path, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: it grew past %s while being read", errTooLarge, byteSize(limit))
	}
	return b, nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "not a plain file"
}

// byteSize renders a size for a diagnostic: "64 MiB", "4.0 GiB", "12 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// fileStart is the range of a file's first character: the place of a problem with the whole file.
func fileStart(name string) hcl.Range {
	return hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.Pos{Line: 1, Column: 1, Byte: 0}}
}

// durationSyntax is what time.ParseDuration accepts; a string of that form it still refuses is a
// duration too long for time.Duration.
var durationSyntax = regexp.MustCompile(`^[-+]?([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+$`)

// durationOverflows says whether s is written as a duration but does not fit in time.Duration.
func durationOverflows(s string) bool {
	_, err := time.ParseDuration(s)
	return err != nil && durationSyntax.MatchString(s)
}

// thousands renders n with comma separators, as the limits are written in the docs: 1,000,000.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
