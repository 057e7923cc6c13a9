package spool

import (
	"testing"

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
