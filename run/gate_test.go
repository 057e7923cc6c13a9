package run_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/internal/fleet"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/run"
)

// TestGateStartsTheLoadAtItsInstant: the load begins no earlier than the Gate's instant, the
// segment summary (as log lines on Stdout) records the instant, and every request the server
// counted is in it.
func TestGateStartsTheLoadAtItsInstant(t *testing.T) {
	srv := newCounter(t)
	p := load(t, srv.srv.URL, "/ok", iterations200, "")
	var at time.Time
	var out bytes.Buffer
	r := start(t, p, run.Config{Segment: executor.Segment{Index: 1, Total: 1}, SegmentSummary: "-", Stdout: &out,
		Gate: func(context.Context) (time.Time, error) {
			at = time.Now().Add(200 * time.Millisecond)
			if n := srv.hits.Load(); n != 0 {
				t.Errorf("the gate was reached after %d requests", n)
			}
			return at, nil
		}})
	res := r.Wait()
	if res.Code != run.ExitOK || res.Executor.Start.Before(at) {
		t.Fatalf("exit %d; load began %v, gate said %v", res.Code, res.Executor.Start, at)
	}
	c := fleet.NewCollector()
	if err := c.Read(&out, "stdout"); err != nil {
		t.Fatal(err)
	}
	segs, err := c.Summaries()
	if err != nil || len(segs) != 1 || !segs[0].ScheduledStart.Equal(at) || !segs[0].Start.Equal(res.Executor.Start) {
		t.Fatalf("summary lines: %d, %v", len(segs), err)
	}
	if got := count(res, metrics.HTTPReqs); got != float64(srv.hits.Load()) || got != 200 {
		t.Errorf("http_reqs %v, server counted %d", got, srv.hits.Load())
	}
}

// TestGateFailsOrIsStopped: a Gate error fails Start (exit 1) and a Stop during the wait ends
// the run as interrupted (105); neither sends a request.
func TestGateFailsOrIsStopped(t *testing.T) {
	srv := newCounter(t)
	p := load(t, srv.srv.URL, "/ok", iterations200, "")
	r, err := run.New(p, run.Config{Gate: func(context.Context) (time.Time, error) {
		return time.Time{}, errors.New("rendezvous: 1 of 4 segments checked in")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); run.ExitCode(err) != run.ExitRuntime || !strings.Contains(err.Error(), "1 of 4") {
		t.Errorf("Start with a failing gate: %v", err)
	}

	reached := make(chan struct{})
	r, err = run.New(p, run.Config{Gate: func(ctx context.Context) (time.Time, error) {
		close(reached)
		<-ctx.Done() // a rendezvous that never completes
		return time.Time{}, ctx.Err()
	}})
	if err != nil {
		t.Fatal(err)
	}
	go func() { <-reached; r.Stop() }()
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res := r.Wait(); res.Code != run.ExitInterrupted {
		t.Errorf("stopped at the gate: exit %d, want 105", res.Code)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("server counted %d requests", n)
	}
}
