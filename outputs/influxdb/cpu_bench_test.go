package influxdb

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far: benchmarks report CPU per request
// (cpu-ns/req), which the other loads of a shared machine distort far less than ns/op, and which
// counts the writer goroutine's encoding too.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
