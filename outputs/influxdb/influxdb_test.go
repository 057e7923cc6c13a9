package influxdb

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api/write"
	lp "github.com/influxdata/line-protocol"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

var quote = &metrics.Tags{Scenario: "rest", Step: "quote", Target: "api", Method: "GET", URL: "/api/stocks/${s}", Group: "http"}

func fields(p *write.Point) map[string]any {
	m := map[string]any{}
	for _, f := range p.FieldList() {
		m[f.Key] = f.Value
	}
	return m
}

func tags(p *write.Point) map[string]string {
	m := map[string]string{}
	for _, t := range p.TagList() {
		m[t.Key] = t.Value
	}
	return m
}

func TestIntervalPoints(t *testing.T) {
	var g aggregator
	g.init()
	now := time.Now().UnixNano()
	batch := []metrics.Sample{
		{Metric: metrics.HTTPReqs, Time: now, Value: 1, Tags: quote, Status: 200},
		{Metric: metrics.HTTPReqs, Time: now, Value: 1, Tags: quote, Status: 200},
		{Metric: metrics.HTTPReqFailed, Time: now, Value: 1, Tags: quote, Status: 200},
		{Metric: metrics.HTTPReqFailed, Time: now, Value: 0, Tags: quote, Status: 200},
		{Metric: metrics.HTTPReqFailed, Time: now, Value: 0, Tags: quote, Status: 200},
		{Metric: metrics.VUs, Time: now, Value: 3},
		{Metric: metrics.VUs, Time: now, Value: 5},
		{Metric: metrics.Checks, Time: now, Value: 1, Tags: quote, Label: "status is 200"},
	}
	for i := 1; i <= 100; i++ {
		batch = append(batch, metrics.Sample{Metric: metrics.HTTPReqDuration, Time: now, Value: float64(i), Tags: quote, Status: 200})
	}
	g.add(batch)
	at := time.Unix(1795342500, 0)
	points := g.points(at, "t1", "1/4")
	byName := map[string]*write.Point{}
	for _, p := range points {
		byName[p.Name()] = p
		if !p.Time().Equal(at) {
			t.Errorf("%s at %v", p.Name(), p.Time())
		}
	}
	if len(points) != 5 {
		t.Fatalf("%d points", len(points))
	}
	if f := fields(byName["http_reqs"]); f["count"] != int64(2) || f["value"] != 2.0 {
		t.Errorf("http_reqs %v", f)
	}
	if f := fields(byName["http_req_failed"]); f["count"] != int64(3) || f["trues"] != int64(1) || f["rate"] != 1.0/3 {
		t.Errorf("http_req_failed %v", f)
	}
	if f := fields(byName["vus"]); f["value"] != 5.0 || f["min"] != 3.0 || f["max"] != 5.0 {
		t.Errorf("vus %v", f)
	}
	d := fields(byName["http_req_duration"])
	if d["count"] != int64(100) || d["sum"] != 5050.0 || d["mean"] != 50.5 || d["min"] != 1.0 || d["max"] != 100.0 {
		t.Errorf("http_req_duration %v", d)
	}
	for q, want := range map[string]float64{"p50": 50, "p90": 90, "p95": 95, "p99": 99} {
		if got := d[q].(float64); got < want*0.995 || got > want*1.005 {
			t.Errorf("%s = %v, want %v within histogram precision", q, got, want)
		}
	}
	wantTags := map[string]string{"testid": "t1", "segment": "1/4", "scenario": "rest", "step": "quote", "target": "api", "method": "GET", "url": "/api/stocks/${s}", "status": "200"}
	if got := tags(byName["http_reqs"]); fmt.Sprint(got) != fmt.Sprint(wantTags) {
		t.Errorf("tags %v, want %v", got, wantTags)
	}
	if got := tags(byName["checks"]); got["check"] != "status is 200" {
		t.Errorf("checks tags %v", got)
	}
	if got := tags(byName["vus"]); len(got) != 2 {
		t.Errorf("vus tags %v", got)
	}
	// The next interval starts empty: no points without samples.
	if p := g.points(at.Add(time.Second), "t1", ""); len(p) != 0 {
		t.Errorf("empty interval gave %d points", len(p))
	}
	var enc strings.Builder
	e := lp.NewEncoder(&enc)
	for _, p := range points {
		if _, err := e.Encode(p); err != nil {
			t.Fatalf("line protocol: %v", err)
		}
	}
}

// blockingWriter stands in for a server that does not answer until released.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	got     int
}

func (b *blockingWriter) WritePoint(ctx context.Context, p ...*write.Point) error {
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.mu.Lock()
	b.got += len(p)
	b.mu.Unlock()
	return nil
}

