package main

import (
	"strings"
	"testing"
)

// TestLocustFlagHints: each Locust flag on apply's (and plan's) command line is a usage error of
// one line naming loadplan's flag — not the flag package's "not defined" and the whole usage.
// The golden lines are what a user moving a Locust runner script reads.
func TestLocustFlagHints(t *testing.T) {
	srv := newVUServer(t)
	file := hostPlan(t, srv.srv.URL)
	golden := []struct {
		args []string
		line string
	}{
		{[]string{"--users", "10"}, "--users is Locust's flag; loadplan's is --vus N (with --spawn-rate R to ramp to it)"},
		{[]string{"--users=10"}, "--users is Locust's flag; loadplan's is --vus N (with --spawn-rate R to ramp to it)"},
		{[]string{"--vus", "10", "-r", "2"}, "-r is Locust's flag; loadplan's is --spawn-rate R (Locust's -r; with --vus N)"},
		{[]string{"--hatch-rate", "2"}, "--hatch-rate is Locust's flag; loadplan's is --spawn-rate R (with --vus N)"},
		{[]string{"--run-time", "1m"}, "--run-time is Locust's flag; loadplan's is --duration D, e.g. --duration 1m (Go durations: 90s, 1m30s, 2h)"},
		{[]string{"-t", "1m"}, "-t is Locust's flag; loadplan's is --duration D (Locust's -t/--run-time), e.g. --duration 1m"},
		{[]string{"-H", "http://127.0.0.1:1"}, "-H is Locust's flag; loadplan's is --host URL (it sets var.host)"},
		{[]string{"--headless"}, "--headless is Locust's flag; loadplan's is nothing: apply runs headless unless --ui ADDR asks for the live web page; drop the flag"},
		{[]string{"--web-port", "8089"}, "--web-port is Locust's flag; loadplan's is --ui :PORT (apply's live page) or loadplan ui --addr :PORT (Locust's web mode)"},
		{[]string{"-f", "locustfile.py"}, "-f is Locust's flag; loadplan's is the plan file as an argument: loadplan apply [flags] PLAN.hcl"},
		{[]string{"--tags", "smoke"}, "--tags is Locust's flag; loadplan's is --tag NAME (repeat it for several tags)"},
		{[]string{"--exclude-tags", "slow"}, "--exclude-tags is Locust's flag; loadplan's is --tag NAME or --scenario NAME for what to run (loadplan selects; it does not exclude)"},
		{[]string{"--csv", "out"}, `--csv is Locust's flag; loadplan's is --out csv=FOLDER/ (or an output "csv" block in the plan)`},
		// A flag's value is never read as a flag: -var's value here, then the Locust flag after it.
		{[]string{"-var", "host=http://127.0.0.1:1", "--duration", "1s", file, "--users", "3"}, "--users is Locust's flag"},
	}
	for _, g := range golden {
		for _, verb := range []string{"apply", "plan"} {
			args := append([]string{verb}, g.args...)
			if !strings.HasSuffix(args[len(args)-1], ".hcl") && args[len(args)-1] != "3" {
				args = append(args, file)
			}
			r := runCLI(t, args...)
			want := "loadplan " + verb + ": " + g.line
			if r.code != exitUsage || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("%v: exit %d, stderr\n%s\nwant exit %d and the one line\n%s", args, r.code, r.stderr, exitUsage, want)
			}
		}
	}
	if _, _, n := srv.counts(); n != 0 {
		t.Errorf("a rejected command line sent %d requests", n)
	}
}
