// Package influxdb writes per-interval aggregates of a run to InfluxDB through the v2 client, so
// it works against InfluxDB 2.x and the /api/v2/write compatibility endpoint of 1.8+ (bucket
// "db/retention", token "user:password" or empty).
//
// Every FlushInterval (default 1 s) each series (a metric with one tag set) becomes one point in
// the measurement named after the metric (http_reqs, http_req_duration, …), with the tags
// testid, segment, scenario, task, step, target, method, url, status and check or error (empty
// ones left out). Fields, in the sample's unit (milliseconds for times):
//
//	trend:   count (integer), sum, mean, min, max, p50, p90, p95, p99
//	counter: count (integer), value (the sum)
//	rate:    count (integer), trues (integer), rate (trues/count)
//	gauge:   value (the last), min, max
//
// The write path never slows a VU: Emit folds samples into the current interval under a mutex
// the flusher holds only to swap two maps; points go to a bounded queue that one writer
// goroutine drains with the blocking write API and a timeout per write. When InfluxDB is slow or
// down the queue drops its oldest points, failed batches are dropped too, both are counted
// (Dropped) and warned about, and the run goes on.
package influxdb

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// Defaults for an output block that leaves them out.
const (
	DefaultBucket        = "loadplan"
	DefaultBatchSize     = 5000
	DefaultFlushInterval = time.Second
	writeTimeout         = 5 * time.Second
	pingTimeout          = 5 * time.Second
	warnEvery            = 10 * time.Second
)

// Output is the InfluxDB output. Create it with New.
type Output struct {
	serverURL string // without the database path
	shownURL  string // for messages: no user info
	org       string
	bucket    string
	token     string // secret: never logged, never in an error
	batchSize int
	interval  time.Duration
	required  bool
	testID    string
	segment   string
	logf      func(string, ...any)

	// queueLimit bounds the points waiting for the writer; past it the oldest are dropped.
	queueLimit int

	client influxdb2.Client
	writer interface {
		WritePoint(ctx context.Context, point ...*write.Point) error
	}

	agg aggregator

	qmu     sync.Mutex // guards queue
	queue   []*write.Point
	wake    chan struct{} // capacity 1: points are waiting
	dropped atomic.Uint64
	written atomic.Uint64

	stopFlush   chan struct{} // closed by Stop: the flusher makes its last interval and ends
	flushDone   chan struct{}
	writerDone  chan struct{}
	flushedLast atomic.Bool // the flusher has queued its last points
	cancelWrite context.CancelFunc
	lastWarn    time.Time // writer goroutine only
}

// New checks cfg. A database path on the URL (http://host:8086/db, as k6 takes
// it) is the bucket when none is given. Nothing is contacted before Start.
func New(o Config, opts outputs.Options) (*Output, error) {
	raw := o.URL
	if raw == "" {
		raw = "http://127.0.0.1:8086"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("influxdb: url %q: want http(s)://host:port[/database]", outputs.RedactURL(raw))
	}
	bucket := o.Bucket
	if p := strings.Trim(u.Path, "/"); p != "" && bucket == "" {
		bucket = p
	}
	if bucket == "" {
		bucket = DefaultBucket
	}
	u.Path, u.RawQuery = "", ""
	shown := *u
	shown.User = nil
	out := &Output{
		serverURL: u.String(), shownURL: shown.String(), org: o.Org, bucket: bucket, token: o.Token,
		batchSize: o.BatchSize, interval: o.FlushInterval, required: o.Required,
		testID: o.TestID, segment: opts.SegmentName, logf: opts.Logf,
		wake: make(chan struct{}, 1), stopFlush: make(chan struct{}),
		flushDone: make(chan struct{}), writerDone: make(chan struct{}),
	}
	if out.testID == "" {
		out.testID = opts.PlanName
	}
	if out.batchSize <= 0 {
		out.batchSize = DefaultBatchSize
	}
	if out.interval <= 0 {
		out.interval = DefaultFlushInterval
	}
	if out.logf == nil {
		out.logf = func(string, ...any) {}
	}
	out.queueLimit = 10 * out.batchSize
	out.agg.init()
	return out, nil
}