// TestSlowServerDropsOldest fills the bounded queue while the writer is stuck: Emit keeps
// returning, the overflow is counted, and after release everything kept is written.
func TestSlowServerDropsOldest(t *testing.T) {
	o, err := New(Config{URL: "http://127.0.0.1:1/db", BatchSize: 10, FlushInterval: time.Hour}, outputs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bw := &blockingWriter{release: make(chan struct{})}
	o.writer = bw
	o.client = influxdb2.NewClient(o.serverURL, "")
	ctx, cancel := context.WithCancel(context.Background())
	o.cancelWrite = cancel
	go o.flusher()
	go o.writeLoop(ctx)

	// 30 intervals of 7 series each, made by hand (the flush interval is an hour).
	for i := 0; i < 30; i++ {
		var batch []metrics.Sample
		for s := 0; s < 7; s++ {
			batch = append(batch, metrics.Sample{Metric: metrics.HTTPReqs, Time: int64(i), Value: 1, Tags: quote, Status: 200 + s})
		}
		o.Emit(batch)
		o.enqueue(o.agg.points(time.Unix(int64(i), 0), "x", ""))
	}
	// 210 points for a queue of 100 plus at most one batch of 10 held by the stuck writer.
	if d := o.Dropped(); d < 100 || d > 110 {
		t.Fatalf("dropped %d, want 100..110", d)
	}
	close(bw.release)
	if err := o.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if uint64(bw.got)+o.Dropped() != 210 || o.Written() != uint64(bw.got) {
		t.Fatalf("written %d + dropped %d != 210", bw.got, o.Dropped())
	}
}

func TestStartUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	o, _ := New(Config{URL: "http://" + addr + "/db", Required: true, Token: "s3cret"}, outputs.Options{})
	err = o.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Start against %s: %v", addr, err)
	}
	if err := o.Stop(context.Background()); err != nil { // after a failed Start: returns at once
		t.Fatal(err)
	}
	var logs []string
	o, _ = New(Config{URL: "http://" + addr + "/db", Required: false},
		outputs.Options{Logf: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }})
	if err := o.Start(context.Background()); err != nil {
		t.Fatalf("not required: %v", err)
	}
	o.Emit([]metrics.Sample{{Metric: metrics.HTTPReqs, Value: 1, Tags: quote}})
	if err := o.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o.Dropped() != 1 || len(logs) == 0 {
		t.Fatalf("dropped %d, logs %q", o.Dropped(), logs)
	}
}

// TestTokenNeverLogged: a server that echoes the Authorization header in its error body.
func TestTokenNeverLogged(t *testing.T) {
	var writes int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ping" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		writes++
		mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"code":"unauthorized","message":"bad token %s"}`, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	var logs []string
	var lmu sync.Mutex
	o, err := New(Config{URL: srv.URL, Bucket: "db/autogen", Token: "s3cret-token", Required: true},
		outputs.Options{Logf: func(f string, a ...any) { lmu.Lock(); logs = append(logs, fmt.Sprintf(f, a...)); lmu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	o.Emit([]metrics.Sample{{Metric: metrics.HTTPReqs, Value: 1, Tags: quote}})
	if err := o.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	lmu.Lock()
	defer lmu.Unlock()
	if writes != 1 || o.Dropped() != 1 || len(logs) == 0 {
		t.Fatalf("writes %d dropped %d logs %q", writes, o.Dropped(), logs)
	}
	for _, l := range logs {
		if strings.Contains(l, "s3cret") {
			t.Fatalf("token in log line %q", l)
		}
	}
}

func TestBucketFromURL(t *testing.T) {
	o, err := New(Config{URL: "http://user:pw@127.0.0.1:8086/k6db/autogen"}, outputs.Options{PlanName: "smoke"})
	if err != nil {
		t.Fatal(err)
	}
	if o.bucket != "k6db/autogen" || o.serverURL != "http://user:pw@127.0.0.1:8086" || o.shownURL != "http://127.0.0.1:8086" || o.testID != "smoke" {
		t.Fatalf("%+v", o)
	}
	for _, bad := range []string{"ftp://x", "127.0.0.1:8086", "http://"} {
		if _, err := New(Config{URL: bad}, outputs.Options{}); err == nil {
			t.Errorf("url %q accepted", bad)
		}
	}
}

// TestEveryPointCarriesItsSegment: every point of every metric carries the segment tag in a
// segmented run, so that points of two instances at the same instant never overwrite each other
// in InfluxDB (same measurement, tags and time would be one point); an unsegmented run writes
// no segment tag (the line protocol has no empty tag).
func TestEveryPointCarriesItsSegment(t *testing.T) {
	for _, seg := range []string{"3/4", ""} {
		var g aggregator
		g.init()
		now := time.Now().UnixNano()
		var batch []metrics.Sample
		for _, m := range metrics.All() {
			batch = append(batch, metrics.Sample{Metric: m, Time: now, Value: 1, Tags: quote, Status: 200, Label: "x"})
		}
		g.add(batch)
		points := g.points(time.Now(), "t1", seg)
		if len(points) != len(metrics.All()) {
			t.Fatalf("%d points for %d metrics", len(points), len(metrics.All()))
		}
		for _, p := range points {
			got, has := tags(p)["segment"]
			if has != (seg != "") || got != seg {
				t.Errorf("segment %q: %s has segment tag %v %q", seg, p.Name(), has, got)
			}
		}
	}
}
