package executor

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadplan/loadplan/executor/step"
)

// Connection backoff. A VU whose connections to a target fail (refused, DNS, TLS, too many open
// files, a refused WebSocket upgrade) waits before its next iteration, longer after every failure
// in a row and never longer than backoffCap, so that a dead target is not hammered by a busy
// loop of failing dials (21.5k dials/s from 20 VUs in issue 9). The first successful connection
// resets it.
//
// Equal jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the wait is uniform in
// [d/2, d] for d = min(cap, base·2^(n-1)). Full jitter spreads retries a little better but may
// wait ~0; the floor of equal jitter is what bounds the dials a dead target receives.
const (
	backoffBase = 100 * time.Millisecond
	backoffCap  = 5 * time.Second
)

// backoffDelay returns the wait after the n-th connection failure in a row (0 for n <= 0).
// rnd(k) must return a uniform value in [0, k); it is the VU's own source, injected for tests.
func backoffDelay(n int, base, limit time.Duration, rnd func(int64) int64) time.Duration {
	if n <= 0 || base <= 0 {
		return 0
	}
	d := base
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	return half + time.Duration(rnd(int64(d-half)+1))
}

// connBackoff is a VU's count of connection failures in a row, per target index. Owned by the
// VU goroutine.
type connBackoff struct {
	fails []int32
	owed  time.Duration // what the iteration that just ended left of its backoff (vu.rest)
}

// backOff waits the backoff the last iteration owes, out of its iteration_duration: a VU that
// cannot connect does not start its next iteration at once. Like a think time, it ends early
// when the VU is told to stop.
//
// The open model (v.jobs) does not wait: its schedule already bounds the attempts to the plan's
// rate, and a VU held back would turn a dead target into dropped iterations, reported as a
// saturated generator (exit 98) — the wrong diagnosis.
func (v *vu) backOff() {
	d := v.bo.owed
	v.bo.owed = 0
	if d > 0 && v.jobs == nil {
		v.pause(v.hard, d)
	}
}

// wait returns the backoff the VU owes before its next iteration: that of its most failed
// target, 0 when every target's last connection succeeded.
func (b *connBackoff) wait(rnd func(int64) int64) time.Duration {
	n := int32(0)
	for _, f := range b.fails {
		n = max(n, f)
	}
	return backoffDelay(int(n), backoffBase, backoffCap, rnd)
}

// ConnResult records one connection attempt to target index t (step.VU). reached says that the
// target answered (a WebSocket upgrade refused with HTTP 403 reached it); cause, when not empty,
// that the attempt failed and the VU backs off.
func (v *vu) ConnResult(t int, reached bool, cause string) {
	b := &v.bo
	if t < 0 || t >= len(v.e.reach) {
		return
	}
	if b.fails == nil {
		b.fails = make([]int32, len(v.e.reach))
	}
	r := &v.e.reach[t]
	switch {
	case !reached:
		r.fail(time.Now().UnixNano(), cause)
	case r.since.Load() != 0: // the hot path (reachable, nothing to clear) reads no clock
		r.ok(time.Now().UnixNano(), v.e.unreachableAfter)
	}
	if cause == "" {
		if b.fails[t] != 0 {
			b.fails[t] = 0
		}
	} else if b.fails[t] < 1<<20 {
		b.fails[t]++
	}
}

// reach is the reachability record of one target, written by every VU that connects to it: the
// start of the current run of failed connections and the last one's cause. The hot path (a
// response from a reachable target) costs one atomic load; the lock is taken only when an
// outage ends.
type reach struct {
	since atomic.Int64 // Unix ns of the first failure of the current run; 0 while reachable
	cause atomic.Int32 // index in step.ConnCauses of the last failure's cause

	mu    sync.Mutex // guards worst
	worst outageSpan // the longest ended outage of at least unreachableAfter
}

// outageSpan is an outage in Unix ns; zero when none.
type outageSpan struct {
	start, end int64
	cause      string
}

func (r *reach) fail(now int64, cause string) {
	c := int32(0)
	for i, s := range step.ConnCauses {
		if s == cause {
			c = int32(i)
		}
	}
	if r.cause.Load() != c {
		r.cause.Store(c)
	}
	if r.since.Load() == 0 {
		r.since.CompareAndSwap(0, now)
	}
}

func (r *reach) ok(now int64, after time.Duration) {
	s := r.since.Load()
	if s == 0 || !r.since.CompareAndSwap(s, 0) {
		return
	}
	if now-s >= int64(after) {
		r.mu.Lock()
		if now-s > r.worst.end-r.worst.start {
			r.worst = outageSpan{start: s, end: now, cause: step.ConnCauses[r.cause.Load()]}
		}
		r.mu.Unlock()
	}
}

// Outage is a span of a run during which every connection to a target failed, for at least
// Config.UnreachableAfter.
type Outage struct {
	Target string        // the target's name; empty when the plan has a single target
	Since  time.Duration // from the start of the run
	Until  time.Duration // from the start of the run; 0 while the outage lasts
	Cause  string        // the last failure's cause: "connection refused", "dns", ...
}

// String renders the outage for the progress line and the summary:
// "target unreachable since 0:08: connection refused".
func (o Outage) String() string {
	name := "target"
	if o.Target != "" {
		name += " " + o.Target
	}
	if o.Until == 0 {
		return fmt.Sprintf("%s unreachable since %s: %s", name, clock(o.Since), o.Cause)
	}
	return fmt.Sprintf("%s unreachable from %s to %s: %s", name, clock(o.Since), clock(o.Until), o.Cause)
}

// clock renders an offset as m:ss (h:mm:ss past an hour).
func clock(d time.Duration) string {
	s := int(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// outages returns the targets unreachable at now for at least UnreachableAfter and, when ended
// is set, also each target's longest ended outage.
func (e *Executor) outages(now time.Time, ended bool) []Outage {
	start := e.startNano.Load()
	if start == 0 {
		return nil
	}
	var out []Outage
	for i := range e.reach {
		r := &e.reach[i]
		name := ""
		if len(e.targets) > 2 && e.targets[i].Plan != nil {
			name = e.targets[i].Plan.Name
		}
		if ended {
			r.mu.Lock()
			w := r.worst
			r.mu.Unlock()
			if w.end != 0 {
				out = append(out, Outage{Target: name, Since: time.Duration(w.start - start),
					Until: time.Duration(w.end - start), Cause: w.cause})
			}
		}
		if s := r.since.Load(); s != 0 && now.UnixNano()-s >= int64(e.unreachableAfter) {
			out = append(out, Outage{Target: name, Since: time.Duration(s - start), Cause: step.ConnCauses[r.cause.Load()]})
		}
	}
	return out
}
