package csv

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/loadplan/loadplan/internal/spool"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// slowDisk is a file whose writes wait until gate is closed: a disk that stalls.
type slowDisk struct {
	f      *os.File
	gate   chan struct{}
	writes atomic.Int64 // writes that reached the file
	fail   error        // when set, every write fails with it
}

func (d *slowDisk) Write(p []byte) (int, error) {
	<-d.gate
	if d.fail != nil {
		return 0, d.fail
	}
	d.writes.Add(1)
	return d.f.Write(p)
}

func (d *slowDisk) Close() error { return d.f.Close() }

// emitRequests emits n requests of 14 samples each in 64-sample batches, as VUs would.
func emitRequests(c *Output, n int) {
	var batch []metrics.Sample
	for i := 0; i < n; i++ {
		r := kinds(quote, t0+int64(i)*1000)[0]
		r.t2 = r.t1 + 100
		for _, s := range r.samples() {
			batch = append(batch, s)
			if len(batch) == 64 {
				c.Emit(batch)
				batch = batch[:0]
			}
		}
	}
	c.Emit(batch)
}

// TestSlowDiskStallsBoundedAndLosesNothing hangs the disk under a run that makes ~30 MB of
// samples: Emit fills the bounded queue and then waits (the stall counted, the queue at its
// bound however much more is emitted); once the disk comes back every request is a row.
func TestSlowDiskStallsBoundedAndLosesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const requests = 40_000 // 560,000 samples: 137 chunks, the bound is 4
		disk := &slowDisk{gate: make(chan struct{})}
		c, err := New(Config{Path: filepath.Join(t.TempDir(), "run.csv")}, outputs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c.q = spool.NewBounded(4)
		c.wrap = func(f io.WriteCloser) io.WriteCloser { disk.f = f.(*os.File); return disk }
		if err := c.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		emitted := make(chan struct{})
		go func() {
			defer close(emitted)
			emitRequests(c, requests)
		}()
		synctest.Wait() // Emit waits for room, the writer for the disk
		select {
		case <-emitted:
			t.Fatal("Emit returned with the disk hung: the queue did not hold its bound")
		default:
		}
		if live, limit := c.q.Len(); live > limit {
			t.Fatalf("%d chunks queued, over the bound %d", live, limit)
		}
		hung, _ := c.Stalls()
		if hung == 0 { // more when the writer was slow to recycle before the disk hung
			t.Fatal("no stall counted with an Emit waiting")
		}
		close(disk.gate) // the disk comes back
		<-emitted
		if err := c.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n, _ := c.Stalls(); n < hung { // (the fake clock of the bubble times every wait at 0)
			t.Errorf("%d stalls counted in all, %d while the disk hung", n, hung)
		}
		if got := countRows(t, c.Path(), "http_reqs,"); got != requests {
			t.Errorf("%d http_reqs rows, want %d", got, requests)
		}
	})
}

// TestFailingDiskIsAFileError fails every write: Stop returns the file's *outputs.FileError
// with the cause, and nothing reached the file.
func TestFailingDiskIsAFileError(t *testing.T) {
	broken := errors.New("input/output error")
	disk := &slowDisk{gate: make(chan struct{}), fail: broken}
	close(disk.gate)
	c, err := New(Config{Path: filepath.Join(t.TempDir(), "run.csv")}, outputs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.wrap = func(f io.WriteCloser) io.WriteCloser { disk.f = f.(*os.File); return disk }
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	emitRequests(c, 40_000)
	err = c.Stop(context.Background())
	fe := outputs.Incomplete(err)
	if len(fe) != 1 || fe[0].Path != c.Path() || !errors.Is(err, broken) {
		t.Fatalf("Stop: %v, want the file's FileError with the cause", err)
	}
	if disk.writes.Load() != 0 {
		t.Errorf("%d writes reached the file", disk.writes.Load())
	}
}

func countRows(t *testing.T, path, prefix string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			n++
		}
	}
	return n
}
