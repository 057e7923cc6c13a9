// Package jsonl writes every sample as one JSON object per line, in k6's JSON output layout, for
// ad-hoc analysis with jq or pandas:
//
//	{"type":"Metric","metric":"http_reqs","data":{"name":"http_reqs","type":"counter","contains":"default"}}
//	{"type":"Point","metric":"http_reqs","data":{"time":"2026-11-22T10:15:00.01Z","value":1,"tags":{"scenario":"rest",...}}}
//
// A "Metric" line precedes the first point of each metric. Like the CSV output, Emit only copies
// into a bounded spool (internal/spool, shared with csv) drained by one writer goroutine that
// encodes; a full spool (a disk slower than the load) makes Emit wait, counted as a stall, and
// Stop loses nothing. Lines reach the file whole (outputs.RecordWriter); a file that cannot be written
// completely is returned by Stop as an *outputs.FileError, which fails the run.
package jsonl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/loadplan/loadplan/internal/spool"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// Output is the JSON lines output. Create it with New.
type Output struct {
	spec string
	opts outputs.Options
	path string

	w *outputs.RecordWriter // whole lines; owned by the writer goroutine once started

	q    *spool.Spool
	done chan struct{}
	err  error // a *outputs.FileError or nil; set by the writer before done is closed
}

