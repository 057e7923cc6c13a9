// Package csv writes samples to CSV files: every raw sample as one row in k6's layout, and
// optionally Locust-style aggregated files (PREFIX_stats.csv, PREFIX_stats_history.csv,
// PREFIX_failures.csv).
//
// Emit only copies a batch into an unbounded in-memory queue; one writer goroutine encodes and
// writes. Nothing is ever dropped: Stop drains the queue and flushes, on a normal and on an
// interrupted stop alike, so the number of http_reqs rows equals the summary's http_reqs count.
//
// Every file is written in whole rows (outputs.RecordWriter), so a killed run leaves only whole
// lines. A file that cannot be written completely (disk full, I/O error) keeps its first error,
// is logged once while the run goes on, and is returned by Stop as an *outputs.FileError, which
// fails the run; the load itself never waits on a file.
package csv

import (
	"context"
	"errors"
	"fmt"
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
	opts       outputs.Options

	path   string // raw file actually written, set by Start
	prefix string // PREFIX of the aggregated files, "" when not aggregated

	w     *outputs.RecordWriter // the raw file, in whole rows; owned by the writer goroutine
	stats *stats                // nil when not aggregated; owned by the writer goroutine

	q    *spool.Spool
	done chan struct{}
	err  error // the files' errors (*outputs.FileError); set by the writer before done is closed

	logged map[*outputs.FileError]bool // failures already logged; the writer's
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
	return &Output{spec: spec, aggregated: cfg.Aggregated, opts: opts, q: spool.New(), done: make(chan struct{})}, nil
}

// Name returns "csv".
func (c *Output) Name() string { return "csv" }

// Path returns the raw CSV file written; it is known once Start has succeeded.
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
	c.w = outputs.NewRecordWriter(f, c.path, 256<<10) // set only now: Stop waits for the writer only when Start succeeded
	c.w.Write([]byte(header))
	go c.writer()
	return nil
}

// Emit copies batch into the queue. It never blocks on I/O.
func (c *Output) Emit(batch []metrics.Sample) { c.q.Put(batch) }

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
		enc       = newEncoder()
		lastFlush = time.Now()
	)
	for {
		var closed bool
		chunks, closed = c.q.Take(chunks[:0])
		if len(chunks) > 0 {
			for _, batch := range chunks {
				if c.w.Err() == nil { // after a failure the rows are dropped unencoded
					for i := range batch {
						buf = enc.appendRow(buf[:0], &batch[i])
						c.w.Write(buf)
					}
				}
				if c.stats != nil {
					c.stats.add(batch)
				}
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
		<-c.q.Wake()
	}
	c.finish()
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

// Config is the configuration of a CSV output: the fields of `output "csv" { ... }`.
type Config struct {
	// Path is a file (".gz" compresses) or a folder (timestamped file names); "" means results/.
	Path string
	// Aggregated also writes Locust-style PREFIX_stats.csv, _stats_history.csv and _failures.csv.
	Aggregated bool
}

// Kind is the csv output kind for outputs/registry: `output "csv" { path = ..., aggregated = ... }`
// and `--out csv[=FILE|FOLDER/]` (which writes the aggregated files too, as Locust's --csv does).
var Kind = outputs.Kind{
	Schema: &plan.OutputSchema{
		Kind: "csv",
		Attrs: []plan.AttrSpec{
			{Name: "path", Type: plan.TypeString, Default: DefaultFolder + "/", Show: true},
			{Name: "aggregated", Type: plan.TypeBool, Show: true},
		},
		Check: outputs.CheckPath,
	},
	Flag: func(value string, b *plan.OutputBlock) error {
		if value != "" {
			b.Set("path", value)
		}
		b.Set("aggregated", true)
		return nil
	},
	New: outputs.Constructor(ConfigOf, New),
	Files: func(b *plan.OutputBlock) int {
		if b.Bool("aggregated") {
			return 4 // the raw file, _stats.csv, _stats_history.csv and _failures.csv
		}
		return 1
	},
}

// ConfigOf reads a decoded `output "csv"` block.
func ConfigOf(b *plan.OutputBlock) Config {
	return Config{Path: b.String("path"), Aggregated: b.Bool("aggregated")}
}
