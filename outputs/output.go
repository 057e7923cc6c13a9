// Package outputs holds the consumers of samples: files (CSV, JSON lines), network outputs
// (Prometheus, InfluxDB) and the end-of-run summary, one package each under outputs/, none
// importing a sibling. Every one implements Output and is driven by a Manager, which also drives
// the threshold engine's adapter (package threshold), an Output by shape only. Each kind a plan or
// --out can name (outputs/<kind>) owns its configuration and exports a Kind: its schema, checks
// and defaults, which plan decodes `output` blocks with, and its constructor; outputs/registry
// lists the kinds.
package outputs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// Output consumes sample batches.
//
// The contract:
//   - Start is called once, before any request is sent. An error (port in use, file not writable,
//     server unreachable when required) aborts the run before it starts (exit 1); outputs started
//     before the failing one are stopped again.
//   - Emit is called from one goroutine only (the Manager's loop), in time order of batches. It
//     must return quickly: no network I/O, no blocking on a full queue. It must not retain batch
//     after it returns (the slice is reused); copy what it keeps. A network output queues with a
//     bound and counts what it drops.
//   - Stop is called once after the last Emit. It flushes everything (a file output loses nothing)
//     and returns within ctx's deadline. A file output returns a *FileError for each file it
//     could not write completely (full disk, I/O error, still being written at the deadline);
//     that fails the run (exit 1), while a failed write never slowed Emit: a file output keeps
//     the first error and drops later rows unwritten.
type Output interface {
	Name() string
	Start(ctx context.Context) error
	Emit(batch []metrics.Sample)
	Stop(ctx context.Context) error
}

// SeriesOutput is an Output that consumes aggregates rather than samples (the summary,
// Prometheus): the Manager calls EmitSeries with the deltas its Aggregator drained, every
// AggregateEvery and once more at Close, and never calls Emit. Emit stays for callers that feed
// the output samples directly (tests, merge). EmitSeries runs on the Manager's goroutine, like
// Emit; it must not retain deltas (they are reused).
type SeriesOutput interface {
	Output
	EmitSeries(deltas []*metrics.Series)
}

// SampleFilter is implemented by a per-sample Output that needs the samples of a few metrics
// only (the thresholds' adapter): VUs then push no batch when no output needs their samples.
// An Output that is neither a SeriesOutput nor a SampleFilter receives every sample.
type SampleFilter interface {
	Wants() metrics.Mask
}

// AggregateEvery is how often the Manager drains its Aggregator into the SeriesOutputs: the
// delay it adds to mid-run figures (progress line, Prometheus), on top of a VU's flush.
const AggregateEvery = 250 * time.Millisecond

// Manager fans samples out to every output from a single goroutine. The loop owns the outputs
// between Start and Stop.
//
// Samples reach it two ways. A producer that aggregates (metrics.AggregatingSink: the executor's
// VUs) folds its batches into the Manager's Aggregator with its own Folder, and pushes with
// PushRaw only the samples of RawMetrics, the metrics some per-sample output needs: none at all
// when the outputs are the summary, Prometheus and thresholds on metrics the VU did not emit.
// Push takes whole batches, which the loop folds itself. Every AggregateEvery the loop drains
// the Aggregator and hands the deltas to each SeriesOutput; at Close, after the last batch,
// once more, so that nothing folded is lost.
//
// May Push block a VU? No output can make it: no Emit waits on I/O (the Output contract: a
// network output queues with a bound and counts its drops; a file output spools to memory), so
// a slow or dead InfluxDB, a slow disk or a Prometheus scrape never reach a VU. Push copies the
// batch into a queue of QueueBatches batches and returns. It waits only when the fan-out
// goroutine is that far behind, that is when the outputs' CPU work (aggregating, encoding) cannot
// keep up with what the VUs generate: the machine is saturated. It then waits rather than drops
// (back-pressure) because the summary, the thresholds and the raw files must stay exact; every
// such wait is counted (Stalls) and said in the summary, so it is never silent.
type Manager struct {
	outputs []Output
	series  []SeriesOutput // the outputs fed with aggregates
	samples []Output       // the outputs fed with samples
	raw     metrics.Mask   // union of what the sample outputs want
	agg     *metrics.Aggregator
	fold    *metrics.Folder // the loop's own, for batches given to Push
	ch      chan queued
	done    chan struct{}
	pool    sync.Pool    // of *[]metrics.Sample, emptied batches for Push to refill
	closeMu sync.RWMutex // guards closed and the send on ch: pushes share it, Close takes it alone
	closed  bool
	stalls  atomic.Uint64 // Pushes that found the queue full and waited
}

