package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// Defaults of the prometheus_remote_write output.
const (
	DefaultRemoteWriteInterval = 5 * time.Second
	DefaultFlushTimeout        = 10 * time.Second
	rwWriteTimeout             = 10 * time.Second // one HTTP attempt
	rwMinBackoff               = 250 * time.Millisecond
	rwMaxBackoff               = 5 * time.Second
	rwMaxAttempts              = 8  // per write: 7 waits of 0.25, 0.5, 1, 2, 4, 5, 5 s
	rwQueueLimit               = 20 // pending writes; past it the oldest is dropped
	rwSeriesPerWrite           = 2000
	rwWarnEvery                = 10 * time.Second
)

// RemoteWrite is the prometheus_remote_write output: it pushes the figures of the scrape output
// to a remote-write 1.0 receiver (Mimir, Alloy, Grafana Cloud, Prometheus with
// --web.enable-remote-write-receiver) as snappy-compressed protobuf WriteRequests.
//
// It holds a scrape *Output that never listens: EmitSeries feeds it the Manager's deltas and,
// every interval, a flusher gathers its registry and converts the families (convert), so the
// series, names, labels and histograms are the scrape output's by construction. The protobuf
// types are the buf registry's protoc-gen-go build of Prometheus's own remote.proto and
// types.proto (why these: the import's comment in remotewrite_convert.go).
//
// Native histograms go beside the classic buckets unless native_histograms = false: Mimir,
// Grafana Cloud and a Prometheus with --enable-feature=native-histograms take them, and a
// receiver that does not keeps the classic ones. One that refuses the whole write for them
// (Prometheus 2.x without the feature: "native histograms are disabled") turns them off for the
// rest of the run, with a warning, and gets the same write again without them (send).
//
// Nothing here ever waits on the network on the Manager's goroutine: the flusher queues each
// snapshot (in writes of at most rwSeriesPerWrite series) in a queue of rwQueueLimit writes,
// dropping the oldest, and one writer goroutine sends them in order (a receiver refuses samples
// older than ones it holds). A write is retried on a network error, 5xx or 429 with exponential
// backoff from 250 ms to 5 s, at most rwMaxAttempts times; any other 4xx drops it at once. What
// is dropped is counted in points (samples and native histograms) and reported (Dropped).
type RemoteWrite struct {
	prom     *Output // the scrape output's registry and collectors; never started
	url      string
	shownURL string            // for messages: without user info
	headers  map[string]string // may hold secrets: never logged, scrubbed from errors
	interval time.Duration
	flushFor time.Duration // the final flush's bound
	logf     func(string, ...any)
	client   *http.Client
	native   atomic.Bool // send native histograms; turned off when the receiver refuses them

	qmu   sync.Mutex // guards queue
	queue []*rwWrite
	wake  chan struct{} // capacity 1: writes are waiting

	sent     atomic.Uint64 // writes the receiver accepted
	failed   atomic.Uint64 // writes dropped after failing (or pushed out of the queue)
	dropped  atomic.Uint64 // points in those writes
	attempts atomic.Uint64 // HTTP requests made

	started     bool
	stopFlush   chan struct{} // closed by Stop: the flusher queues the final snapshot and ends
	flushDone   chan struct{}
	writerDone  chan struct{}
	flushedLast atomic.Bool
	cancelWrite context.CancelFunc
	lastWarn    time.Time        // writer goroutine only
	exSeen      map[string]int64 // the flusher's: newest exemplar time sent per series (fresh)

	// sleep waits d or until ctx ends (false); tests record the backoff through it.
	sleep func(ctx context.Context, d time.Duration) bool
	now   func() time.Time
}

// RemoteWriteConfig is the configuration of `output "prometheus_remote_write" { ... }`.
type RemoteWriteConfig struct {
	URL              string            // the receiver's write endpoint, e.g. http://mimir:9009/api/v1/push
	Interval         time.Duration     // between snapshots; 0 means DefaultRemoteWriteInterval
	Headers          map[string]string // sent with every write (Authorization, X-Scope-OrgID); secret
	TestID           string            // the testid label; "" means the plan name
	NativeHistograms bool              // send native histograms as well as the classic buckets
	FlushTimeout     time.Duration     // bound of the final flush; 0 means DefaultFlushTimeout
}

