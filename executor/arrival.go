package executor

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// runArrival runs the open model: a scheduler hands each iteration, at the time the schedule's
// Pace gives, to a free VU; when none is free and max_vus are allocated the iteration is dropped, never delayed.
// The schedule ends by itself; only the run's stop (not the stages' deadline, which a late
// scheduler may pass) cuts it short, so every iteration scheduled before the end is run or
// counted as dropped.
func (g *group) runArrival(stop, gStop, gHard context.Context, start time.Time) {
	s := g.sch
	preS, maxS := s.perPre, s.ScenarioVUs(0) // max_vus, at least 1 each
	pools := make([]*vuPool, len(g.scenarios))
	var wg sync.WaitGroup
	alloc := func(i int) *vu {
		p := pools[i]
		v := newVU(g.e, g.scenarios[i])
		v.jobs = make(chan int64, 1)
		p.all = append(p.all, v)
		wg.Add(1)
		go func() {
			defer wg.Done()
			hard, cancel := context.WithCancel(gHard)
			defer cancel()
			v.activate(gStop, hard, func() { v.runOpen(p.free) })
		}()
		return v
	}
	for i := range g.scenarios {
		limit := maxS[i]
		pools[i] = &vuPool{free: make(chan *vu, limit), limit: limit}
		for range min(preS[i], limit) {
			pools[i].free <- alloc(i)
		}
	}
	b := newBatcher(g.e.cfg.Sink)
	drop := func(sc *scenario) {
		g.dropped.Add(1)
		b.add(metrics.Sample{Metric: metrics.DroppedIterations, Time: time.Now().UnixNano(), Value: 1, Tags: sc.tags})
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	scenarioOf := func(done uint64) int { return s.pattern[s.iteration(done)%uint64(len(s.pattern))] }
loop:
	for done := uint64(0); ; done++ {
		elapsed := time.Since(start)
		wait, end := s.Pace(elapsed, done)
		if end {
			break
		}
		due := start.Add(elapsed + wait)
		if wait > 0 {
			if now := time.Now().UnixNano(); b.stale(now) {
				b.flush(now)
			}
			timer.Reset(wait)
			select {
			case <-stop.Done():
				timer.Stop()
				break loop
			case <-timer.C:
			}
		} else if stop.Err() != nil {
			// Stopped while behind schedule: the iterations already due were never started
			// because the generator could not keep up; they are dropped, not forgotten.
			for ; !end && wait <= 0; wait, end = s.Pace(elapsed, done) {
				drop(g.scenarios[scenarioOf(done)])
				done++
			}
			break
		}
		i := scenarioOf(done)
		sc, p := g.scenarios[i], pools[i]
		if sc.exhausted.Load() {
			continue
		}
		if v := p.take(); v != nil {
			v.jobs <- due.UnixNano()
			continue
		}
		if len(p.all) < p.limit {
			alloc(i).jobs <- due.UnixNano()
			continue
		}
		drop(sc)
	}
	b.flush(time.Now().UnixNano())
	for _, p := range pools {
		for _, v := range p.all {
			close(v.jobs)
		}
	}
	wg.Wait()
}

// vuPool is one scenario's VUs in the open model: every allocated VU, and the free ones.
type vuPool struct {
	free  chan *vu
	all   []*vu
	limit int
}

// take returns a free VU, or nil. When none is free it yields the processor once first: a
// scheduler catching up after a stall dispatches a burst faster than VUs that have finished can
// get back on the free list, and an iteration must be dropped for a lack of VUs, not of CPU time.
func (p *vuPool) take() *vu {
	for try := 0; ; try++ {
		select {
		case v := <-p.free:
			return v
		default:
		}
		if try == 1 || len(p.all) < p.limit {
			return nil
		}
		runtime.Gosched()
	}
}
