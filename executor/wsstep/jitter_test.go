package wsstep

import (
	"testing"
	"time"

	"github.com/loadplan/loadplan/plan"
)

func TestWSJitter(t *testing.T) {
	floor := func(int64) int64 { return 0 }
	ceil := func(k int64) int64 { return k - 1 }
	exp := &plan.Reconnect{Backoff: "exponential"}
	con := &plan.Reconnect{Backoff: "constant"}
	for _, c := range []struct {
		p      *plan.Reconnect
		d      time.Duration
		lo, hi time.Duration
	}{
		{exp, 800 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond},
		{exp, 5 * time.Second, 2500 * time.Millisecond, 5 * time.Second}, // never past max
		{con, 250 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond},
		{exp, 0, 0, 0},
	} {
		if lo, hi := wsJitter(c.p, c.d, floor), wsJitter(c.p, c.d, ceil); lo != c.lo || hi != c.hi {
			t.Errorf("wsJitter(%s, %s) in [%s, %s], want [%s, %s]", c.p.Backoff, c.d, lo, hi, c.lo, c.hi)
		}
	}
}
