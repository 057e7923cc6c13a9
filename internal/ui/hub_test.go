package ui

import (
	"fmt"
	"testing"
)

// TestPublishNeverWaitsForAClient: a client that never reads holds one frame, the newest; the
// publisher went through every frame without waiting, and counted each replaced one.
func TestPublishNeverWaitsForAClient(t *testing.T) {
	h := newHub()
	stuck := h.join() // never reads
	reader := h.join()
	const n = 1000
	got := 0
	for i := 1; i <= n; i++ {
		h.publish([]byte(fmt.Sprint(i)))
		if i%100 == 0 { // the reader takes every hundredth frame
			if f := <-reader.ch; string(f) != fmt.Sprint(i) {
				t.Fatalf("reader got %s, want the newest %d", f, i)
			}
			got++
		}
	}
	if f := <-stuck.ch; string(f) != fmt.Sprint(n) {
		t.Fatalf("the stuck client holds %s, want the newest frame %d", f, n)
	}
	if len(stuck.ch) != 0 || len(reader.ch) != 0 {
		t.Fatal("a queue holds more than one frame")
	}
	// stuck: n-1 replaced; reader: 99 of every 100 replaced.
	if want := uint64(n-1) + uint64(n-got); h.replaced.Load() != want || h.published.Load() != n {
		t.Fatalf("replaced %d, published %d; want %d and %d", h.replaced.Load(), h.published.Load(), want, n)
	}
	// A late client gets the latest frame at once.
	if f := <-h.join().ch; string(f) != fmt.Sprint(n) {
		t.Fatalf("a new client got %s first, want %d", f, n)
	}
	h.leave(stuck)
	h.leave(reader)
	if c := h.clientCount(); c != 1 {
		t.Fatalf("%d clients, want 1", c)
	}
}
