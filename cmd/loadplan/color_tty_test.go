package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
)

// TestSummaryColorOnTTY runs apply on a pseudo-terminal (util-linux's script(1)): the summary's ✓
// is green there, and plain in a pipe, with NO_COLOR set and with --no-color. The server counts
// the requests of every run.
func TestSummaryColorOnTTY(t *testing.T) {
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script(1) for a pseudo-terminal; the decision is tested by TestUseColor")
	}
	srv, hits := countServer(t, false)
	file := writeSource(t, k6Plan+"threshold \"http_req_failed\" {\n  condition = \"rate == 0\"\n}\n")
	const greenCheck = "\x1b[32m✓\x1b[0m"
	onTTY := func(env []string, extra ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		args := append([]string{testkit.Binary(t), "apply", "-q", "-e", "host=" + srv.URL, "-i", "2"}, extra...)
		cmd := exec.CommandContext(ctx, scriptBin, "-qec", strings.Join(append(args, file), " "), "/dev/null")
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("script: %v\n%s", err, out)
		}
		return string(out)
	}
	noColorEnv := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "NO_COLOR=") {
			noColorEnv = append(noColorEnv, "NO_COLOR=") // an empty NO_COLOR counts as unset
		}
	}
	if out := onTTY(noColorEnv); !strings.Contains(out, greenCheck+" http_req_failed") {
		t.Errorf("on a terminal: no green ✓\n%q", out)
	}
	if out := onTTY([]string{"NO_COLOR=1"}); strings.Contains(out, "\x1b[3") || !strings.Contains(out, "✓ http_req_failed") {
		t.Errorf("NO_COLOR=1 on a terminal: colour\n%q", out)
	}
	if out := onTTY(noColorEnv, "--no-color"); strings.Contains(out, "\x1b[3") || !strings.Contains(out, "✓ http_req_failed") {
		t.Errorf("--no-color on a terminal: colour\n%q", out)
	}
	r := runCLI(t, "apply", "-q", "-e", "host="+srv.URL, "-i", "2", file)
	if r.code != exitOK || strings.Contains(r.stdout, "\x1b") || !strings.Contains(r.stdout, "✓ http_req_failed") {
		t.Errorf("in a pipe: exit %d\n%q", r.code, r.stdout)
	}
	if hits.Load() != 8 {
		t.Errorf("4 runs of 2 iterations: the server saw %d requests, want 8", hits.Load())
	}
}
