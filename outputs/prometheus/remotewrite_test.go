package prometheus

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/proto"

	"github.com/loadplan/loadplan/internal/prompb"
	"github.com/loadplan/loadplan/outputs"
)

// rwReceiver is a loopback remote-write rwReceiver: it decodes every request (snappy, protobuf),
// keeps those it accepts, and answers with the rwStatuses of answer (by attempt, 1-based; 204 past
// its end).
type rwReceiver struct {
	srv      *httptest.Server
	attempts atomic.Int64
	mu       sync.Mutex // guards the fields below
	got      []*prompb.WriteRequest
	refused  []*prompb.WriteRequest
	headers  []http.Header
	answer   func(n int64, wr *prompb.WriteRequest) (int, string)
}

func newRWReceiver(t *testing.T, answer func(n int64, wr *prompb.WriteRequest) (int, string)) *rwReceiver {
	r := &rwReceiver{answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := r.attempts.Add(1)
		body, _ := io.ReadAll(req.Body)
		raw, err := snappy.Decode(nil, body)
		wr := &prompb.WriteRequest{}
		if err == nil {
			err = proto.Unmarshal(raw, wr)
		}
		if err != nil {
			http.Error(w, "undecodable: "+err.Error(), http.StatusBadRequest)
			t.Errorf("undecodable write: %v", err)
			return
		}
		code, msg := http.StatusNoContent, ""
		if r.answer != nil {
			code, msg = r.answer(n, wr)
		}
		r.mu.Lock()
		r.headers = append(r.headers, req.Header.Clone())
		if code/100 == 2 {
			r.got = append(r.got, wr)
		} else {
			r.refused = append(r.refused, wr)
		}
		r.mu.Unlock()
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "60")
		}
		w.WriteHeader(code)
		io.WriteString(w, msg)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// rwStatuses answers the listed rwStatuses in order, then 204.
func rwStatuses(codes ...int) func(int64, *prompb.WriteRequest) (int, string) {
	return func(n int64, _ *prompb.WriteRequest) (int, string) {
		if int(n) <= len(codes) {
			return codes[n-1], "try later"
		}
		return http.StatusNoContent, ""
	}
}

// newRW builds the output against r, with an interval long enough that only the final flush
// and the test's own snapshots write, and a sleep that records the backoff instead of waiting.
func newRW(t *testing.T, r *rwReceiver, cfg RemoteWriteConfig) (*RemoteWrite, *[]time.Duration, *rwLogs) {
	t.Helper()
	cfg.URL = r.srv.URL + "/api/v1/write"
	if cfg.Interval == 0 {
		cfg.Interval = time.Hour
	}
	lg := &rwLogs{}
	rw, err := NewRemoteWrite(cfg, outputs.Options{PlanName: "smoke", SegmentName: "1/2", Logf: lg.logf})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	waits := &[]time.Duration{}
	rw.sleep = func(ctx context.Context, d time.Duration) bool {
		mu.Lock()
		*waits = append(*waits, d)
		mu.Unlock()
		return ctx.Err() == nil
	}
	return rw, waits, lg
}

func rwEq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

type rwLogs struct {
	mu    sync.Mutex
	lines []string
}

func (l *rwLogs) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *rwLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// run starts rw, feeds it fed(), and stops it: the final flush is its only write.
func runRW(t *testing.T, rw *RemoteWrite) {
	t.Helper()
	if err := rw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	rw.Emit(fed())
	if err := rw.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// value sums the samples of the series named name whose labels include match.
func rwValue(wr *prompb.WriteRequest, name string, match map[string]string) (float64, int) {
	sum, n := 0.0, 0
	for _, ts := range wr.Timeseries {
		lbl := map[string]string{}
		for _, l := range ts.Labels {
			lbl[l.Name] = l.Value
		}
		ok := lbl["__name__"] == name
		for k, v := range match {
			ok = ok && lbl[k] == v
		}
		if ok {
			for _, s := range ts.Samples {
				sum += s.Value
				n++
			}
		}
	}
	return sum, n
}

func rwPoints(wr *prompb.WriteRequest) uint64 {
	n := 0
	for _, ts := range wr.Timeseries {
		n += len(ts.Samples) + len(ts.Histograms)
	}
	return uint64(n)
}

func TestRemoteWriteRetries503ThenSucceeds(t *testing.T) {
	r := newRWReceiver(t, rwStatuses(503, 503))
	rw, waits, _ := newRW(t, r, RemoteWriteConfig{NativeHistograms: true})
	runRW(t, rw)
	if n := r.attempts.Load(); n != 3 || len(r.got) != 1 {
		t.Fatalf("rwReceiver saw %d attempts, accepted %d writes; want 3 and 1", n, len(r.got))
	}
	if got := rw.attempts.Load(); got != 3 {
		t.Errorf("the output counted %d attempts, the rwReceiver 3", got)
	}
	rwEq(t, "backoff", *waits, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond})
	if rw.Dropped() != 0 || rw.sent.Load() != 1 {
		t.Errorf("dropped %d points, sent %d writes; want 0 and 1", rw.Dropped(), rw.sent.Load())
	}
	// Labels are sorted, never empty (an empty label is no label), and le is formatted as
	// Prometheus formats it on ingestion.
	les := map[string]bool{}
	for _, ts := range r.got[0].Timeseries {
		if !slices.IsSortedFunc(ts.Labels, func(a, b *prompb.Label) int { return strings.Compare(a.Name, b.Name) }) {
			t.Errorf("labels not sorted: %v", ts.Labels)
		}
		for _, l := range ts.Labels {
			if l.Value == "" {
				t.Errorf("empty label %s in %v", l.Name, ts.Labels)
			}
			if l.Name == "le" {
				les[l.Value] = true
			}
		}
	}
	for _, le := range []string{"0.0005", "1.0", "60.0", "+Inf"} {
		if !les[le] {
			t.Errorf("no bucket le=%q among %v", le, les)
		}
	}
	// The accepted write holds the figures fed: 3 requests, 2 of them 200.
	if v, _ := rwValue(r.got[0], "loadplan_http_reqs_total", nil); v != 3 {
		t.Errorf("loadplan_http_reqs_total sums to %v, want 3", v)
	}
	if v, _ := rwValue(r.got[0], "loadplan_http_reqs_total", map[string]string{"status": "200", "testid": "smoke", "segment": "1/2"}); v != 2 {
		t.Errorf("loadplan_http_reqs_total{status=200,testid,segment} = %v, want 2", v)
	}
}

