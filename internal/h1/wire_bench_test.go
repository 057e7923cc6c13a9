//go:build unix

package h1

import (
	"context"
	"net/http"
	"runtime"
	"syscall"
	"testing"
)

// BenchmarkH1RoundTripWriteFirst is BenchmarkH1RoundTrip with the request written before the
// read (writeFirst), as TLS connections do: one connection in ping-pong, so its ns/op is mostly
// latency; compare cpu-ns/op in the parallel pair below.
func BenchmarkH1RoundTripWriteFirst(b *testing.B) {
	writeFirst.Store(true)
	defer writeFirst.Store(false)
	BenchmarkH1RoundTrip(b)
}

// BenchmarkH1Parallel50 is 50 connections, each a Client in its own goroutine, against the
// in-process server: cpu-ns/op is the process's CPU time (user and system, server included)
// per request, the figure the write inside the wait is for.
func BenchmarkH1Parallel50(b *testing.B) { benchParallel(b) }

// BenchmarkH1Parallel50WriteFirst is BenchmarkH1Parallel50 with the request written before the
// read.
func BenchmarkH1Parallel50WriteFirst(b *testing.B) {
	writeFirst.Store(true)
	defer writeFirst.Store(false)
	benchParallel(b)
}

func benchParallel(b *testing.B) {
	addr := benchServer(b)
	b.SetParallelism((50 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	before := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var c Client
		defer c.Close()
		req := &Request{Method: "GET", Addr: addr, Host: addr, URI: "/", Header: http.Header{}}
		var resp Response
		var tr Trace
		for pb.Next() {
			if err := c.Do(context.Background(), req, &resp, false, &tr); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-before)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user and system time in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
