package fleet

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// freeAddr returns a loopback address nothing listens on (it was free a moment ago).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// waitCheckedIn waits until the server holds n checked-in segments (no clock involved: a poll
// on the server's own state).
func waitCheckedIn(t *testing.T, s *Server, n int) {
	t.Helper()
	for {
		s.mu.Lock()
		got := len(s.waiting)
		s.mu.Unlock()
		if got == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRendezvous: segments that dial before segment 1 listens retry and get in; all receive the
// start segment 1 fixed; a late segment gets the same instant, past; another plan, another N or
// a segment checked in twice are refused at once.
func TestRendezvous(t *testing.T) {
	addr := freeAddr(t)
	const margin = 10 * time.Second // large: the check below tolerates a loaded machine
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	joined := make([]time.Time, 5)
	errs := make([]error, 5)
	var wg sync.WaitGroup
	for i := 2; i <= 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			joined[i], errs[i] = Join(ctx, addr, i, 4, "fp", 10*time.Millisecond)
		}()
	}
	s, err := Listen(addr, 4, "fp", margin)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitCheckedIn(t, s, 3)
	for _, bad := range []struct {
		index, total int
		fp, want     string
	}{
		{2, 4, "fp", "checked in twice"},
		{3, 4, "other", "another plan"},
		{2, 5, "fp", "same --segment auto/N"},
		{1, 4, "fp", "segment 1 is the one listening"},
	} {
		_, err := Join(ctx, addr, bad.index, bad.total, bad.fp, 10*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("join %d/%d %s: %v, want %q", bad.index, bad.total, bad.fp, err, bad.want)
		}
	}
	at, err := s.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i := 2; i <= 4; i++ {
		if errs[i] != nil {
			t.Fatalf("segment %d: %v", i, errs[i])
		}
		if d := joined[i].Sub(at).Abs(); d > margin/2 {
			t.Errorf("segment %d starts at %v, segment 1 at %v", i, joined[i], at)
		}
	}
	// After the start: a segment that missed it learns the instant and starts late.
	late, err := Join(ctx, addr, 3, 4, "fp", 10*time.Millisecond)
	if err != nil || late.Sub(at).Abs() > margin/2 {
		t.Errorf("late join: %v, %v; want about %v", late, err, at)
	}
}

// TestRendezvousTimeout: segment 1 gives up naming the segments that never checked in, and a
// segment gives up when nobody listens.
func TestRendezvousTimeout(t *testing.T) {
	s, err := Listen("127.0.0.1:0", 4, "fp", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	jctx, jcancel := context.WithCancel(ctx)
	go func() { _, err := Join(jctx, s.Addr().String(), 3, 4, "fp", 10*time.Millisecond); done <- err }()
	waitCheckedIn(t, s, 1)
	wctx, wcancel := context.WithCancel(ctx)
	wcancel()
	if _, err := s.Wait(wctx); err == nil || !strings.Contains(err.Error(), "2 of 4 segments checked in") || !strings.Contains(err.Error(), "missing: 2/4, 4/4") {
		t.Errorf("wait: %v", err)
	}
	jcancel()
	if err := <-done; err == nil {
		t.Error("a join cancelled before the start returned no error")
	}
	// The cancelled segment hung up: it is no longer counted.
	waitCheckedIn(t, s, 0)

	nctx, ncancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer ncancel()
	if _, err := Join(nctx, freeAddr(t), 2, 4, "fp", 10*time.Millisecond); err == nil || !strings.Contains(err.Error(), "no start before the wait ended") {
		t.Errorf("join with nobody listening: %v", err)
	}
}
