package executor

import (
	"testing"
	"time"
)

var sinkTime time.Time

// BenchmarkClockNow is the executor's clock reading (clockNow: the monotonic clock only), taken
// at an iteration's start and for the samples the executor times itself.
func BenchmarkClockNow(b *testing.B) {
	for b.Loop() {
		sinkTime = clockNow()
	}
}

// BenchmarkTimeNow is time.Now, which clockNow replaced there: the wall and the monotonic clock.
func BenchmarkTimeNow(b *testing.B) {
	for b.Loop() {
		sinkTime = time.Now()
	}
}
