// Package csv writes samples to CSV files: the raw file, in the compact layout (the default: one
// row per HTTP request with all its timings, see Columns and rows.go) or in k6's long layout (one
// row per sample, layout = "long"), and optionally Locust 2.x's four files, byte for byte in
// Locust's format (PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv and
// PREFIX_exceptions.csv, see locust.go); with raw = false only those.
//
// Why compact by default: k6's layout spends 13 rows and ~1 KB on one HTTP request, and writing
// them cost +10% CPU at full loopback speed (issue 11). One row per request is ~140 bytes, half
// the CPU (BenchmarkCSV, cpu-ns/req, both layouts side by side), and what a reader in pandas
// wants anyway: a request's timings side by side.
//
// Emit only copies a batch into a bounded in-memory queue (internal/spool, ~3.7 MB); one writer
// goroutine groups, encodes and writes. Nothing is ever dropped: when the disk is slower than the
// load the queue fills and Emit waits for the writer, a stall counted (Stalls) and said in the
// summary, memory staying flat. Stop drains the queue and flushes, on a normal and on an
// interrupted stop alike, so the number of http_reqs rows equals the summary's http_reqs count.
//
// Every file is written in whole rows (outputs.RecordWriter), so a killed run leaves only whole
// lines. A file that cannot be written completely (disk full, I/O error) keeps its first error,
// is logged once while the run goes on, and is returned by Stop as an *outputs.FileError, which
// fails the run; the load waits on a file only when its disk fell a full queue behind.
package csv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/loadplan/loadplan/internal/spool"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// DefaultFolder is where results go when an output gives no path.
const DefaultFolder = "results"

// Output is the CSV output. Create it with New.
type Output struct {
	spec       string // path as configured
	aggregated bool
	raw        bool // the raw file is written (raw = false: only the Locust files)
	long       bool // k6's layout, a row per sample
	opts       outputs.Options

	path   string // raw file actually written, set by Start
	prefix string // PREFIX of the aggregated files, "" when not aggregated

	w     *outputs.RecordWriter // the raw file, in whole rows; owned by the writer goroutine
	stats *stats                // nil when not aggregated; owned by the writer goroutine

	q    *spool.Spool
	done chan struct{}
	err  error // the files' errors (*outputs.FileError); set by the writer before done is closed

	logged map[*outputs.FileError]bool // failures already logged; the writer's

	wrap func(io.WriteCloser) io.WriteCloser // tests: a slow or failing disk under the raw file
	rows *assembler                          // compact layout: the writer's; tests read guessed
}

// New checks cfg and returns an output that has not touched the file system yet.
// An empty path means the folder DefaultFolder. A path is a folder when it ends with a path
// separator, is an existing directory, or has no extension; the files then get timestamped names
// `<folder>/<plan>-YYYYMMDD-HHMMSS.csv` and the aggregated files are always written.
func New(cfg Config, opts outputs.Options) (*Output, error) {
	spec := cfg.Path
	if spec == "" {
		spec = DefaultFolder + string(filepath.Separator)
	}
	if strings.ContainsRune(spec, 0) {
		return nil, fmt.Errorf("csv: path %q contains a NUL byte", spec)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	long := false
	switch cfg.Layout {
	case "", LayoutCompact:
	case LayoutLong:
		long = true
	default:
		return nil, fmt.Errorf("csv: layout %q: want %q or %q", cfg.Layout, LayoutCompact, LayoutLong)
	}
	raw := !cfg.NoRaw
	return &Output{spec: spec, aggregated: cfg.Aggregated || !raw, raw: raw, long: long, opts: opts, q: spool.New(), done: make(chan struct{})}, nil
}

// Name returns "csv".
func (c *Output) Name() string { return "csv" }

// Path returns the raw CSV file written; it is known once Start has succeeded. With raw = false
// it is the Locust files' PREFIX_stats.csv.
func (c *Output) Path() string { return c.path }

// StatsPrefix returns PREFIX of the aggregated files, or "" when they are not written.
func (c *Output) StatsPrefix() string { return c.prefix }

// open creates the raw file (see outputs.CreateResultFile for names in a folder) and decides the
// prefix of the aggregated files: the raw file's path without its extensions, written always in
// a folder and on request for a file path.
func (c *Output) open() (*os.File, error) {
	f, path, err := outputs.CreateResultFile(c.spec, ".csv", c.opts)
	if err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	c.path = path
	// The Locust files go beside a regular file only: not /dev/stdout_stats.csv.
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return f, nil
	}
	if c.aggregated || path != c.spec {
		p := strings.TrimSuffix(path, ".gz")
		c.prefix = strings.TrimSuffix(p, filepath.Ext(p))
	}
	return f, nil
}

