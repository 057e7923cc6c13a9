package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/internal/fleet"
)

// processStart is when this process started: `--start-at +30s` counts from it.
var processStart = time.Now()

// jobIndexEnv is the variable a Kubernetes Indexed Job sets in each pod: its 0-based index.
const jobIndexEnv = "JOB_COMPLETION_INDEX"

// fleetFlags are apply's flags for running as one instance of a fleet: how the segment is found
// (--segment auto/N with --segment-claim) and how the instances start together (--start-at,
// --rendezvous, or the claim folder itself).
type fleetFlags struct {
	claimDir   string        // --segment-claim: the folder the instances share
	startText  string        // --start-at as given
	rendezvous string        // --rendezvous HOST:PORT: segment 1's address
	timeout    time.Duration // --rendezvous-timeout: the longest wait at any barrier
	margin     time.Duration // --start-margin: from "everyone is ready" to the start

	startAt time.Time // parsed --start-at
}

// register adds the fleet flags to apply's fs.
func (f *fleetFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.claimDir, "segment-claim", "", "with --segment auto/N: claim the lowest free segment in `DIR`, a folder every instance shares (docker compose --scale with a volume); the instances start together once all N have claimed, plus --start-margin")
	fs.StringVar(&f.startText, "start-at", "", "begin the schedule at `TIME`: an RFC 3339 instant (2026-12-01T20:00:00Z) or +DURATION from process start (+30s)")
	fs.StringVar(&f.rendezvous, "rendezvous", "", "start the segments together through segment 1, which listens on `HOST:PORT` (every interface unless HOST is a loopback address); the others dial it (a Kubernetes Indexed Job: <job>-0.<service>:PORT)")
	fs.DurationVar(&f.timeout, "rendezvous-timeout", 5*time.Minute, "give up waiting for the other segments (rendezvous or claim folder) after this long, exit 1")
	fs.DurationVar(&f.margin, "start-margin", 2*time.Second, "when every segment is ready, start this much later (time for the start instant to reach them all)")
}

// check validates the fleet flags against the parsed segment; errors are usage errors. auto
// says --segment was auto/N.
func (f *fleetFlags) check(seg executor.Segment, auto bool) error {
	if f.startText != "" {
		t, err := parseStartAt(f.startText, processStart)
		if err != nil {
			return err
		}
		f.startAt = t
	}
	switch {
	case f.startText != "" && f.rendezvous != "":
		return errors.New("--start-at and --rendezvous both set the start: give one")
	case f.claimDir != "" && !auto:
		return errors.New("--segment-claim needs --segment auto/N: the claim picks the index")
	case f.rendezvous != "" && seg.Total == 0:
		return errors.New("--rendezvous needs --segment i/N or auto/N: the segments meet through segment 1")
	case f.timeout <= 0 || f.margin < 0:
		return errors.New("--rendezvous-timeout must be positive and --start-margin not negative")
	}
	if f.rendezvous != "" {
		if _, _, err := net.SplitHostPort(f.rendezvous); err != nil {
			return fmt.Errorf("--rendezvous %q: write HOST:PORT, e.g. loadplan-0.loadplan:7946", f.rendezvous)
		}
	}
	return nil
}

// parseStartAt reads --start-at: an RFC 3339 instant, or +DURATION after start.
func parseStartAt(s string, start time.Time) (time.Time, error) {
	if d, ok := strings.CutPrefix(s, "+"); ok {
		dur, err := time.ParseDuration(d)
		if err != nil || dur < 0 {
			return time.Time{}, fmt.Errorf("--start-at %q: write +DURATION, e.g. +30s", s)
		}
		return start.Add(dur), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--start-at %q: write an RFC 3339 instant (2026-12-01T20:00:00Z) or +DURATION (+30s)", s)
	}
	return t, nil
}

// autoSegment resolves --segment auto/N from the Job's index; ok is false when the variable is
// unset (the claim folder then picks the index).
func autoSegment(total int, lookup func(string) (string, bool)) (seg executor.Segment, ok bool, err error) {
	v, set := lookup(jobIndexEnv)
	if !set || v == "" {
		return executor.Segment{Total: total}, false, nil
	}
	i, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || i < 0 || i >= total {
		return seg, false, fmt.Errorf("--segment auto/%d: %s=%q, want 0..%d (the Job's completions must equal N)", total, jobIndexEnv, v, total-1)
	}
	return executor.Segment{Index: i + 1, Total: total}, true, nil
}

