package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/run"
)

// progressConfig configures the live progress line.
type progressConfig struct {
	w        io.Writer
	tty      bool                     // one refreshing line; otherwise a plain line every plainEvery
	status   func() run.Status        // the run's (Run.Status); safe from any goroutine
	store    *metrics.Store           // the summary's store: request counts, errors, latency
	disabled bool                     // --quiet / --no-progress
	every    time.Duration            // refresh period; default 1s on a TTY, 10s otherwise
	now      func() time.Time         // clock; time.Now when nil
	snapshot func() []*metrics.Series // the aggregates so far (Run.Series); the store's when nil
}

// progress prints the live progress line on its own goroutine until stop.
type progress struct {
	cfg  progressConfig
	quit chan struct{}
	done chan struct{}
	once sync.Once

	// Owned by the progress goroutine.
	lastReqs float64
	lastAt   time.Time
	width    int // length of the last TTY line, to blank it out
}

// startProgress starts the progress line; stop ends it (and clears a TTY line).
func startProgress(cfg progressConfig) *progress {
	p := &progress{cfg: cfg, quit: make(chan struct{}), done: make(chan struct{})}
	if cfg.disabled {
		close(p.done)
		return p
	}
	if p.cfg.every <= 0 {
		p.cfg.every = 10 * time.Second
		if cfg.tty {
			p.cfg.every = time.Second
		}
	}
	if p.cfg.now == nil {
		p.cfg.now = time.Now
	}
	if p.cfg.snapshot == nil {
		p.cfg.snapshot = cfg.store.Snapshot
	}
	p.lastAt = p.cfg.now()
	go p.loop()
	return p
}

// stop ends the progress goroutine and waits for it; it may be called more than once.
func (p *progress) stop() {
	p.once.Do(func() { close(p.quit) })
	<-p.done
}

func (p *progress) loop() {
	defer close(p.done)
	t := time.NewTicker(p.cfg.every)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			if p.cfg.tty && p.width > 0 {
				fmt.Fprintf(p.cfg.w, "\r%s\r", strings.Repeat(" ", p.width))
			}
			return
		case <-t.C:
			line := p.line()
			if p.cfg.tty {
				pad := ""
				if n := p.width - len(line); n > 0 {
					pad = strings.Repeat(" ", n)
				}
				fmt.Fprintf(p.cfg.w, "\r%s%s", line, pad)
				p.width = len(line)
			} else {
				fmt.Fprintln(p.cfg.w, line)
			}
		}
	}
}

// line renders one progress line: elapsed/total, stage, VUs, request rate over the last period,
// error rate and p95 so far.
func (p *progress) line() string {
	st := p.cfg.status()
	ss := p.cfg.snapshot()
	now := p.cfg.now()
	reqs := metrics.Combine(ss, metrics.HTTPReqs, nil)
	failed := metrics.Combine(ss, metrics.HTTPReqFailed, nil)
	dur := metrics.Combine(ss, metrics.HTTPReqDuration, nil)
	// Completed iterations as the summary will count them (the executor's own count, if it
	// keeps one, may include iterations whose samples are still in flight).
	if it := uint64(metrics.Combine(ss, metrics.Iterations, nil).Sum); it > st.Iterations {
		st.Iterations = it
	}
	rps := 0.0
	if d := now.Sub(p.lastAt).Seconds(); d > 0 {
		rps = (reqs.Sum - p.lastReqs) / d
	}
	p.lastReqs, p.lastAt = reqs.Sum, now
	// Escaped whole: whatever names or error kinds the line shows must not drive the terminal.
	return metrics.Escape(formatProgress(st.Status, reqs.Sum, rps, failed, dur))
}

// formatProgress is the pure rendering of a progress line.
func formatProgress(st executor.Status, reqs, rps float64, failed, dur *metrics.Series) string {
	var b strings.Builder
	// First, where it cannot be cut off: every figure after it is a failure.
	for _, o := range st.Unreachable {
		fmt.Fprintf(&b, "!! %s  ", o)
	}
	fmt.Fprintf(&b, "running %s/%s", progressClock(st.Elapsed), progressClock(st.Total))
	if st.StageCount > 0 {
		fmt.Fprintf(&b, "  stage %d/%d", st.Stage, st.StageCount)
	}
	fmt.Fprintf(&b, "  %d/%d VUs  %d iters  %.0f reqs  %.1f req/s", st.VUs, st.MaxVUs, st.Iterations, reqs, rps)
	if failed.Count > 0 {
		fmt.Fprintf(&b, "  %.2f%% errors", 100*float64(failed.Trues)/float64(failed.Count))
	}
	if dur.Hist != nil && dur.Hist.Count > 0 {
		fmt.Fprintf(&b, "  p95 %s", metrics.FormatMillis(dur.Hist.Quantile(0.95)))
	}
	if st.Dropped > 0 {
		fmt.Fprintf(&b, "  %d dropped", st.Dropped)
	}
	return b.String()
}

// progressClock renders a duration as m:ss or h:mm:ss.
func progressClock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
