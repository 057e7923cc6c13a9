package csv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// logs collects what an output logs from its writer goroutine.
type logs struct {
	mu    sync.Mutex // guards lines: the writer goroutine logs, the test reads
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// toFull makes path a symlink to /dev/full, where every write fails with ENOSPC.
func toFull(t *testing.T, path string) {
	t.Helper()
	if err := os.Symlink("/dev/full", path); err != nil {
		t.Fatal(err)
	}
}

// TestRawFileOnFullDevice emits far more than one buffer into a raw file that cannot be written:
// Emit never blocks, Stop reports the file and the cause once, the writer logged it once while
// the run went on, and no Locust file is put beside a device.
func TestRawFileOnFullDevice(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.csv")
	toFull(t, path)
	var l logs
	c, err := New(Config{Path: path, Aggregated: true}, outputs.Options{Logf: l.logf})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	batch := make([]metrics.Sample, 64)
	for i := 0; i < 500; i++ { // ~3 MB of rows: a dozen buffers
		for j := range batch {
			batch[j] = metrics.Sample{Metric: metrics.HTTPReqs, Time: t0 + int64(i*64+j)*int64(time.Millisecond), Value: 1, Tags: quote, Status: 200}
		}
		c.Emit(batch)
	}
	err = c.Stop(context.Background())
	fe := outputs.Incomplete(err)
	if len(fe) != 1 || fe[0].Path != path || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Stop: %v, want one ENOSPC error naming %s", err, path)
	}
	want := path + ": write: no space left on device — the file is incomplete"
	if err.Error() != want {
		t.Errorf("Stop: %q, want %q", err, want)
	}
	if len(l.lines) != 1 || l.lines[0] != want+"; the run goes on" {
		t.Errorf("logged %q, want the failure once", l.lines)
	}
	if c.StatsPrefix() != "" {
		t.Errorf("Locust files beside a device, prefix %q", c.StatsPrefix())
	}
}

// TestStatsFilesOnFullDevice fails the three Locust files and not the raw one: Stop names each
// of the three, and the raw file is whole (the golden file).
func TestStatsFilesOnFullDevice(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"run_stats.csv", "run_stats_history.csv", "run_failures.csv"} {
		toFull(t, filepath.Join(dir, f))
	}
	c := start(t, Config{Path: filepath.Join(dir, "run.csv"), Aggregated: true, Layout: LayoutLong}, "smoke")
	c.Emit(fixture())
	err := c.Stop(context.Background())
	var got []string
	for _, fe := range outputs.Incomplete(err) {
		if errors.Is(fe, syscall.ENOSPC) {
			got = append(got, filepath.Base(fe.Path))
		}
	}
	if fmt.Sprint(got) != "[run_stats_history.csv run_stats.csv run_failures.csv]" {
		t.Errorf("Stop named %v (%v), want the three Locust files", got, err)
	}
	raw, rerr := os.ReadFile(filepath.Join(dir, "run.csv"))
	if rerr != nil {
		t.Fatal(rerr)
	}
	golden(t, "run.csv", raw)
}