// NewRemoteWrite checks cfg and builds the output; nothing is contacted before Start.
func NewRemoteWrite(cfg RemoteWriteConfig, opts outputs.Options) (*RemoteWrite, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus_remote_write: url %q: want http(s)://host:port/path", outputs.RedactURL(cfg.URL))
	}
	// The scrape output checks its listen address even though it never listens: give it a valid one.
	prom, err := New(Config{Listen: DefaultListen, TestID: cfg.TestID}, opts)
	if err != nil {
		return nil, fmt.Errorf("prometheus_remote_write: %w", err)
	}
	rw := &RemoteWrite{
		prom: prom, url: cfg.URL, shownURL: outputs.RedactURL(cfg.URL), headers: cfg.Headers,
		interval: cfg.Interval, flushFor: cfg.FlushTimeout, logf: opts.Logf,
		client: &http.Client{Timeout: rwWriteTimeout},
		wake:   make(chan struct{}, 1), stopFlush: make(chan struct{}),
		flushDone: make(chan struct{}), writerDone: make(chan struct{}),
		sleep: sleepCtx, now: time.Now, exSeen: map[string]int64{},
	}
	rw.native.Store(cfg.NativeHistograms)
	if rw.interval <= 0 {
		rw.interval = DefaultRemoteWriteInterval
	}
	if rw.flushFor <= 0 {
		rw.flushFor = DefaultFlushTimeout
	}
	if rw.logf == nil {
		rw.logf = func(string, ...any) {}
	}
	return rw, nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Name returns "prometheus_remote_write".
func (rw *RemoteWrite) Name() string { return "prometheus_remote_write" }

// Dropped returns the points (samples and native histograms) the receiver never got: in writes
// that failed, or that a full queue pushed out (outputs.Dropper).
func (rw *RemoteWrite) Dropped() uint64 { return rw.dropped.Load() }

// Emit folds samples directly (tests, merge); the Manager calls EmitSeries.
func (rw *RemoteWrite) Emit(batch []metrics.Sample) { rw.prom.Emit(batch) }

// EmitSeries feeds the deltas to the scrape output's collectors (outputs.SeriesOutput). It runs
// on the Manager's goroutine and never touches the network.
func (rw *RemoteWrite) EmitSeries(deltas []*metrics.Series) { rw.prom.EmitSeries(deltas) }

// Start starts the flusher and the writer. An unreachable receiver is no error: its writes are
// dropped and counted while it is down.
func (rw *RemoteWrite) Start(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rw.cancelWrite, rw.started = cancel, true
	go rw.flusher()
	go rw.writeLoop(wctx)
	return nil
}

// flusher queues a snapshot every interval, and the final one when Stop asks.
func (rw *RemoteWrite) flusher() {
	defer close(rw.flushDone)
	t := time.NewTicker(rw.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			rw.snapshot()
		case <-rw.stopFlush:
			rw.snapshot()
			rw.flushedLast.Store(true)
			rw.signal()
			return
		}
	}
}

// snapshot gathers the registry and queues it as writes.
func (rw *RemoteWrite) snapshot() {
	families, err := rw.prom.Gatherer().Gather()
	if err != nil {
		rw.logf("prometheus_remote_write: gather: %v", err) // a collector bug; what was gathered still goes
	}
	for _, w := range splitWrites(families, rw.now().UnixMilli(), rwSeriesPerWrite, rw.exSeen) {
		rw.enqueue(w)
	}
}

func (rw *RemoteWrite) signal() {
	select {
	case rw.wake <- struct{}{}:
	default:
	}
}

// enqueue appends w, dropping the oldest write beyond the bound.
func (rw *RemoteWrite) enqueue(w *rwWrite) {
	rw.qmu.Lock()
	rw.queue = append(rw.queue, w)
	if len(rw.queue) > rwQueueLimit {
		old := rw.queue[0]
		n := copy(rw.queue, rw.queue[1:])
		rw.queue[n] = nil
		rw.queue = rw.queue[:n]
		rw.drop(old)
	}
	rw.qmu.Unlock()
	rw.signal()
}

func (rw *RemoteWrite) drop(w *rwWrite) {
	rw.failed.Add(1)
	rw.dropped.Add(uint64(w.points(rw.native.Load())))
}