// queued is one batch in the fan-out queue; folded when its producer already aggregated it.
type queued struct {
	batch  []metrics.Sample
	folded bool
}

// QueueBatches is how many batches Push queues before it waits for the fan-out: with the
// executor's batches of up to 64 samples, about 16,000 samples or 1,200 HTTP requests.
const QueueBatches = 256

// NewManager returns a Manager for outs, in order.
func NewManager(outs ...Output) *Manager {
	m := &Manager{outputs: outs, agg: metrics.NewAggregator(0), ch: make(chan queued, QueueBatches), done: make(chan struct{})}
	m.fold = m.agg.Folder()
	for _, o := range outs {
		if so, ok := o.(SeriesOutput); ok {
			m.series = append(m.series, so)
			continue
		}
		m.samples = append(m.samples, o)
		if f, ok := o.(SampleFilter); ok {
			m.raw |= f.Wants()
		} else {
			m.raw = metrics.AllMetrics
		}
	}
	return m
}

// Outputs returns the managed outputs.
func (m *Manager) Outputs() []Output { return m.outputs }

// Folder returns a Folder of the Manager's Aggregator for one producing goroutine
// (metrics.AggregatingSink).
func (m *Manager) Folder() *metrics.Folder { return m.agg.Folder() }

// RawMetrics returns the metrics whose every sample a per-sample output needs
// (metrics.AggregatingSink): 0 when only the summary, Prometheus and no threshold listen.
func (m *Manager) RawMetrics() metrics.Mask { return m.raw }

// Start starts every output in order and then the fan-out loop. If one fails, the ones already
// started are stopped in reverse order and the error is returned.
func (m *Manager) Start(ctx context.Context) error {
	for i, o := range m.outputs {
		if err := o.Start(ctx); err != nil {
			var errs []error
			for j := i - 1; j >= 0; j-- {
				if serr := m.outputs[j].Stop(ctx); serr != nil {
					errs = append(errs, serr)
				}
			}
			return errors.Join(append([]error{fmt.Errorf("output %s: %w", o.Name(), err)}, errs...)...)
		}
	}
	go m.loop()
	return nil
}

func (m *Manager) loop() {
	defer close(m.done)
	t := time.NewTicker(AggregateEvery)
	defer t.Stop()
	for {
		select {
		case q, ok := <-m.ch:
			if !ok {
				m.drain() // every VU flushed before Close: this holds the last of their samples
				return
			}
			if !q.folded {
				m.fold.Add(q.batch)
			}
			for _, o := range m.samples {
				o.Emit(q.batch)
			}
			b := q.batch[:0]
			m.pool.Put(&b)
		case <-t.C:
			m.drain()
		}
	}
}

// drain hands what the Aggregator folded since the last drain to the SeriesOutputs.
func (m *Manager) drain() {
	m.agg.Drain(func(deltas []*metrics.Series) {
		for _, o := range m.series {
			o.EmitSeries(deltas)
		}
	})
}

// Push copies batch into the fan-out queue and returns; it waits only while the queue holds
// QueueBatches batches (see Manager: the outputs' CPU work is behind, never their I/O), and
// counts each such wait. It is safe for concurrent use by every VU.
func (m *Manager) Push(batch []metrics.Sample) { m.push(batch, false) }

// PushRaw queues a batch its producer already folded with a Folder (metrics.AggregatingSink):
// only the per-sample outputs receive it. Safe for concurrent use.
func (m *Manager) PushRaw(batch []metrics.Sample) { m.push(batch, true) }

func (m *Manager) push(batch []metrics.Sample, folded bool) {
	if len(batch) == 0 {
		return
	}
	var buf []metrics.Sample
	if b, ok := m.pool.Get().(*[]metrics.Sample); ok {
		buf = *b
	}
	buf = append(buf, batch...)
	m.closeMu.RLock()
	defer m.closeMu.RUnlock()
	if m.closed {
		return // after Close nothing may arrive: the summary is already final
	}
	q := queued{batch: buf, folded: folded}
	select {
	case m.ch <- q:
	default:
		m.stalls.Add(1)
		m.ch <- q
	}
}

