package main

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// wsMemory runs the WebSocket plan in this process and reads runtime.MemStats during the hold,
// to show where the memory of an idle persistent session goes (heap, goroutine stacks), which
// the child's peak RSS alone does not say. Part of the profile case.
func (h *harness) wsMemory(ctx context.Context) {
	n := h.cfg.wsSessions
	logf("profile: WebSocket memory breakdown, %d sessions in-process", n)
	p, diags := plan.LoadPlan([]string{filepath.Join(h.plans, "websocket.hcl")}, plan.Options{Vars: map[string]string{
		"host": h.srv.URL(), "vus": strconv.Itoa(n), "ramp": h.cfg.wsRamp.String(), "hold": h.cfg.wsHold.String()}})
	if diags.HasErrors() {
		h.res.fail("ws memory: plan: %s", diags.Error())
		return
	}
	e, err := executor.New(executor.Config{Plan: p, Sink: metrics.SinkFunc(func([]metrics.Sample) {})})
	if err != nil {
		h.res.fail("ws memory: %v", err)
		return
	}
	base := readMem()
	done := make(chan struct{})
	var at memStat
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
		case <-time.After(h.cfg.wsRamp + h.cfg.wsHold/2):
			runtime.GC() // live memory only: what remains after a collection
			at = readMem()
		}
	}()
	e.Run(ctx)
	<-done
	if at.goroutines == 0 {
		return
	}
	per := func(v, b uint64) float64 { return float64(v-min(v, b)) / 1024 / float64(n) }
	h.res.add("wsmem", map[string]float64{
		"heap_kb_per_session":    per(at.heapInuse, base.heapInuse),
		"stack_kb_per_session":   per(at.stackInuse, base.stackInuse),
		"goroutines_per_session": float64(at.goroutines-min(at.goroutines, base.goroutines)) / float64(n),
		"heap_mb":                float64(at.heapInuse) / (1 << 20), "stack_mb": float64(at.stackInuse) / (1 << 20),
	})
}

type memStat struct {
	heapInuse, stackInuse, goroutines uint64
}

func readMem() memStat {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memStat{heapInuse: ms.HeapInuse, stackInuse: ms.StackInuse, goroutines: uint64(runtime.NumGoroutine())}
}

// wsMemoryRows renders the breakdown, "" when it did not run.
func (h *harness) wsMemoryRows() string {
	if h.res.get("wsmem", "heap_kb_per_session").n == 0 {
		return ""
	}
	return fmt.Sprintf("Where an idle session's memory goes (the same plan run in the harness's own process, "+
		"runtime.MemStats after a GC in the middle of the hold): live heap %s KB, goroutine stacks %s KB per "+
		"session (%s goroutines per session). Peak RSS adds the garbage collector's headroom between "+
		"collections and the runtime's own overhead to these.\n\n",
		h.res.f("wsmem", "heap_kb_per_session", 1), h.res.f("wsmem", "stack_kb_per_session", 1),
		h.res.f("wsmem", "goroutines_per_session", 2))
}
