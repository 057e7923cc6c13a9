package outputs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/loadplan/loadplan/metrics"
)

// recorder is an Output that counts what it sees and records lifecycle calls.
type recorder struct {
	name     string
	startErr error
	stopErr  error
	log      *[]string
	samples  int
	batches  int
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) Start(context.Context) error {
	*r.log = append(*r.log, "start "+r.name)
	return r.startErr
}
func (r *recorder) Emit(b []metrics.Sample) { r.samples += len(b); r.batches++ }
func (r *recorder) Stop(context.Context) error {
	*r.log = append(*r.log, "stop "+r.name)
	return r.stopErr
}

func TestManagerFansOutEverySampleFromManyPushers(t *testing.T) {
	var log []string
	a := &recorder{name: "a", log: &log}
	b := &recorder{name: "b", log: &log}
	m := NewManager(a, b)
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	const pushers, batches, size = 16, 200, 37
	var wg sync.WaitGroup
	for p := 0; p < pushers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]metrics.Sample, size)
			for i := 0; i < batches; i++ {
				m.Push(batch) // the caller reuses batch at once: Push must have copied it
				batch[0].Value++
			}
		}()
	}
	wg.Wait()
	if err := m.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := pushers * batches * size
	if a.samples != want || b.samples != want {
		t.Fatalf("outputs saw %d and %d samples, want %d each", a.samples, b.samples, want)
	}
	if a.batches != pushers*batches {
		t.Fatalf("a saw %d batches, want %d", a.batches, pushers*batches)
	}
	m.Push(make([]metrics.Sample, 3)) // after Stop: dropped, never delivered, never panics
	if a.samples != want {
		t.Fatalf("a sample arrived after Stop")
	}
}

func TestManagerStartRollsBackStartedOutputs(t *testing.T) {
	var log []string
	boom := errors.New("port in use")
	m := NewManager(&recorder{name: "a", log: &log}, &recorder{name: "b", log: &log},
		&recorder{name: "c", log: &log, startErr: boom}, &recorder{name: "d", log: &log})
	err := m.Start(context.Background())
	if !errors.Is(err, boom) {
		t.Fatalf("Start error %v, want %v", err, boom)
	}
	if err.Error() != "output c: port in use" {
		t.Fatalf("error text %q", err.Error())
	}
	want := []string{"start a", "start b", "start c", "stop b", "stop a"}
	if len(log) != len(want) {
		t.Fatalf("lifecycle %v, want %v", log, want)
	}
	for i := range want {
		if log[i] != want[i] {
			t.Fatalf("lifecycle %v, want %v", log, want)
		}
	}
}

// TestManagerStopReportsEveryIncompleteFile: every output is stopped even after one failed, and
// each file an output could not write completely reaches the caller as a *FileError.
func TestManagerStopReportsEveryIncompleteFile(t *testing.T) {
	var log []string
	raw := &FileError{Path: "results/run.csv", Op: "write", Err: errors.New("no space left on device")}
	hist := &FileError{Path: "results/run_stats_history.csv", Op: "write", Err: errors.New("input/output error")}
	net := errors.New("influxdb: final flush: connection refused")
	m := NewManager(&recorder{name: "csv", log: &log, stopErr: errors.Join(raw, hist)},
		&recorder{name: "influxdb", log: &log, stopErr: net}, &recorder{name: "json", log: &log})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := m.Stop(context.Background())
	if got := Incomplete(err); len(got) != 2 || got[0] != raw || got[1] != hist {
		t.Errorf("Incomplete = %v, want the csv output's two files", got)
	}
	if !errors.Is(err, net) {
		t.Errorf("Stop lost the network error: %v", err)
	}
	if want := "output csv: results/run.csv: write: no space left on device — the file is incomplete"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Stop: %q, want it to start %q", err, want)
	}
	if len(log) != 6 || log[5] != "stop json" {
		t.Errorf("lifecycle %v: every output is stopped", log)
	}
}

// gate is an Output whose Emit waits until release is closed: a fan-out that is behind.
type gate struct {
	release chan struct{}
	samples int
}

func (g *gate) Name() string                { return "gate" }
func (g *gate) Start(context.Context) error { return nil }
func (g *gate) Emit(b []metrics.Sample)     { <-g.release; g.samples += len(b) }
func (g *gate) Stop(context.Context) error  { return nil }

// TestManagerPushWaitsOnlyWhenQueueFull pins the settled contract: Push returns at once while the
// queue has room, even with the fan-out stuck; it waits (and counts a stall) only once
// QueueBatches batches are queued; nothing is dropped.
func TestManagerPushWaitsOnlyWhenQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := &gate{release: make(chan struct{})}
		m := NewManager(g)
		if err := m.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		batch := make([]metrics.Sample, 64)
		m.Push(batch)
		synctest.Wait() // the loop took the first batch and is stuck in Emit
		for range QueueBatches {
			m.Push(batch) // fills the queue; none may wait
		}
		if n := m.Stalls(); n != 0 {
			t.Fatalf("%d stalls with room in the queue, want 0", n)
		}
		var pushed atomic.Bool
		go func() {
			m.Push(batch)
			pushed.Store(true)
		}()
		synctest.Wait()
		if pushed.Load() {
			t.Fatal("Push returned with the queue full: a batch was dropped or the bound is gone")
		}
		if n := m.Stalls(); n != 1 {
			t.Fatalf("%d stalls, want 1", n)
		}
		close(g.release)
		synctest.Wait()
		if !pushed.Load() {
			t.Fatal("Push still waiting after the fan-out caught up")
		}
		if err := m.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if want := (QueueBatches + 2) * 64; g.samples != want {
			t.Fatalf("output saw %d samples, want %d", g.samples, want)
		}
	})
}
