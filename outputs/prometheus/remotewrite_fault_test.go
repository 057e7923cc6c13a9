package prometheus

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/prompb"
	"github.com/loadplan/loadplan/outputs"
)

// TestRemoteWriteNativeRefused: a rwReceiver whose native histograms are off (Prometheus answers
// "native histograms are disabled") gets the write again with the classic buckets only, and
// every later write without them; nothing is dropped.
func TestRemoteWriteNativeRefused(t *testing.T) {
	r := newRWReceiver(t, func(_ int64, wr *prompb.WriteRequest) (int, string) {
		for _, ts := range wr.Timeseries {
			if len(ts.Histograms) > 0 {
				return http.StatusInternalServerError, "native histograms are disabled"
			}
		}
		return http.StatusNoContent, ""
	})
	rw, waits, lg := newRW(t, r, RemoteWriteConfig{NativeHistograms: true})
	if err := rw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	rw.Emit(fed())
	rw.snapshot()
	if err := rw.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := r.attempts.Load(); n != 3 || len(r.got) != 2 || len(*waits) != 0 {
		t.Fatalf("%d attempts, %d accepted, %d waits; want 3, 2, 0", n, len(r.got), len(*waits))
	}
	if rw.Dropped() != 0 {
		t.Errorf("dropped %d points", rw.Dropped())
	}
	if v, n := rwValue(r.got[1], "loadplan_http_req_duration_seconds_bucket", map[string]string{"le": "+Inf"}); v != 3 || n == 0 {
		t.Errorf("classic +Inf buckets sum to %v, want 3", v)
	}
	if !strings.Contains(lg.String(), "does not take native histograms") {
		t.Errorf("no warning:\n%s", lg)
	}
}

// TestRemoteWriteQueueBound: with the writer not draining (a rwReceiver that never answers in
// time), snapshots push the oldest pending writes out, and each is counted.
func TestRemoteWriteQueueBound(t *testing.T) {
	r := newRWReceiver(t, nil)
	rw, _, _ := newRW(t, r, RemoteWriteConfig{NativeHistograms: true})
	rw.Emit(fed())
	for range rwQueueLimit + 5 { // not started: nothing drains the queue
		rw.snapshot()
	}
	per := uint64(rw.queue[0].points(true))
	if len(rw.queue) != rwQueueLimit || rw.failed.Load() != 5 || rw.Dropped() != 5*per {
		t.Errorf("queue %d writes, %d failed, %d points dropped; want %d, 5, %d", len(rw.queue), rw.failed.Load(), rw.Dropped(),
			rwQueueLimit, 5*per)
	}
}

// TestRemoteWriteHungReceiver: a receiver that takes a write and never answers holds the final
// flush only for flush_timeout; Stop then returns, and both the held write and the final one
// count as dropped.
func TestRemoteWriteHungReceiver(t *testing.T) {
	release, arrived := make(chan struct{}), make(chan *prompb.WriteRequest, 1)
	r := newRWReceiver(t, func(_ int64, wr *prompb.WriteRequest) (int, string) {
		arrived <- wr
		<-release
		return http.StatusNoContent, ""
	})
	t.Cleanup(func() { close(release) }) // before the server's Close, which waits for the handler
	rw, _, lg := newRW(t, r, RemoteWriteConfig{FlushTimeout: 100 * time.Millisecond})
	if err := rw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	rw.Emit(fed())
	rw.snapshot()
	wr := <-arrived // the writer now waits for an answer that never comes
	if err := rw.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := 2 * rwPoints(wr); rw.Dropped() != want || rw.sent.Load() != 0 || r.attempts.Load() != 1 {
		t.Errorf("dropped %d points, sent %d, %d attempts; want %d, 0, 1", rw.Dropped(), rw.sent.Load(), r.attempts.Load(), want)
	}
	if !strings.Contains(lg.String(), "not done within 100ms") {
		t.Errorf("no warning of the cut flush:\n%s", lg)
	}
}

// TestRemoteWriteWhileEmitting: snapshots every millisecond while the Manager's goroutine
// (here, the test's) emits; the race detector watches, and the last write holds every request.
func TestRemoteWriteWhileEmitting(t *testing.T) {
	r := newRWReceiver(t, nil)
	rw, _, _ := newRW(t, r, RemoteWriteConfig{Interval: time.Millisecond, NativeHistograms: true})
	if err := rw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 200 {
		rw.Emit(fed())
	}
	if err := rw.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	last := r.got[len(r.got)-1]
	// A busy machine may push old writes out of the queue; never the final one, which is last.
	if v, _ := rwValue(last, "loadplan_http_reqs_total", nil); v != 600 || uint64(len(r.got)) != rw.sent.Load() {
		t.Errorf("the last of %d writes (%d sent) holds %v requests, want 600", len(r.got), rw.sent.Load(), v)
	}
}

// TestRemoteWriteURLCredentials: user:password in the URL is sent as basic auth and never shown.
func TestRemoteWriteURLCredentials(t *testing.T) {
	r := newRWReceiver(t, func(int64, *prompb.WriteRequest) (int, string) { return http.StatusUnauthorized, "no" })
	lg := &rwLogs{}
	rw, err := NewRemoteWrite(RemoteWriteConfig{URL: strings.Replace(r.srv.URL, "http://", "http://tenant:pa55word@", 1) + "/api/v1/write"},
		outputs.Options{Logf: lg.logf})
	if err != nil {
		t.Fatal(err)
	}
	runRW(t, rw)
	if user, pass, ok := (&http.Request{Header: r.headers[0]}).BasicAuth(); !ok || user != "tenant" || pass != "pa55word" {
		t.Errorf("basic auth %q %q %v", user, pass, ok)
	}
	if out := lg.String(); strings.Contains(out, "pa55word") || !strings.Contains(out, "401") {
		t.Errorf("the log shows the password or not the failure:\n%s", out)
	}
}
