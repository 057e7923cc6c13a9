package jsonl

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

// TestFullDevice writes JSON lines to a symlink to /dev/full, where every write fails with
// ENOSPC: Emit never blocks, Stop names the file and the cause, and the writer logged the
// failure once while the run went on.
func TestFullDevice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.jsonl")
	if err := os.Symlink("/dev/full", path); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex // guards logged: the writer goroutine logs
		logged []string
	)
	logf := func(format string, args ...any) {
		mu.Lock()
		logged = append(logged, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	j, err := New(Config{Path: path}, outputs.Options{Logf: logf})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	tags := &metrics.Tags{Scenario: "rest", Step: "hit", Method: "GET", URL: "/ok", Group: "http"}
	at := time.Date(2026, 11, 22, 10, 15, 0, 0, time.UTC).UnixNano()
	batch := make([]metrics.Sample, 64)
	for i := 0; i < 500; i++ { // ~5 MB of lines: many buffers
		for k := range batch {
			batch[k] = metrics.Sample{Metric: metrics.HTTPReqs, Time: at + int64(i*64+k), Value: 1, Tags: tags, Status: 200}
		}
		j.Emit(batch)
	}
	err = j.Stop(context.Background())
	want := path + ": write: no space left on device — the file is incomplete"
	if fe := outputs.Incomplete(err); len(fe) != 1 || !errors.Is(err, syscall.ENOSPC) || err.Error() != want {
		t.Fatalf("Stop: %v, want %q", err, want)
	}
	if len(logged) != 1 || logged[0] != want+"; the run goes on" {
		t.Errorf("logged %q, want the failure once", logged)
	}
}