// Start creates the folder when missing and the files, and starts the writer. A path that
// cannot be written is an error, before any request is sent.
func (c *Output) Start(ctx context.Context) error {
	if !c.raw {
		return c.startLocustOnly()
	}
	f, err := c.open()
	if err != nil {
		return err
	}
	if c.prefix != "" {
		st, err := newStats(c.prefix)
		if err != nil {
			f.Close()
			os.Remove(c.path)
			return fmt.Errorf("csv: %w", err)
		}
		c.stats = st
	}
	var file io.WriteCloser = f
	if c.wrap != nil {
		file = c.wrap(f)
	}
	c.w = outputs.NewRecordWriter(file, c.path, 256<<10) // set only now: Stop waits for the writer only when Start succeeded
	header := compactHeader
	if c.long {
		header = longHeader
	}
	if c.opts.Traced {
		header = strings.TrimSuffix(header, "\n") + "," + TraceColumn + "\n"
	}
	c.w.Write([]byte(header))
	go c.writer()
	return nil
}

// Emit copies batch into the queue (with its end: the compact layout groups a VU's samples into
// requests). It waits only when the queue is full, the disk behind the load (Stalls).
func (c *Output) Emit(batch []metrics.Sample) {
	if c.long || !c.raw {
		c.q.Put(batch)
		return
	}
	c.q.PutBatch(batch)
}

// Stalls returns how many Emits found the queue full and waited for the disk, and how long in
// all (outputs.Staller): 0 unless the file was written slower than the load made rows.
func (c *Output) Stalls() (uint64, time.Duration) { return c.q.Stalls() }

// Stop writes every queued sample, the aggregated files, and closes the files. When ctx ends
// first it returns an error saying the files are incomplete; the writer still finishes them.
func (c *Output) Stop(ctx context.Context) error {
	if c.w == nil {
		return nil // never started
	}
	c.q.Close()
	select {
	case <-c.done:
	case <-ctx.Done():
		return &outputs.FileError{Path: c.path, Op: "stop", Err: fmt.Errorf("still being written: %w", ctx.Err())}
	}
	return c.err
}

// writer owns the files: it drains the queue until Stop closes it, then finishes the files.
func (c *Output) writer() {
	defer close(c.done)
	var (
		chunks    [][]metrics.Sample
		buf       = make([]byte, 0, 512)
		enc       = c.newEncoder()
		lastFlush = time.Now()
		tick      = time.NewTicker(spool.TakeEvery)
	)
	defer tick.Stop()
	if !c.long && c.raw {
		c.rows = newAssembler(func(r *reqRow) {
			if c.w.Err() == nil { // after a failure the rows are dropped unencoded
				c.w.Write(enc.appendRequest(buf[:0], r))
			}
		}, func(s *metrics.Sample) {
			if c.w.Err() == nil {
				c.w.Write(enc.appendOther(buf[:0], s))
			}
		})
	}
	for {
		var closed bool
		chunks, closed = c.q.Take(chunks[:0])
		if len(chunks) > 0 {
			for _, chunk := range chunks {
				c.write(chunk, enc, buf)
			}
			c.q.Recycle(chunks)
			clear(chunks)
			c.logFailures()
			continue
		}
		if closed {
			break
		}
		if time.Since(lastFlush) > time.Second {
			c.flushSoft()
			lastFlush = time.Now()
		}
		select {
		case <-c.q.Wake():
		case <-tick.C:
		}
	}
	if c.rows != nil {
		c.rows.flush()
	}
	c.finish()
}

// write encodes one chunk of the queue: samples and, in the compact layout, spool.End after each
// batch (a chunk may end inside a batch: the next chunk goes on with it).
func (c *Output) write(chunk []metrics.Sample, enc *encoder, buf []byte) {
	if c.stats != nil {
		c.stats.add(chunk) // it skips spool.End (metric 0)
	}
	if !c.raw {
		return
	}
	if c.rows != nil {
		for i := range chunk {
			if chunk[i].Metric == 0 {
				c.rows.end()
			} else {
				c.rows.add(&chunk[i])
			}
		}
		return
	}
	if c.w.Err() != nil {
		return // after a failure the rows are dropped unencoded
	}
	for i := range chunk {
		if chunk[i].Metric != 0 {
			c.w.Write(enc.appendRow(buf[:0], &chunk[i]))
		}
	}
}

// flushSoft makes what was written so far visible in a plain file while the run goes on. The
// first failure of a file is logged at once: the run goes on, and the end of it says it again.
func (c *Output) flushSoft() {
	c.w.Flush()
	if c.stats != nil {
		c.stats.flushHistory()
	}
	c.logFailures()
}

// logFailures logs each file's failure once, when it is first seen.
func (c *Output) logFailures() {
	for _, err := range []error{c.w.Err(), c.stats.historyErr()} {
		if fe, ok := err.(*outputs.FileError); ok && !c.logged[fe] {
			if c.logged == nil {
				c.logged = map[*outputs.FileError]bool{}
			}
			c.logged[fe] = true
			c.opts.Logf("%v; the run goes on", fe)
		}
	}
}