// Name returns "influxdb".
func (o *Output) Name() string { return "influxdb" }

// Dropped returns the number of points dropped: pushed out of the full queue, or in a batch the
// server did not take.
func (o *Output) Dropped() uint64 { return o.dropped.Load() }

// Written returns the number of points the server accepted.
func (o *Output) Written() uint64 { return o.written.Load() }

// Start checks that the server answers a ping; when it does not, that is an error unless the
// output is not required, in which case it warns and points are dropped while it is down.
func (o *Output) Start(ctx context.Context) error {
	opts := influxdb2.DefaultOptions().
		SetHTTPRequestTimeout(uint(writeTimeout / time.Second)).
		SetLogLevel(0)
	o.client = influxdb2.NewClientWithOptions(o.serverURL, o.token, opts)
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	ok, err := o.client.Ping(pctx)
	cancel()
	if !ok || err != nil {
		msg := fmt.Errorf("influxdb: %s is not reachable: %v", o.shownURL, scrub(err, o.token))
		if o.required {
			o.client.Close()
			o.client = nil // Stop has nothing to do
			return msg
		}
		o.logf("%v; going on without it (required = false)", msg)
	}
	o.writer = o.client.WriteAPIBlocking(o.org, o.bucket)
	wctx, wcancel := context.WithCancel(context.WithoutCancel(ctx))
	o.cancelWrite = wcancel
	go o.flusher()
	go o.writeLoop(wctx)
	return nil
}

// scrub keeps a secret out of an error message.
func scrub(err error, secret string) string {
	if err == nil {
		return "no answer"
	}
	s := err.Error()
	if secret != "" {
		s = strings.ReplaceAll(s, secret, "(token)")
	}
	return s
}

// Emit folds batch into the current interval. It never waits for the network.
func (o *Output) Emit(batch []metrics.Sample) { o.agg.add(batch) }

// flusher turns each interval into points and queues them.
func (o *Output) flusher() {
	defer close(o.flushDone)
	t := time.NewTicker(o.interval)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			o.enqueue(o.agg.points(now, o.testID, o.segment))
		case <-o.stopFlush:
			o.enqueue(o.agg.points(time.Now(), o.testID, o.segment))
			o.flushedLast.Store(true)
			o.signal()
			return
		}
	}
}

func (o *Output) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// enqueue appends points, dropping the oldest beyond the bound.
func (o *Output) enqueue(points []*write.Point) {
	if len(points) == 0 {
		return
	}
	o.qmu.Lock()
	o.queue = append(o.queue, points...)
	if over := len(o.queue) - o.queueLimit; over > 0 {
		n := copy(o.queue, o.queue[over:])
		clear(o.queue[n:])
		o.queue = o.queue[:n]
		o.dropped.Add(uint64(over))
	}
	o.qmu.Unlock()
	o.signal()
}

// take removes up to n points from the head of the queue.
func (o *Output) take(n int) []*write.Point {
	o.qmu.Lock()
	defer o.qmu.Unlock()
	if n > len(o.queue) {
		n = len(o.queue)
	}
	if n == 0 {
		return nil
	}
	b := append([]*write.Point(nil), o.queue[:n]...)
	m := copy(o.queue, o.queue[n:])
	clear(o.queue[m:])
	o.queue = o.queue[:m]
	return b
}

