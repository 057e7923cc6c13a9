package wsstep

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// reconnect re-establishes s's connection with the block's backoff policy. Each attempt is a
// dial (ws_connecting, ws_sessions or ws_errors); success counts ws_reconnects and
// ws_reconnect_duration (from the start of reconnecting, backoff included).
//
// Attempts and backoff run on across connections that die before delivering a single frame
// (a server that accepts and closes at once), so max_attempts bounds a reconnect loop; the
// streak resets when a frame arrives.
func (w *wsVU) reconnect(ctx context.Context, s *wsSession) error {
	p := s.block.Reconnect
	attempts := p.MaxAttempts
	if attempts <= 0 {
		attempts = 10
	}
	start := time.Now()
	var last error = fmt.Errorf("every new connection was lost before it delivered a frame")
	for s.streak < attempts {
		if err := wsWait(ctx, nil, wsJitter(p, wsBackoff(p, s.streak), rand.Int64N)); err != nil {
			return err
		}
		s.streak++
		c, err := w.dial(ctx, s)
		if err == nil {
			s.conn = c
			w.add(metrics.WSReconnects, s.block.Tags, 1, 0, "")
			w.add(metrics.WSReconnectDuration, s.block.Tags, wsMillis(time.Since(start)), 0, "")
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		last = err
	}
	s.streak = 0 // the next drop starts a fresh series
	// every attempt was counted in ws_errors (a failed dial, a connection lost at once)
	return &wsStepError{Block: s.block.Name, Kind: "reconnect", Err: fmt.Errorf("reconnect failed after %d attempts: %w", attempts, last), Counted: true}
}

// wsBackoff returns the wait before reconnect attempt n (0-based) of a streak: initial, then
// doubling up to max for "exponential"; always initial for "constant".
func wsBackoff(p *plan.Reconnect, n int) time.Duration {
	delay, maxDelay := p.Initial, p.Max
	if delay <= 0 {
		delay = 100 * time.Millisecond
	}
	if maxDelay <= 0 {
		maxDelay = 5 * time.Second
	}
	if p.Backoff != "constant" {
		for i := 0; i < n && delay < maxDelay; i++ {
			delay *= 2
		}
	}
	return min(delay, maxDelay)
}

// wsJitter spreads an exponential backoff's wait d over [d/2, d] (equal jitter, as the VU's
// connection backoff in the executor), so that VUs dropped together by a server restart do not
// reconnect in lockstep; a "constant" backoff stays constant, as the plan says. rnd(k) returns a
// uniform value in [0, k).
func wsJitter(p *plan.Reconnect, d time.Duration, rnd func(int64) int64) time.Duration {
	if p.Backoff == "constant" || d <= 1 {
		return d
	}
	half := d / 2
	return half + time.Duration(rnd(int64(d-half)+1))
}

// wsWait sleeps d, returning early with ctx's error, or with nil when stop is closed.
func wsWait(ctx context.Context, stop <-chan struct{}, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-stop:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
