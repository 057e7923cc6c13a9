package spool

import (
	"testing"
	"testing/synctest"

	"github.com/loadplan/loadplan/metrics"
)

// TestKeepsOrderAcrossChunks puts batches that straddle chunk boundaries, takes while
// putting, recycles, and checks every sample comes out once, in order.
func TestKeepsOrderAcrossChunks(t *testing.T) {
	q := New()
	var got []float64
	drain := func() {
		chunks, _ := q.Take(nil)
		for _, c := range chunks {
			for _, s := range c {
				got = append(got, s.Value)
			}
		}
		q.Recycle(chunks)
	}
	next := 0.0
	for round := 0; round < 50; round++ {
		batch := make([]metrics.Sample, 1000+round*37)
		for i := range batch {
			batch[i].Value = next
			next++
		}
		q.Put(batch)
		clear(batch) // the caller reuses its batch
		if round%3 == 0 {
			drain()
		}
	}
	drain()
	if len(got) != int(next) {
		t.Fatalf("%d samples out, %v in", len(got), next)
	}
	for i, v := range got {
		if v != float64(i) {
			t.Fatalf("sample %d is %v", i, v)
		}
	}
}

// TestFullSpoolWaitsAndLosesNothing plays a writer stuck on a slow disk: it takes chunks but
// does not give them back. Put fills the spool to its bound and then waits (memory flat, one
// stall counted per waiting Put); once the writer recycles, Put goes on and every sample comes
// out once, in order.
func TestFullSpoolWaitsAndLosesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := NewBounded(3)
		const batches, size = 40, 1000 // 40,000 samples: ten chunks' worth, the bound is three
		done := make(chan struct{})
		go func() {
			defer close(done)
			batch := make([]metrics.Sample, size)
			for i := 0; i < batches; i++ {
				for j := range batch {
					batch[j].Value = float64(i*size + j)
				}
				q.Put(batch)
			}
			q.Close()
		}()
		var held [][]metrics.Sample
		synctest.Wait() // the putter is blocked: the writer holds nothing yet, the spool is full
		if live, limit := q.Len(); live != limit {
			t.Fatalf("%d chunks live, want the bound %d", live, limit)
		}
		if n, _ := q.Stalls(); n != 1 {
			t.Fatalf("%d stalls, want 1", n)
		}
		held, _ = q.Take(held) // the writer takes everything and hangs on the disk
		synctest.Wait()
		if live, limit := q.Len(); live != limit {
			t.Fatalf("with the writer hanging, %d chunks live, want %d", live, limit)
		}
		var got []float64
		for closed := false; !closed; {
			for _, c := range held {
				for _, s := range c {
					got = append(got, s.Value)
				}
			}
			q.Recycle(held) // the disk came back
			synctest.Wait()
			if live, limit := q.Len(); live > limit {
				t.Fatalf("%d chunks live, over the bound %d", live, limit)
			}
			held, closed = q.Take(held[:0])
		}
		for _, c := range held {
			for _, s := range c {
				got = append(got, s.Value)
			}
		}
		<-done
		if len(got) != batches*size {
			t.Fatalf("%d samples out, %d in", len(got), batches*size)
		}
		for i, v := range got {
			if v != float64(i) {
				t.Fatalf("sample %d is %v", i, v)
			}
		}
		if n, _ := q.Stalls(); n < 2 {
			t.Fatalf("%d stalls counted, want every waiting Put (at least 2)", n)
		}
	})
}
