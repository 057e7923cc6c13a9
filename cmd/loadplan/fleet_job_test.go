package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFleetIndexedJob emulates a Kubernetes Indexed Job of 4 pods on loopback: 4 processes of
// the binary with JOB_COMPLETION_INDEX=0..3 and the command line a generated Job runs
// (--segment auto/4, --rendezvous through segment 1, --segment-summary - into the logs), for a
// closed ramp, an arrival rate and shared iterations. Their logs, interleaved docker compose
// style with stderr's lines, are merged from standard input. Asserted:
//   - merged http_reqs == the requests the server counted during the fleet's run, and, for the
//     deterministic models (arrival rate, shared iterations), == a single process's run of the
//     same plan (== the planned count);
//   - merged p95 == the exact nearest-rank p95 of every raw sample the 4 segments wrote (JSON
//     lines), within the histogram's precision (1/256 relative, +1 µs rounding): merging loses
//     nothing a single histogram of all samples would keep;
//   - merged p95 and a single run's are both in the target's slow class (>= 30 ms: every tenth
//     request waits 30 ms), and both medians in the fast one (< 30 ms). Closer than the class is
//     not a fact on loopback: latency is not repeatable from one run to the next on a shared
//     2-core machine, and 4 processes starting at once there queue for the CPU as 4 pods would
//     not (measured: merged p95 85 ms against a single run's 32 ms in one run, 31.2 against 31.3
//     in another) — the merge itself is held to the exact quantile above;
//   - the segments' start instants (as their summaries report them) lie within 1 s.
func TestFleetIndexedJob(t *testing.T) {
	models := []struct {
		name, load    string
		deterministic bool
		planned       int64
	}{
		{"closed ramp", `load {
  stage {
    duration = "1s"
    target   = 8
  }
  stage {
    duration = "1s"
    target   = 8
  }
}`, false, 0},
		{"arrival rate", `load {
  model             = "arrival_rate"
  rate              = 100
  duration          = "2s"
  pre_allocated_vus = 20
  max_vus           = 400 # headroom: a loaded CI machine stalls processes for seconds (80 saturated once)
}`, true, 200},
		{"shared iterations", `load {
  model      = "shared_iterations"
  vus        = 8
  iterations = 200
}`, true, 200},
	}
	for _, m := range models {
		t.Run(m.name, func(t *testing.T) {
			srv := newSlowEvery(t)
			file := fleetPlan(t, m.load)
			dir := t.TempDir()
			host := "host=" + srv.URL

			single := filepath.Join(dir, "single.json")
			r := runCLI(t, "apply", "--quiet", "-var", host, "--summary-export", single, file)
			singleHits := srv.Hits.Load()
			if r.code != exitOK {
				t.Fatalf("single run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}

			rdv := freeLoopback(t)
			var args, env [][]string
			var raws []string
			for i := range 4 {
				raw := filepath.Join(dir, fmt.Sprintf("raw%d.jsonl", i))
				raws = append(raws, raw)
				args = append(args, []string{"apply", "--no-progress", "--segment", "auto/4", "--rendezvous", rdv,
					"--rendezvous-timeout", "30s", "--start-margin", "1s", "--segment-summary", "-", "--out", "json=" + raw, "-var", host, file})
				env = append(env, []string{"JOB_COMPLETION_INDEX=" + strconv.Itoa(i)})
			}
			ps := runProcs(t, args, env)
			fleetHits := srv.Hits.Load() - singleHits
			for i, p := range ps {
				if p.code != exitOK {
					t.Fatalf("pod %d: exit %d\nstdout:\n%s\nstderr:\n%s", i, p.code, p.stdout, p.stderr)
				}
				if want := fmt.Sprintf("segment %d/4", i+1); !strings.Contains(p.stderr, want) {
					t.Errorf("pod %d (JOB_COMPLETION_INDEX=%d) did not run %s:\n%s", i, i, want, p.stderr)
				}
			}
			logs := composeLogs(ps)
			merged := filepath.Join(dir, "merged.json")
			mr := mergeStdin(t, logs, "--plan", file, "-var", host, "--summary-export", merged, "-")
			if mr.code != exitOK {
				t.Fatalf("merge: exit %d\n%s%s", mr.code, mr.stdout, mr.stderr)
			}

			got := exportedCount(t, merged, "http_reqs")
			if got != float64(fleetHits) {
				t.Errorf("merged http_reqs = %v, server counted %d", got, fleetHits)
			}
			if m.deterministic {
				if s := exportedCount(t, single, "http_reqs"); got != s || s != float64(singleHits) || singleHits != m.planned {
					t.Errorf("merged http_reqs = %v, single run %v (server %d), planned %d", got, s, singleHits, m.planned)
				}
			}

			raw := rawDurations(t, raws)
			if int64(len(raw)) != fleetHits {
				t.Fatalf("%d raw durations, server counted %d", len(raw), fleetHits)
			}
			exact := nearestRank(raw, 0.95)
			p95 := exportedP95(t, merged)
			if d := p95 - exact; d > exact/256+0.001 || d < -(exact/256+0.001) {
				t.Errorf("merged p95 %.4f ms, exact p95 of the raw samples %.4f ms: beyond the histogram's 1/256", p95, exact)
			}
			sp95 := exportedP95(t, single)
			med, smed := exportedStat(t, merged, "med"), exportedStat(t, single, "med")
			slow := float64(slowDelay.Milliseconds())
			if p95 < slow || sp95 < slow || med >= slow || smed >= slow {
				t.Errorf("p95: merged %.2f ms, single %.2f ms, want both >= %v ms; median: merged %.2f ms, single %.2f ms, want both below",
					p95, sp95, slow, med, smed)
			}

			segs := segmentsOf(t, logs)
			if len(segs) != 4 {
				t.Fatalf("%d segment summaries in the logs", len(segs))
			}
			spread := startSpread(segs)
			if spread > time.Second {
				t.Errorf("segments started %v apart, want <= 1s", spread)
			}
			for _, s := range segs {
				if s.ScheduledStart.IsZero() {
					t.Errorf("segment %s has no agreed start", s.Segment)
				}
			}
			t.Logf("%s: server %d, merged %v, single %d; p95 merged %.3f ms, exact %.3f ms, single %.3f ms; start spread %v",
				m.name, fleetHits, got, singleHits, p95, exact, sp95, spread)
		})
	}
}