// Stalls returns how many Pushes found the queue full and waited for the fan-out: 0 unless the
// outputs' CPU work fell behind the VUs. Safe for concurrent use.
func (m *Manager) Stalls() uint64 { return m.stalls.Load() }

// Close ends the fan-out: every batch pushed and every sample folded before it is emitted, then
// the loop ends. It does not stop the outputs (see Stop). A producer folds nothing after Close.
func (m *Manager) Close() {
	m.closeMu.Lock()
	if !m.closed {
		m.closed = true
		close(m.ch)
	}
	m.closeMu.Unlock()
	<-m.done
}

// Stop closes the fan-out and stops every output in order, collecting errors: every output is
// stopped even after one failed, and Incomplete finds each *FileError in the result.
func (m *Manager) Stop(ctx context.Context) error {
	m.Close()
	var errs []error
	for _, o := range m.outputs {
		if err := o.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("output %s: %w", o.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Options is what every output constructor receives besides its own configuration. Each output
// package exports `New(cfg Config, opts outputs.Options) (*Output, error)` and a Kind for
// outputs/registry, which builds it from an `output` block or an --out flag.
type Options struct {
	PlanName    string                           // base name of the plan file without extension, for file names
	Now         func() time.Time                 // clock for timestamped file names; time.Now when nil
	Logf        func(format string, args ...any) // warnings (dropped points, ...); never given secrets
	SegmentName string                           // "2/4" when running a segment, "" otherwise; a tag on network outputs
	// Traced says the plan sends trace context (plan.Plan.Traced): the CSV gets its trace_id column.
	Traced bool
}

// Dropper is implemented by outputs that may drop data under pressure (InfluxDB). The summary
// reports every non-zero count.
type Dropper interface {
	Dropped() uint64
}

// Kind is one output kind as outputs/registry lists it: the schema `plan` decodes and checks its
// blocks against (so `validate` reports a bad attribute at its line and column before anything
// runs), how `--out NAME=VALUE` becomes a block, and the constructor. Each output package
// exports its Kind; a new output kind is that package plus one line in the registry.
type Kind struct {
	Schema *plan.OutputSchema // Schema.Kind is the kind's name, as in `output "csv" { ... }`
	// Aliases are other names --out accepts for the kind (jsonl for json).
	Aliases []string
	// Flag sets the attributes of a block made from `--out KIND=VALUE` ("" when no = was given).
	// The error says how to write the flag.
	Flag func(value string, b *plan.OutputBlock) error
	// New builds the output from a block whose defaults are filled. Nothing is started.
	New func(b *plan.OutputBlock, opts Options) (Output, error)
	// Files is how many file descriptors the output holds at once (files, listeners, connections),
	// for apply's open-file check before the run; nil means 1.
	Files func(b *plan.OutputBlock) int
}

// RedactURL returns raw without its user info, for messages: a URL's password is a credential.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	u.User = nil
	return u.String()
}

// CheckHTTPURL is the check of an attribute that, when set, must be an http(s) URL with a host.
func CheckHTTPURL(b *plan.OutputBlock, name string) []plan.OutputProblem {
	s := b.String(name)
	if s == "" {
		return nil
	}
	if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return []plan.OutputProblem{{Attr: name, Summary: "Invalid URL",
			Detail: fmt.Sprintf("%s must be an http(s) URL such as \"http://127.0.0.1:8086\".", name)}}
	}
	return nil
}

// CheckPath is the check of a file output's path: written, it may not be empty, which names no
// file and no folder.
func CheckPath(b *plan.OutputBlock) []plan.OutputProblem {
	if a := b.Attr("path"); a != nil && a.Set && b.String("path") == "" {
		return []plan.OutputProblem{{Attr: "path", Summary: "Empty path",
			Detail: "Give a file (results/run.csv) or a folder ending in / (results/)."}}
	}
	return nil
}

// Constructor makes a Kind's New from a package's ConfigOf and New(cfg, opts): a failed New
// gives a nil Output, never a typed nil.
func Constructor[C any, O Output](configOf func(*plan.OutputBlock) C, newOutput func(C, Options) (O, error)) func(*plan.OutputBlock, Options) (Output, error) {
	return func(b *plan.OutputBlock, opts Options) (Output, error) {
		o, err := newOutput(configOf(b), opts)
		if err != nil {
			return nil, err
		}
		return o, nil
	}
}