// claim takes this instance's segment in the claim folder: the lowest free one, or, when the
// Job's index already gave it, that one (so the folder's barrier sees every instance). It
// returns a usage error (exit 2) when the segment is taken.
func (f *fleetFlags) claim(seg *executor.Segment) error {
	if f.claimDir == "" {
		return nil
	}
	if seg.Index == 0 {
		i, err := fleet.Claim(f.claimDir, seg.Total, time.Now())
		if err != nil {
			return err
		}
		seg.Index = i
		return nil
	}
	return fleet.ClaimIndex(f.claimDir, seg.Index, seg.Total, time.Now())
}

// gate returns run.Config's Gate for these flags — nil when the instance starts on its own —
// and a func that ends what the gate started (segment 1's rendezvous, which keeps answering
// late segments while the run lasts). fingerprint identifies the plan to the rendezvous.
func (f *fleetFlags) gate(seg executor.Segment, fingerprint string) (func(context.Context) (time.Time, error), func()) {
	switch {
	case !f.startAt.IsZero():
		at := f.startAt
		return func(context.Context) (time.Time, error) { return at, nil }, func() {}
	case f.rendezvous != "" && seg.Index == 1:
		var srv *fleet.Server
		g := func(ctx context.Context) (time.Time, error) {
			var err error
			if srv, err = fleet.Listen(listenAddr(f.rendezvous), seg.Total, fingerprint, f.margin); err != nil {
				return time.Time{}, err
			}
			ctx, cancel := context.WithTimeout(ctx, f.timeout)
			defer cancel()
			return srv.Wait(ctx)
		}
		return g, func() {
			if srv != nil {
				srv.Close()
			}
		}
	case f.rendezvous != "":
		return func(ctx context.Context) (time.Time, error) {
			ctx, cancel := context.WithTimeout(ctx, f.timeout)
			defer cancel()
			return fleet.Join(ctx, f.rendezvous, seg.Index, seg.Total, fingerprint, 250*time.Millisecond)
		}, func() {}
	case f.claimDir != "":
		return func(ctx context.Context) (time.Time, error) {
			ctx, cancel := context.WithTimeout(ctx, f.timeout)
			defer cancel()
			return fleet.ClaimBarrier(ctx, f.claimDir, seg.Total, f.margin, 100*time.Millisecond)
		}, func() {}
	}
	return nil, func() {}
}

// listenAddr is where segment 1 listens for --rendezvous addr: addr itself when its host is a
// loopback address (tests, one machine), else every interface on its port — in a pod the host
// is the pod's own DNS name, which may not resolve before the pod is ready.
func listenAddr(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return addr
	}
	return ":" + port
}

// planFingerprint identifies the plan's files, so that segment 1 refuses a segment running
// another plan.
func planFingerprint(paths []string) string {
	h := sha256.New()
	for _, p := range paths {
		data, _ := os.ReadFile(p)
		fmt.Fprintf(h, "%d\n", len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// prepareFleet claims the instance's segment when the claim folder picks it (exit 2 when none is
// left) and returns run.Config's Gate with the func that ends it; code is exitOK to go on.
func prepareFleet(opts *applyOptions, stderr io.Writer, info func(string, ...any)) (gate func(context.Context) (time.Time, error), end func(), code int) {
	f := opts.run.fleet
	if f == nil {
		return nil, func() {}, exitOK
	}
	if err := f.claim(&opts.segment); err != nil {
		fmt.Fprintln(stderr, "loadplan apply:", err)
		if errors.Is(err, fleet.ErrTaken) {
			return nil, nil, exitUsage
		}
		return nil, nil, exitRuntime
	}
	if f.claimDir != "" {
		info("segment %s: claimed in %s", opts.segment, f.claimDir)
	}
	gate, end = f.gate(opts.segment, planFingerprint(opts.paths))
	return gate, end, exitOK
}