// New checks cfg and returns an output that has not touched the file system yet.
// The path is a file (".gz" compresses) or a folder (ends with a separator or has no extension),
// in which the file is named `<plan>-YYYYMMDD-HHMMSS.jsonl`.
func New(cfg Config, opts outputs.Options) (*Output, error) {
	spec := cfg.Path
	if spec == "" {
		spec = "results" + string(filepath.Separator)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	return &Output{spec: spec, opts: opts, q: spool.New(), done: make(chan struct{})}, nil
}

// Name returns "json".
func (j *Output) Name() string { return "json" }

// Path returns the file written; it is known once Start has succeeded.
func (j *Output) Path() string { return j.path }

// Start creates the file (and its folder) and starts the writer.
func (j *Output) Start(ctx context.Context) error {
	f, path, err := outputs.CreateResultFile(j.spec, ".jsonl", j.opts)
	if err != nil {
		return fmt.Errorf("json: %w", err)
	}
	j.path = path
	j.w = outputs.NewRecordWriter(f, path, 256<<10)
	go j.writer()
	return nil
}

// Emit copies batch into the bounded queue; it waits only when the queue is full, the disk
// behind the load (Stalls).
func (j *Output) Emit(batch []metrics.Sample) { j.q.Put(batch) }

// Stalls returns how many Emits found the queue full and waited for the disk, and how long in
// all (outputs.Staller).
func (j *Output) Stalls() (uint64, time.Duration) { return j.q.Stalls() }

// Stop writes everything queued and closes the file.
func (j *Output) Stop(ctx context.Context) error {
	if j.w == nil {
		return nil
	}
	j.q.Close()
	select {
	case <-j.done:
		return j.err
	case <-ctx.Done():
		return &outputs.FileError{Path: j.path, Op: "stop", Err: fmt.Errorf("still being written: %w", ctx.Err())}
	}
}

// writer owns the file: it drains the queue until Stop closes it, flushing whole lines once a
// second while idle (so a killed run leaves its recent lines), then closes the file.
func (j *Output) writer() {
	defer close(j.done)
	enc := &encoder{tags: make(map[*metrics.Tags][]byte)}
	var chunks [][]metrics.Sample
	line := make([]byte, 0, 512)
	lastFlush := time.Now()
	tick := time.NewTicker(spool.TakeEvery) // Put wakes the writer only for a full chunk
	defer tick.Stop()
	logged := false
	for {
		var closed bool
		chunks, closed = j.q.Take(chunks[:0])
		if len(chunks) == 0 {
			if closed {
				break
			}
			if time.Since(lastFlush) > time.Second {
				j.w.Flush()
				lastFlush = time.Now()
			}
			select {
			case <-j.q.Wake():
			case <-tick.C:
			}
			continue
		}
		for _, batch := range chunks {
			if j.w.Err() != nil {
				break // after a failure the samples are dropped unencoded
			}
			for i := range batch {
				line = enc.appendSample(line[:0], &batch[i])
				j.w.Write(line)
			}
		}
		j.q.Recycle(chunks)
		clear(chunks)
		if err := j.w.Err(); err != nil && !logged {
			logged = true // said once now, while the run goes on, and again at its end
			j.opts.Logf("%v; the run goes on", err)
		}
	}
	j.err = j.w.Close()
}

// encoder caches the encoded static tags of each tag set and remembers which metrics were
// declared. Only the writer goroutine uses it.
type encoder struct {
	tags     map[*metrics.Tags][]byte
	labels   map[string][]byte // quoted labels
	declared [256]bool
	names    [256][]byte // quoted metric names
	lastTime int64       // the samples of one request share a time: format it once
	timeText []byte
}

func (e *encoder) appendSample(b []byte, s *metrics.Sample) []byte {
	name := s.Metric.String()
	if !e.declared[s.Metric] {
		e.declared[s.Metric] = true
		e.names[s.Metric] = appendString(nil, name)
		b = append(b, `{"type":"Metric","metric":`...)
		b = appendString(b, name)
		b = append(b, `,"data":{"name":`...)
		b = appendString(b, name)
		b = append(b, `,"type":"`...)
		b = append(b, s.Metric.Kind().String()...)
		b = append(b, `","contains":"`...)
		switch s.Metric.Info().Unit {
		case metrics.Time:
			b = append(b, "time"...)
		case metrics.Bytes:
			b = append(b, "data"...)
		default:
			b = append(b, "default"...)
		}
		b = append(b, "\"}}\n"...)
	}
	b = append(b, `{"type":"Point","metric":`...)
	b = append(b, e.names[s.Metric]...)
	b = append(b, `,"data":{"time":"`...)
	if s.Time != e.lastTime || e.timeText == nil {
		e.lastTime = s.Time
		e.timeText = time.Unix(0, s.Time).UTC().AppendFormat(e.timeText[:0], time.RFC3339Nano)
	}
	b = append(b, e.timeText...)
	b = append(b, `","value":`...)
	b = strconv.AppendFloat(b, s.Value, 'g', -1, 64)
	b = append(b, `,"tags":{`...)
	t := e.static(s.Tags)
	b = append(b, t...)
	sep := len(t) > 0
	if s.Status != 0 {
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"status":"`...)
		b = strconv.AppendInt(b, int64(s.Status), 10)
		b = append(b, '"')
		sep = true
	}
	if s.Label != "" {
		if sep {
			b = append(b, ',')
		}
		if s.Metric == metrics.Checks {
			b = append(b, `"check":`...)
		} else {
			b = append(b, `"error":`...)
		}
		b = append(b, e.label(s.Label)...)
	}
	return append(b, "}}}\n"...)
}

// label returns the quoted label, encoded once: labels are a plan's check names and a few error
// kinds, and json.Marshal allocates.
func (e *encoder) label(l string) []byte {
	q, ok := e.labels[l]
	if !ok {
		if e.labels == nil {
			e.labels = make(map[string][]byte)
		}
		q = appendString(nil, l)
		if len(e.labels) < 10_000 { // a bound, should a label ever be per request
			e.labels[l] = q
		}
	}
	return q
}

func (e *encoder) static(t *metrics.Tags) []byte {
	if c, ok := e.tags[t]; ok {
		return c
	}
	var c []byte
	if t != nil {
		for _, kv := range [][2]string{{"scenario", t.Scenario}, {"step", t.Step}, {"group", t.Group}, {"method", t.Method}, {"url", t.URL}, {"target", t.Target}, {"task", t.Task}} {
			if kv[1] == "" {
				continue
			}
			if len(c) > 0 {
				c = append(c, ',')
			}
			c = appendString(c, kv[0])
			c = append(c, ':')
			c = appendString(c, kv[1])
		}
	}
	e.tags[t] = c
	return c
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// Config is the configuration of a JSON lines output: the fields of `output "json" { ... }`.
type Config struct {
	// Path is a file (".gz" compresses) or a folder (timestamped file name); "" means results/.
	Path string
}

// Kind is the json output kind for outputs/registry: `output "json" { path = ... }` and
// `--out json=FILE` (or jsonl=FILE, as k6 names it).
var Kind = outputs.Kind{
	Schema: &plan.OutputSchema{
		Kind:  "json",
		Attrs: []plan.AttrSpec{{Name: "path", Type: plan.TypeString, Default: "results/", Show: true}},
		Check: outputs.CheckPath,
	},
	Aliases: []string{"jsonl"},
	Flag: func(value string, b *plan.OutputBlock) error {
		if value == "" {
			return errors.New("needs a file: --out json=results/run.jsonl")
		}
		b.Set("path", value)
		return nil
	},
	New: outputs.Constructor(ConfigOf, New),
}

// ConfigOf reads a decoded `output "json"` block.
func ConfigOf(b *plan.OutputBlock) Config { return Config{Path: b.String("path")} }
