package fleet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClaimRace: 16 claimers racing for 8 segments get each segment exactly once; the other 8
// are told none is left.
func TestClaimRace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "claims") // created by Claim
	const total, claimers = 8, 16
	got := make([]int, claimers)
	errs := make([]error, claimers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], errs[i] = Claim(dir, total, time.Unix(int64(1000+i), 0))
		}()
	}
	close(start)
	wg.Wait()
	seen := map[int]int{}
	taken := 0
	for i := range claimers {
		switch {
		case errors.Is(errs[i], ErrTaken):
			taken++
		case errs[i] != nil:
			t.Fatalf("claimer %d: %v", i, errs[i])
		default:
			seen[got[i]]++
		}
	}
	for s := 1; s <= total; s++ {
		if seen[s] != 1 {
			t.Errorf("segment %d claimed %d times", s, seen[s])
		}
	}
	if taken != claimers-total || len(seen) != total {
		t.Errorf("%d claimers told none is left, %d segments claimed; want %d and %d", taken, len(seen), claimers-total, total)
	}
	if err := ClaimIndex(dir, 3, total, time.Now()); !errors.Is(err, ErrTaken) || !strings.Contains(err.Error(), "segment 3/8") {
		t.Errorf("claiming a held index: %v", err)
	}
}

// TestClaimBarrier: the start is the latest claim plus the margin, the same for every reader; a
// claim file still empty (being written) is not a claim; a wait that ends names the unclaimed.
func TestClaimBarrier(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	for i := 1; i <= 2; i++ {
		if err := ClaimIndex(dir, i, 3, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, claimName(3, 3)), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ClaimBarrier(ctx, dir, 3, time.Second, time.Millisecond); err == nil || !strings.Contains(err.Error(), "2 of 3 segments claimed") || !strings.Contains(err.Error(), "unclaimed: 3/3") {
		t.Fatalf("barrier with an empty claim file: %v", err)
	}
	os.Remove(filepath.Join(dir, claimName(3, 3)))
	if err := ClaimIndex(dir, 3, 3, t0.Add(7*time.Second)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		at, err := ClaimBarrier(context.Background(), dir, 3, 1500*time.Millisecond, time.Millisecond)
		if want := t0.Add(8500 * time.Millisecond); err != nil || !at.Equal(want) {
			t.Errorf("barrier: %v, %v; want %v", at, err, want)
		}
	}
	// Claims of a fleet of another size in the same folder are not this fleet's.
	if i, err := Claim(dir, 2, t0); err != nil || i != 1 {
		t.Errorf("claim of 1 of 2 beside a fleet of 3: %d, %v", i, err)
	}
}