// writeLoop is the one writer: it sends batches until Stop, backing off after a failure.
func (o *Output) writeLoop(ctx context.Context) {
	defer close(o.writerDone)
	for {
		batch := o.take(o.batchSize)
		if len(batch) == 0 && o.flushedLast.Load() {
			// The flusher queued its last points before setting flushedLast: look once more.
			if batch = o.take(o.batchSize); len(batch) == 0 {
				return
			}
		}
		if len(batch) == 0 {
			select {
			case <-o.wake:
			case <-ctx.Done():
				return
			}
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err := o.writer.WritePoint(wctx, batch...)
		cancel()
		if err == nil {
			o.written.Add(uint64(len(batch)))
			continue
		}
		total := o.dropped.Add(uint64(len(batch)))
		if time.Since(o.lastWarn) >= warnEvery {
			o.lastWarn = time.Now()
			o.logf("influxdb: write to %s failed, %d points dropped so far: %s", o.shownURL, total, scrub(err, o.token))
		}
		if o.flushedLast.Load() {
			return // stopping and the server fails: Stop counts what is left as dropped
		}
		select { // back off so that a dead server costs no CPU; the queue keeps its bound
		case <-time.After(time.Second):
		case <-ctx.Done():
			return
		}
	}
}

// Stop queues the last partial interval and waits for the writer to send everything, until ctx
// ends; what is still queued then is counted as dropped.
func (o *Output) Stop(ctx context.Context) error {
	if o.client == nil {
		return nil
	}
	close(o.stopFlush)
	<-o.flushDone
	var err error
	select {
	case <-o.writerDone:
	case <-ctx.Done():
		o.cancelWrite()
		<-o.writerDone
		err = fmt.Errorf("influxdb: stop: %w", ctx.Err())
	}
	o.cancelWrite()
	o.qmu.Lock()
	if n := len(o.queue); n > 0 {
		o.dropped.Add(uint64(n))
		o.queue = nil
	}
	o.qmu.Unlock()
	if d := o.dropped.Load(); d > 0 {
		o.logf("influxdb: %d points were dropped (server slow or down); %d written", d, o.written.Load())
	}
	o.client.Close()
	return err
}

// Config is the configuration of the InfluxDB output: the fields of `output "influxdb" { ... }`.
type Config struct {
	URL           string        // http(s)://host:port, optionally /DATABASE (the bucket, as k6 takes it)
	Org           string        // InfluxDB 2.x organisation
	Bucket        string        // "db/retention" for 1.8; "" means the URL's database or DefaultBucket
	Token         string        // secret: never logged, never in an error
	BatchSize     int           // points per write; 0 means DefaultBatchSize
	FlushInterval time.Duration // 0 means DefaultFlushInterval
	Required      bool          // unreachable at Start is an error (the block's default is true)
	TestID        string        // the testid tag; "" means the plan name
}

// Kind is the influxdb output kind for outputs/registry: `output "influxdb" { url = ..., bucket = ... }`
// and `--out influxdb=URL`.
var Kind = outputs.Kind{
	Schema: &plan.OutputSchema{
		Kind: "influxdb",
		Attrs: []plan.AttrSpec{
			{Name: "url", Type: plan.TypeString, Required: true, Show: true},
			{Name: "org", Type: plan.TypeString},
			{Name: "bucket", Type: plan.TypeString, Required: true, Show: true},
			{Name: "token", Type: plan.TypeString, Secret: true, Show: true},
			{Name: "batch_size", Type: plan.TypeInt, Min: 1, Default: DefaultBatchSize},
			{Name: "flush_interval", Type: plan.TypeDuration, Default: DefaultFlushInterval},
			{Name: "required", Type: plan.TypeBool, Default: true},
			{Name: "testid", Type: plan.TypeString},
		},
		Check: check,
	},
	Flag: func(value string, b *plan.OutputBlock) error {
		if value == "" {
			return errors.New("needs a URL: --out influxdb=http://127.0.0.1:8086/DATABASE")
		}
		b.Set("url", value)
		return nil
	},
	New:   outputs.Constructor(ConfigOf, New),
	Files: func(*plan.OutputBlock) int { return 2 }, // the write client's connections
}

// ConfigOf reads a decoded `output "influxdb"` block.
func ConfigOf(b *plan.OutputBlock) Config {
	return Config{URL: b.String("url"), Org: b.String("org"), Bucket: b.String("bucket"), Token: b.String("token"),
		BatchSize: b.Int("batch_size"), FlushInterval: b.Duration("flush_interval"), Required: b.Bool("required"),
		TestID: b.String("testid")}
}

func check(b *plan.OutputBlock) []plan.OutputProblem {
	out := outputs.CheckHTTPURL(b, "url")
	if a := b.Attr("flush_interval"); a != nil && a.Set && b.Duration("flush_interval") <= 0 {
		out = append(out, plan.OutputProblem{Attr: "flush_interval", Summary: "Invalid flush_interval",
			Detail: "flush_interval must be longer than 0, e.g. \"1s\"."})
	}
	return out
}