func TestRemoteWriteNoRetryOn400(t *testing.T) {
	r := newRWReceiver(t, func(int64, *prompb.WriteRequest) (int, string) { return http.StatusBadRequest, "out of order sample" })
	rw, waits, lg := newRW(t, r, RemoteWriteConfig{NativeHistograms: true})
	runRW(t, rw)
	if n := r.attempts.Load(); n != 1 || len(*waits) != 0 {
		t.Fatalf("rwReceiver saw %d attempts after %d waits, want 1 and none", n, len(*waits))
	}
	if want := rwPoints(r.refused[0]); rw.Dropped() != want || want == 0 {
		t.Errorf("dropped %d points, the refused write held %d", rw.Dropped(), want)
	}
	if !strings.Contains(lg.String(), "points in 1 writes were dropped") {
		t.Errorf("no warning of the drop:\n%s", lg)
	}
}

// TestRemoteWriteBackoffBounded: a rwReceiver that always answers 503 (then 429) gets
// rwMaxAttempts attempts per write, the waits doubling from 250 ms and never past 5 s, even
// when it asks for 60 s with Retry-After.
func TestRemoteWriteBackoffBounded(t *testing.T) {
	for _, code := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		r := newRWReceiver(t, func(int64, *prompb.WriteRequest) (int, string) { return code, "busy" })
		rw, waits, _ := newRW(t, r, RemoteWriteConfig{})
		runRW(t, rw)
		if n := r.attempts.Load(); n != rwMaxAttempts {
			t.Errorf("%d: rwReceiver saw %d attempts, want %d", code, n, rwMaxAttempts)
		}
		want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second,
			4 * time.Second, 5 * time.Second, 5 * time.Second}
		if code == http.StatusTooManyRequests { // Retry-After: 60, cut to the bound
			want = slices.Repeat([]time.Duration{5 * time.Second}, rwMaxAttempts-1)
		}
		rwEq(t, fmt.Sprint(code, " backoff"), *waits, want)
		if want := rwPoints(r.refused[0]); rw.Dropped() != want {
			t.Errorf("%d: dropped %d points, the write held %d", code, rw.Dropped(), want)
		}
	}
}

// TestRemoteWriteFinalFlush: a snapshot mid-run carries the figures so far; the final flush at
// Stop carries the final ones, later in time.
func TestRemoteWriteFinalFlush(t *testing.T) {
	r := newRWReceiver(t, nil)
	rw, _, _ := newRW(t, r, RemoteWriteConfig{NativeHistograms: true})
	if err := rw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	rw.Emit(fed())
	rw.snapshot()
	rw.Emit(fed())
	rw.Emit(fed())
	if err := rw.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(r.got) != 2 {
		t.Fatalf("rwReceiver accepted %d writes, want 2", len(r.got))
	}
	for i, want := range []float64{3, 9} {
		if v, _ := rwValue(r.got[i], "loadplan_http_reqs_total", nil); v != want {
			t.Errorf("write %d: http_reqs %v, want %v", i, v, want)
		}
		if v, _ := rwValue(r.got[i], "loadplan_http_req_duration_seconds_count", nil); v != want {
			t.Errorf("write %d: duration count %v, want %v", i, v, want)
		}
	}
	var native uint64 // the native histograms' counts in the final write
	for _, ts := range r.got[1].Timeseries {
		if ts.Labels[0].Value == "loadplan_http_req_duration_seconds" {
			for _, h := range ts.Histograms {
				native += h.GetCountInt()
			}
		}
	}
	if native != 9 {
		t.Errorf("native http_req_duration counts sum to %d, want 9", native)
	}
	if a, b := r.got[0].Timeseries[0].Samples[0].Timestamp, r.got[1].Timeseries[0].Samples[0].Timestamp; a > b {
		t.Errorf("the final write is stamped %d, before the first (%d)", b, a)
	}
}

// TestRemoteWriteHeaders: the configured headers and the protocol's reach the rwReceiver; a
// token the rwReceiver echoes in its error never reaches the log.
func TestRemoteWriteHeaders(t *testing.T) {
	const token = "s3cr3t-t0ken"
	r := newRWReceiver(t, func(int64, *prompb.WriteRequest) (int, string) {
		return http.StatusUnauthorized, "bad credentials: Bearer " + token
	})
	rw, _, lg := newRW(t, r, RemoteWriteConfig{Headers: map[string]string{"Authorization": "Bearer " + token, "X-Scope-OrgID": "team-a"}})
	runRW(t, rw)
	if len(r.headers) != 1 {
		t.Fatalf("rwReceiver saw %d requests, want 1", len(r.headers))
	}
	h := r.headers[0]
	for k, want := range map[string]string{"Authorization": "Bearer " + token, "X-Scope-Orgid": "team-a",
		"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf", "X-Prometheus-Remote-Write-Version": "0.1.0"} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if out := lg.String(); strings.Contains(out, token) || !strings.Contains(out, "401") {
		t.Errorf("the log shows the token or not the failure:\n%s", out)
	}
}
