package executor

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/loadplan/loadplan/executor/step"
)

func TestBackoffDelay(t *testing.T) {
	floor := func(int64) int64 { return 0 }
	ceil := func(k int64) int64 { return k - 1 }
	const ms = time.Millisecond
	for _, c := range []struct {
		n        int
		base     time.Duration
		lo, hi   time.Duration // the wait with the lowest and the highest random draw
		describe string
	}{
		{0, 100 * ms, 0, 0, "no failure: no wait"},
		{-1, 100 * ms, 0, 0, "nonsense count: no wait"},
		{1, 100 * ms, 50 * ms, 100 * ms, "first failure: [base/2, base]"},
		{2, 100 * ms, 100 * ms, 200 * ms, "doubles"},
		{3, 100 * ms, 200 * ms, 400 * ms, "doubles again"},
		{6, 100 * ms, 1600 * ms, 3200 * ms, "below the cap"},
		{7, 100 * ms, 2500 * ms, 5000 * ms, "capped: [cap/2, cap]"},
		{1 << 20, 100 * ms, 2500 * ms, 5000 * ms, "a long run stays capped, no overflow"},
		{3, 0, 0, 0, "no base: no backoff"},
	} {
		lo := backoffDelay(c.n, c.base, 5*time.Second, floor)
		hi := backoffDelay(c.n, c.base, 5*time.Second, ceil)
		if lo != c.lo || hi != c.hi {
			t.Errorf("%s: backoffDelay(%d) in [%s, %s], want [%s, %s]", c.describe, c.n, lo, hi, c.lo, c.hi)
		}
	}
	// Any draw of a real source stays in [d/2, d] (equal jitter).
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 40; n++ {
		d := min(100*ms<<min(n-1, 20), 5*time.Second)
		for range 50 {
			if got := backoffDelay(n, 100*ms, 5*time.Second, r.Int64N); got < d/2 || got > d {
				t.Fatalf("backoffDelay(%d) = %s, outside [%s, %s]", n, got, d/2, d)
			}
		}
	}
}

func TestConnBackoffWaitsForTheMostFailedTarget(t *testing.T) {
	b := connBackoff{fails: []int32{0, 3, 1}}
	if got := b.wait(func(int64) int64 { return 0 }); got != 200*time.Millisecond {
		t.Errorf("wait = %s, want 200ms (3 failures in a row, lowest draw)", got)
	}
	b.fails[1] = 0
	if got := b.wait(func(int64) int64 { return 0 }); got != 50*time.Millisecond {
		t.Errorf("wait = %s, want 50ms", got)
	}
}

func TestReachRecordsOutages(t *testing.T) {
	const s = int64(time.Second)
	var r reach
	r.ok(1*s, 3*time.Second) // reachable: nothing to clear
	r.fail(2*s, "connection refused")
	r.fail(3*s, "dns") // the run goes on; the cause is the last one
	if r.since.Load() != 2*s || step.ConnCauses[r.cause.Load()] != "dns" {
		t.Errorf("since %d cause %q, want the first failure and the last cause", r.since.Load(), step.ConnCauses[r.cause.Load()])
	}
	r.ok(4*s, 3*time.Second) // 2 s: a blip, not an outage
	if r.since.Load() != 0 || r.worst.end != 0 {
		t.Errorf("after a short blip: since %d, worst %+v", r.since.Load(), r.worst)
	}
	r.fail(10*s, "connection refused")
	r.ok(20*s, 3*time.Second)
	r.fail(30*s, "connection refused")
	r.ok(34*s, 3*time.Second) // shorter than the 10 s one: not the worst
	if want := (outageSpan{start: 10 * s, end: 20 * s, cause: "connection refused"}); r.worst != want {
		t.Errorf("worst %+v, want %+v", r.worst, want)
	}
}

func TestOutageString(t *testing.T) {
	for _, c := range []struct {
		o    Outage
		want string
	}{
		{Outage{Since: 8 * time.Second, Cause: "connection refused"}, "target unreachable since 0:08: connection refused"},
		{Outage{Target: "api", Since: 75 * time.Second, Cause: "dns"}, "target api unreachable since 1:15: dns"},
		{Outage{Since: 8 * time.Second, Until: 19*time.Second + 600*time.Millisecond, Cause: "tls handshake"},
			"target unreachable from 0:08 to 0:19: tls handshake"},
		{Outage{Since: time.Hour + 2*time.Second, Cause: "connect timeout"}, "target unreachable since 1:00:02: connect timeout"},
	} {
		if got := c.o.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.o, got, c.want)
		}
	}
}