// take removes the oldest queued write; nil when none.
func (rw *RemoteWrite) take() *rwWrite {
	rw.qmu.Lock()
	defer rw.qmu.Unlock()
	if len(rw.queue) == 0 {
		return nil
	}
	w := rw.queue[0]
	n := copy(rw.queue, rw.queue[1:])
	rw.queue[n] = nil
	rw.queue = rw.queue[:n]
	return w
}

// Stop queues the final snapshot (the Manager has emitted every delta) and waits for the writer
// to send what is queued, at most the flush timeout and while ctx lasts (a second Ctrl-C cuts
// it). What is still queued then is dropped and counted; a warning says the totals.
func (rw *RemoteWrite) Stop(ctx context.Context) error {
	if !rw.started {
		return nil
	}
	close(rw.stopFlush)
	<-rw.flushDone
	t := time.NewTimer(rw.flushFor)
	defer t.Stop()
	var err error
	select {
	case <-rw.writerDone:
	case <-t.C:
		err = fmt.Errorf("prometheus_remote_write: final flush to %s not done within %s", rw.shownURL, rw.flushFor)
	case <-ctx.Done():
		err = fmt.Errorf("prometheus_remote_write: final flush: %w", ctx.Err())
	}
	rw.cancelWrite()
	<-rw.writerDone
	for w := rw.take(); w != nil; w = rw.take() {
		rw.drop(w)
	}
	if err != nil {
		rw.logf("%v", err)
	}
	if d := rw.dropped.Load(); d > 0 {
		rw.logf("prometheus_remote_write: %d points in %d writes were dropped (receiver %s slow, down or refusing); %d writes sent",
			d, rw.failed.Load(), rw.shownURL, rw.sent.Load())
	}
	return nil // drops are reported in the summary (Dropped); a receiver never fails the run
}

// RemoteWriteKind is the prometheus_remote_write output kind for outputs/registry:
// `output "prometheus_remote_write" { url = ... }` and `--out prometheus_remote_write=URL`.
var RemoteWriteKind = outputs.Kind{
	Schema: &plan.OutputSchema{
		Kind: "prometheus_remote_write",
		Attrs: []plan.AttrSpec{
			{Name: "url", Type: plan.TypeString, Required: true, Show: true},
			{Name: "interval", Type: plan.TypeDuration, Default: DefaultRemoteWriteInterval, Show: true},
			{Name: "headers", Type: plan.TypeStringMap, Secret: true},
			{Name: "testid", Type: plan.TypeString},
			{Name: "native_histograms", Type: plan.TypeBool, Default: true},
			{Name: "flush_timeout", Type: plan.TypeDuration, Default: DefaultFlushTimeout},
		},
		Check: checkRemoteWrite,
	},
	Flag: func(value string, b *plan.OutputBlock) error {
		if value == "" {
			return errors.New("needs a URL: --out prometheus_remote_write=http://127.0.0.1:9090/api/v1/write")
		}
		b.Set("url", value)
		return nil
	},
	New:   outputs.Constructor(RemoteWriteConfigOf, NewRemoteWrite),
	Files: func(*plan.OutputBlock) int { return 2 }, // the writer's connection, and one being replaced
}

// RemoteWriteConfigOf reads a decoded `output "prometheus_remote_write"` block.
func RemoteWriteConfigOf(b *plan.OutputBlock) RemoteWriteConfig {
	return RemoteWriteConfig{URL: b.String("url"), Interval: b.Duration("interval"), Headers: b.StringMap("headers"),
		TestID: b.String("testid"), NativeHistograms: b.Bool("native_histograms"), FlushTimeout: b.Duration("flush_timeout")}
}

func checkRemoteWrite(b *plan.OutputBlock) []plan.OutputProblem {
	out := outputs.CheckHTTPURL(b, "url")
	for _, name := range []string{"interval", "flush_timeout"} {
		if a := b.Attr(name); a != nil && a.Set && b.Duration(name) <= 0 {
			out = append(out, plan.OutputProblem{Attr: name, Summary: "Invalid " + name,
				Detail: name + " must be longer than 0, e.g. \"5s\"."})
		}
	}
	for k := range b.StringMap("headers") {
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			out = append(out, plan.OutputProblem{Attr: "headers", Summary: "Invalid header name",
				Detail: fmt.Sprintf("%q is not an HTTP header name; write e.g. { Authorization = \"Bearer ...\" }.", k)})
		}
	}
	return out
}
