package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSegmentExitLeavesThresholdsToMerge: each of 3 segments of a `count == 600` plan runs 200 of
// the 600 iterations — its own share fails the count — and still exits 0, saying the threshold is
// judged by merge; merge over the 3 exits 0 with the server's 600. The same segments merged
// against `count == 601` exit 99: the fleet's verdict is merge's.
func TestSegmentExitLeavesThresholdsToMerge(t *testing.T) {
	srv := newCounter(t, 0)
	load := `load {
  model      = "shared_iterations"
  vus        = 6
  iterations = 600
}`
	file := writePlan(t, "/ok", load, `threshold "http_reqs" {
  condition = "count == 600"
}`)
	dir := t.TempDir()
	var segs []string
	for _, s := range []string{"1/3", "2/3", "3/3"} {
		before := srv.hits.Load()
		seg := filepath.Join(dir, "seg"+s[:1]+".json")
		r := runCLI(t, "apply", "--no-progress", "-var", "host="+srv.srv.URL, "--segment", s, "--segment-summary", seg, file)
		if r.code != exitOK {
			t.Fatalf("segment %s: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", s, r.code, r.stdout, r.stderr)
		}
		if got := srv.hits.Load() - before; got != 200 {
			t.Errorf("segment %s: the server received %d requests, want its share 200", s, got)
		}
		if !strings.Contains(r.stdout, "judged by merge") || !strings.Contains(r.stdout, "1 of 1 thresholds would fail") {
			t.Errorf("segment %s: the summary does not say the count is judged by merge:\n%s", s, r.stdout)
		}
		segs = append(segs, seg)
	}
	export := filepath.Join(dir, "merged.json")
	r := runCLI(t, append([]string{"merge", "-plan", file, "-var", "host=http://127.0.0.1:1", "--summary-export", export}, segs...)...)
	if r.code != exitOK {
		t.Fatalf("merge: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := exportedCount(t, export, "http_reqs"); got != 600 || srv.hits.Load() != 600 {
		t.Errorf("merged http_reqs = %v, the server received %d; want 600", got, srv.hits.Load())
	}
	if !strings.Contains(r.stdout, "all 1 thresholds passed") || strings.Contains(r.stdout, "judged by merge") {
		t.Errorf("merge's summary is not the fleet's verdict:\n%s", r.stdout)
	}
	strict := writePlan(t, "/ok", load, `threshold "http_reqs" {
  condition = "count == 601"
}`)
	r = runCLI(t, append([]string{"merge", "-plan", strict, "-var", "host=http://127.0.0.1:1"}, segs...)...)
	if r.code != exitThreshold {
		t.Fatalf("merge against count == 601: exit %d, want 99\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestSegmentAbortStillExits99: a failing rate threshold with abort_on_fail stops its segment,
// which exits 99 (it is meant to stop the fleet); the same threshold without abort_on_fail lets
// the segment exit 0 and merge exit 99.
func TestSegmentAbortStillExits99(t *testing.T) {
	srv := newCounter(t, 0)
	abort := writePlan(t, "/fail", `load {
  model    = "arrival_rate"
  rate     = 30
  duration = "1m"
  pre_allocated_vus = 4
}`, `threshold "http_req_failed" {
  condition     = "rate < 0.01"
  abort_on_fail = true
  delay         = "500ms"
}`)
	r := runCLI(t, "apply", "--no-progress", "--segment", "1/3", "-var", "host="+srv.srv.URL, abort)
	if r.code != exitThreshold {
		t.Fatalf("abort_on_fail in segment 1/3: exit %d, want 99\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Planned for this segment: 10/s for 60 s; the abort stops it after a few.
	t.Logf("abort_on_fail: segment 1/3 exited %d after %d requests", r.code, srv.hits.Load())
	if got := srv.hits.Load(); got == 0 || got > 300 {
		t.Errorf("the server received %d requests; the abort should stop far below the planned 600", got)
	}
	if !strings.Contains(r.stdout, "aborted the run") {
		t.Errorf("the summary does not name the threshold that stopped the segment:\n%s", r.stdout)
	}

	srv.hits.Store(0)
	plain := writePlan(t, "/fail", `load {
  model      = "shared_iterations"
  vus        = 3
  iterations = 30
}`, `threshold "http_req_failed" {
  condition = "rate < 0.01"
}`)
	dir := t.TempDir()
	var segs []string
	for _, s := range []string{"1/3", "2/3", "3/3"} {
		seg := filepath.Join(dir, "seg"+s[:1]+".json")
		if r := runCLI(t, "apply", "--no-progress", "-var", "host="+srv.srv.URL, "--segment", s, "--segment-summary", seg, plain); r.code != exitOK {
			t.Fatalf("segment %s without abort_on_fail: exit %d, want 0\n%s%s", s, r.code, r.stdout, r.stderr)
		}
		segs = append(segs, seg)
	}
	if got := srv.hits.Load(); got != 30 {
		t.Errorf("the server received %d requests from the 3 segments, want 30", got)
	}
	r = runCLI(t, append([]string{"merge", "-plan", plain, "-var", "host=http://127.0.0.1:1"}, segs...)...)
	if r.code != exitThreshold {
		t.Fatalf("merge of a fleet whose every request failed: exit %d, want 99\n%s%s", r.code, r.stdout, r.stderr)
	}
}
