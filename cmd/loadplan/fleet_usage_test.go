package main

import (
	"strings"
	"testing"
)

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
