package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/outputs/summary"
)

const fleetIterations = `load {
  model      = "shared_iterations"
  vus        = 8
  iterations = 200
}`

// TestFleetClaimFolder: 5 processes race for the 4 segments of a shared claim folder (docker
// compose --scale loadplan=5 with a volume): 4 get 1/4..4/4 exactly once, the fifth exits 2;
// the 4 start together from the folder's barrier, and the folder of their summaries merges to
// the server's count. A sixth started after them exits 2 too (the claims stay); merging 3 of the
// 4 summaries fails, naming the missing one.
func TestFleetClaimFolder(t *testing.T) {
	srv := newSlowEvery(t)
	file := fleetPlan(t, fleetIterations)
	dir := t.TempDir()
	claims, outDir := filepath.Join(dir, "claims"), filepath.Join(dir, "out")
	os.MkdirAll(outDir, 0o755)
	cmdline := func(k int) []string {
		return []string{"apply", "--no-progress", "--segment", "auto/4", "--segment-claim", claims, "--start-margin", "1s",
			"--rendezvous-timeout", "30s", "--segment-summary", filepath.Join(outDir, fmt.Sprintf("instance%d.json", k)),
			"-var", "host=" + srv.URL, file}
	}
	var args, env [][]string
	for k := range 5 {
		args = append(args, cmdline(k))
		env = append(env, nil)
	}
	ps := runProcs(t, args, env)
	var losers int
	for k, p := range ps {
		switch p.code {
		case exitOK:
		case exitUsage:
			losers++
			if !strings.Contains(p.stderr, "all 4 segments in "+claims+" are claimed") {
				t.Errorf("instance %d exit 2 without saying why:\n%s", k, p.stderr)
			}
		default:
			t.Fatalf("instance %d: exit %d\n%s%s", k, p.code, p.stdout, p.stderr)
		}
	}
	if losers != 1 {
		t.Fatalf("%d instances exited 2, want 1", losers)
	}
	var segs []*summary.SegmentSummary
	var names []string
	var files []string
	for k := range 5 {
		f, err := os.Open(filepath.Join(outDir, fmt.Sprintf("instance%d.json", k)))
		if err != nil {
			continue // the loser
		}
		s, err := summary.ReadSegment(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		segs = append(segs, s)
		names = append(names, s.Segment)
		files = append(files, f.Name())
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"1/4", "2/4", "3/4", "4/4"}) {
		t.Fatalf("segments run: %v, want each of 1/4..4/4 once", names)
	}
	if spread := startSpread(segs); spread > time.Second {
		t.Errorf("segments started %v apart, want <= 1s", spread)
	}
	t.Logf("claim folder: segments %v, start spread %v, server %d", names, startSpread(segs), srv.Hits.Load())

	export := filepath.Join(dir, "merged.json")
	r := runCLI(t, "merge", "--plan", file, "-var", "host="+srv.URL, "--summary-export", export, outDir)
	if r.code != exitOK {
		t.Fatalf("merge of the folder: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := exportedCount(t, export, "http_reqs"); got != float64(srv.Hits.Load()) || got != 200 {
		t.Errorf("merged http_reqs = %v, server counted %d, planned 200", got, srv.Hits.Load())
	}

	late := runCLI(t, cmdline(5)...)
	if late.code != exitUsage || !strings.Contains(late.stderr, "a previous run's claims?") {
		t.Errorf("an instance after the fleet: exit %d\n%s", late.code, late.stderr)
	}
	r = runCLI(t, append([]string{"merge", "--plan", file, "-var", "host=" + srv.URL}, files[:3]...)...)
	if r.code != exitRuntime || !strings.Contains(r.stderr, "incomplete fleet: 3 of 4 segments, missing "+missingOf(names, segs[:3])) {
		t.Errorf("merge of 3 of 4: exit %d, want 1 naming the missing segment\n%s", r.code, r.stderr)
	}
}

// missingOf names the segment of names that segs lacks.
func missingOf(names []string, segs []*summary.SegmentSummary) string {
	for _, n := range names {
		if !slices.ContainsFunc(segs, func(s *summary.SegmentSummary) bool { return s.Segment == n }) {
			return n
		}
	}
	return ""
}

// TestFleetLateStart: segments whose agreed start (--start-at) had passed run anyway, say how
// late, and merge reports it and moves their figures back onto the schedule's clock.
func TestFleetLateStart(t *testing.T) {
	srv := newSlowEvery(t)
	file := fleetPlan(t, fleetIterations)
	dir := t.TempDir()
	at := time.Now().Add(-2 * time.Second).UTC().Format(time.RFC3339Nano)
	var files []string
	for _, s := range []string{"1/2", "2/2"} {
		seg := filepath.Join(dir, "seg"+s[:1]+".json")
		r := runCLI(t, "apply", "--no-progress", "--segment", s, "--start-at", at, "--segment-summary", seg, "-var", "host="+srv.URL, file)
		if r.code != exitOK || !strings.Contains(r.stderr, "late: the agreed start was "+at) {
			t.Fatalf("segment %s: exit %d\n%s", s, r.code, r.stderr)
		}
		files = append(files, seg)
	}
	export := filepath.Join(dir, "merged.json")
	r := runCLI(t, append([]string{"merge", "--plan", file, "-var", "host=" + srv.URL, "--summary-export", export}, files...)...)
	if r.code != exitOK {
		t.Fatalf("merge: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, s := range []string{"1/2", "2/2"} {
		if !strings.Contains(r.stdout, "segment "+s+" started 2.") && !strings.Contains(r.stdout, "segment "+s+" started 3.") {
			t.Errorf("the merged summary does not say segment %s started 2-3 s late:\n%s", s, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "after the agreed start") || !strings.Contains(r.stdout, "moved back") {
		t.Errorf("merge's skew report:\n%s\n%s", r.stderr, r.stdout)
	}
	if got := exportedCount(t, export, "http_reqs"); got != float64(srv.Hits.Load()) || got != 200 {
		t.Errorf("merged http_reqs = %v, server counted %d", got, srv.Hits.Load())
	}
}

// TestFleetFlagsUsage: every fleet flag misuse is a usage error (exit 2) that says how to fix it,
// before any request: the server counts none.
func TestFleetFlagsUsage(t *testing.T) {
	srv := newCounter(t, 0)
	file := writePlan(t, "/ok", iterations200, "")
	host := "host=" + srv.srv.URL
	cases := []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"--segment", "auto/4"}, "set JOB_COMPLETION_INDEX (a Kubernetes Indexed Job does) or give --segment-claim DIR"},
		{[]string{"JOB_COMPLETION_INDEX=4"}, []string{"--segment", "auto/4"}, `JOB_COMPLETION_INDEX="4", want 0..3`},
		{nil, []string{"--segment", "auto/x"}, "write INDEX/TOTAL"},
		{nil, []string{"--segment", "1/4", "--segment-claim", t.TempDir()}, "--segment-claim needs --segment auto/N"},
		{nil, []string{"--segment", "1/4", "--rendezvous", "127.0.0.1:1", "--start-at", "+1s"}, "both set the start"},
		{nil, []string{"--rendezvous", "127.0.0.1:1"}, "--rendezvous needs --segment"},
		{nil, []string{"--segment", "1/4", "--rendezvous", "nohostport"}, "write HOST:PORT"},
		{nil, []string{"--start-at", "tomorrow"}, "write an RFC 3339 instant"},
		{nil, []string{"--start-at", "+-3s"}, "write +DURATION"},
	}
	for _, c := range cases {
		r := runCLIEnv(t, append([]string{"JOB_COMPLETION_INDEX="}, c.env...), append(append([]string{"apply", "-var", host}, c.args...), file)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v %v: exit %d, want 2 with %q\n%s", c.env, c.args, r.code, c.want, r.stderr)
		}
	}
	// loadplan plan shows the segment the Job's index picks.
	r := runCLIEnv(t, []string{"JOB_COMPLETION_INDEX=2"}, "plan", "--segment", "auto/4", "-var", host, file)
	if r.code != exitOK || !strings.Contains(r.stdout, "Segment 3/4") {
		t.Errorf("plan --segment auto/4 with index 2: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("the server counted %d requests from usage errors", n)
	}
}

// TestFleetSegmentAbortExits99: a segment whose abort_on_fail threshold trips exits 99, as a
// whole run does: the Job's pod failure policy and compose's --abort-on-container-exit act on it.
func TestFleetSegmentAbortExits99(t *testing.T) {
	srv := newCounter(t, 0)
	file := writePlan(t, "/fail", `load {
  model    = "arrival_rate"
  rate     = 40
  duration = "1m"
  pre_allocated_vus = 4
}`, `threshold "http_req_failed" {
  condition     = "rate < 0.01"
  abort_on_fail = true
  delay         = "500ms"
}`)
	r := runCLIEnv(t, []string{"JOB_COMPLETION_INDEX=1"}, "apply", "--no-progress", "--segment", "auto/2", "--segment-summary", "-", "-var", "host="+srv.srv.URL, file)
	if r.code != exitThreshold {
		t.Fatalf("exit %d, want 99\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Planned for this segment: 20/s for 60 s; the abort leaves a small part of it.
	if got := srv.hits.Load(); got == 0 || got > 600 {
		t.Errorf("server counted %d requests; the abort should stop far below the planned 1200", got)
	}
	if !strings.Contains(r.stdout, "loadplan-segment v1 2/2 1/") {
		t.Errorf("the aborted segment wrote no summary lines:\n%s", r.stdout)
	}
}
