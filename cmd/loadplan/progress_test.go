package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/run"
)

// lockedBuffer is a bytes.Buffer safe for the progress goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fakeRun feeds the progress line: every call to its store adds 100 requests, 5 failed, at 20 ms.
func fakeRun(t *testing.T) (func() run.Status, *metrics.Store, func()) {
	t.Helper()
	store := metrics.NewStore()
	tags := &metrics.Tags{Scenario: "rest", Step: "get"}
	start := time.Now()
	add := func() {
		var batch []metrics.Sample
		for i := range 100 {
			bad := 0.0
			if i < 5 {
				bad = 1
			}
			batch = append(batch,
				metrics.Sample{Metric: metrics.HTTPReqs, Value: 1, Tags: tags},
				metrics.Sample{Metric: metrics.HTTPReqFailed, Value: bad, Tags: tags},
				metrics.Sample{Metric: metrics.HTTPReqDuration, Value: 20, Tags: tags},
				metrics.Sample{Metric: metrics.Iterations, Value: 1, Tags: tags})
		}
		store.Add(batch)
	}
	status := func() run.Status {
		return run.Status{Status: executor.Status{Start: start, Elapsed: time.Since(start), Total: time.Minute, Stage: 1, StageCount: 2, VUs: 7, MaxVUs: 10}}
	}
	return status, store, add
}

func TestProgressPlainEveryTenSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		status, store, add := fakeRun(t)
		var out lockedBuffer
		p := startProgress(progressConfig{w: &out, status: status, store: store})
		time.Sleep(500 * time.Millisecond) // add between ticks, never at the same instant
		for range 25 {
			add() // 100 requests a second
			time.Sleep(time.Second)
		}
		synctest.Wait()
		p.stop()
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("want 2 lines in 25 s, got %d:\n%s", len(lines), out.String())
		}
		for _, want := range []string{"running 0:10/1:00", "stage 1/2", "7/10 VUs", "1000 iters", "1000 reqs", "100.0 req/s", "5.00% errors", "p95 20.00ms"} {
			if !strings.Contains(lines[0], want) {
				t.Errorf("first line lacks %q: %s", want, lines[0])
			}
		}
		if !strings.Contains(lines[1], "running 0:20/1:00") || !strings.Contains(lines[1], "2000 reqs") {
			t.Errorf("second line: %s", lines[1])
		}
		if strings.Contains(out.String(), "\r") {
			t.Error("carriage return in a non-terminal log")
		}
	})
}

func TestProgressRefreshesOneLineOnATerminal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		status, store, add := fakeRun(t)
		var out lockedBuffer
		p := startProgress(progressConfig{w: &out, tty: true, status: status, store: store})
		time.Sleep(500 * time.Millisecond)
		for range 3 {
			add()
			time.Sleep(time.Second)
		}
		synctest.Wait()
		p.stop()
		s := out.String()
		if strings.Count(s, "\r") != 5 || strings.Contains(s, "\n") {
			t.Errorf("want 3 refreshes and a blanked line (5 \\r), no newline, got %q", s)
		}
		if !strings.HasSuffix(s, "\r") {
			t.Errorf("the line is not cleared at the end: %q", s)
		}
	})
}

func TestProgressDisabled(t *testing.T) {
	status, store, _ := fakeRun(t)
	var out lockedBuffer
	p := startProgress(progressConfig{w: &out, status: status, store: store, disabled: true})
	p.stop()
	p.stop()
	if out.String() != "" {
		t.Errorf("disabled progress wrote %q", out.String())
	}
}

func TestProgressClock(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0:00", 59 * time.Second: "0:59", 61 * time.Second: "1:01", 3723 * time.Second: "1:02:03"} {
		if got := progressClock(d); got != want {
			t.Errorf("progressClock(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestProgressSaysTargetUnreachable(t *testing.T) {
	st := executor.Status{Elapsed: 12 * time.Second, Total: 20 * time.Second, VUs: 20, MaxVUs: 20,
		Unreachable: []executor.Outage{{Since: 8 * time.Second, Cause: "connection refused"}}}
	none := &metrics.Series{}
	got := formatProgress(st, 178, 0, none, none)
	want := "!! target unreachable since 0:08: connection refused  running 0:12/0:20  20/20 VUs"
	if !strings.HasPrefix(got, want) {
		t.Errorf("progress line\n%q\nwant it to start with\n%q", got, want)
	}
	st.Unreachable = nil
	if got := formatProgress(st, 178, 0, none, none); strings.Contains(got, "unreachable") {
		t.Errorf("a reachable target is called unreachable: %q", got)
	}
}