func (c *Output) finish() {
	errs := []error{c.w.Close()}
	if c.stats != nil {
		errs = append(errs, c.stats.finish())
	}
	c.err = errors.Join(errs...)
}

// newEncoder makes the writer's encoder, with the trace_id column when the plan has tracing.
func (c *Output) newEncoder() *encoder {
	e := newEncoder()
	e.trace = c.opts.Traced
	return e
}

// Config is the configuration of a CSV output: the fields of `output "csv" { ... }`.
type Config struct {
	// Path is a file (".gz" compresses) or a folder (timestamped file names); "" means results/.
	Path string
	// Aggregated also writes Locust's PREFIX_stats.csv, _stats_history.csv, _failures.csv and
	// _exceptions.csv.
	Aggregated bool
	// NoRaw (raw = false) writes only the Locust files, not the raw file; it implies Aggregated.
	NoRaw bool
	// Layout is LayoutCompact (a row per HTTP request; "" means it) or LayoutLong (k6's, a row
	// per sample).
	Layout string
}

// The layouts of the raw file.
const (
	LayoutCompact = "compact"
	LayoutLong    = "long"
)

// Kind is the csv output kind for outputs/registry:
// `output "csv" { path = ..., aggregated = ..., raw = true | false, layout = "compact" | "long" }` and
// `--out csv[=[LAYOUT:|locust:]FILE|FOLDER/]` (which writes the aggregated files too, as Locust's
// --csv does): `--out csv=long:results/run.csv` writes k6's layout, `--out csv=locust:results/run`
// only Locust's four files (raw = false).
//
// Why raw = false and not a `locust` output kind: the Locust files are already the csv output's
// (its path rules, its writer goroutine and its queue); a second kind would repeat them, and an
// `output "csv"` plus an `output "locust"` would aggregate every sample twice.
var Kind = outputs.Kind{
	Schema: &plan.OutputSchema{
		Kind: "csv",
		Attrs: []plan.AttrSpec{
			{Name: "path", Type: plan.TypeString, Default: DefaultFolder + "/", Show: true},
			{Name: "aggregated", Type: plan.TypeBool, Show: true},
			{Name: "raw", Type: plan.TypeBool, Default: true, Show: true},
			{Name: "layout", Type: plan.TypeString, Default: LayoutCompact, Show: true},
		},
		Check: check,
	},
	Flag: func(value string, b *plan.OutputBlock) error {
		if rest, ok := strings.CutPrefix(value, "locust:"); ok {
			b.Set("raw", false) // Locust's files only: --out csv=locust:results/run is --csv results/run
			value = rest
		}
		for _, l := range []string{LayoutCompact, LayoutLong} {
			if rest, ok := strings.CutPrefix(value, l+":"); ok {
				b.Set("layout", l)
				value = rest
				break
			}
		}
		if value != "" {
			b.Set("path", value)
		}
		b.Set("aggregated", true)
		return nil
	},
	New: outputs.Constructor(ConfigOf, New),
	Files: func(b *plan.OutputBlock) int {
		if b.Bool("aggregated") || (b.Attr("raw") != nil && !b.Bool("raw")) {
			// an upper bound: the raw file and _stats_history.csv are open through the run, then
			// _stats.csv, _failures.csv and _exceptions.csv one at a time
			return 4
		}
		return 1
	},
}

// check is the csv block's check: the path's, and a layout it knows.
func check(b *plan.OutputBlock) []plan.OutputProblem {
	out := outputs.CheckPath(b)
	if l := b.String("layout"); l != LayoutCompact && l != LayoutLong && b.Attr("layout") != nil {
		out = append(out, plan.OutputProblem{Attr: "layout", Summary: "Unknown CSV layout",
			Detail: `layout is "compact" (a row per HTTP request with all its timings, the default) or "long" (k6's layout, a row per sample).`})
	}
	if a := b.Attr("aggregated"); a != nil && a.Set && !b.Bool("aggregated") && b.Attr("raw") != nil && !b.Bool("raw") {
		out = append(out, plan.OutputProblem{Attr: "raw", Summary: "CSV output writes no file",
			Detail: `raw = false leaves out the raw file and writes only Locust's four files, which aggregated = false turns off: remove "aggregated = false", or write the raw file (raw = true).`})
	}
	return out
}

// ConfigOf reads a decoded `output "csv"` block.
func ConfigOf(b *plan.OutputBlock) Config {
	raw := b.Attr("raw") == nil || b.Bool("raw")
	return Config{Path: b.String("path"), Aggregated: b.Bool("aggregated") || !raw, NoRaw: !raw, Layout: b.String("layout")}
}
