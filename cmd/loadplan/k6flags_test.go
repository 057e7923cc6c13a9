package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
)

// k6Plan is a plan whose default host is unreachable (port 1), with a sensitive variable and an
// env() value sent in headers and the query, for the alias and --http-debug tests.
const k6Plan = `variable "host" {
  default = "http://127.0.0.1:1"
}
variable "token" {
  default   = "s3cr3t-token"
  sensitive = true
}
target "api" {
  base_url = var.host
  headers  = { Authorization = "Bearer ${var.token}", "X-Key" = env("LOADPLAN_TEST_KEY", "k3y-from-env") }
}
scenario "rest" {
  target = target.api
  http "get" {
    path = "/api?t=${var.token}"
  }
}
load {
  stage {
    duration = "30s"
    target   = 3
  }
}
`

// countServer counts the requests it answers.
func countServer(t *testing.T, tlsOn bool) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Set-Cookie", "session=c00kie-secret")
		w.Write([]byte(`{"ok":true}`))
	})
	srv := httptest.NewServer(h)
	if tlsOn {
		srv.Close()
		srv = httptest.NewTLSServer(h)
	}
	t.Cleanup(srv.Close)
	return srv, &n
}

// httpReqs reads the http_reqs total from the summary on stdout.
func httpReqs(t *testing.T, stdout string) int {
	t.Helper()
	m := regexp.MustCompile(`http_reqs\.*: (\d+) `).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no http_reqs in the summary:\n%s", stdout)
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// TestK6Aliases runs the built binary with k6's spellings against a counting server: -e sets a
// variable, -i N -u V runs exactly N iterations (the server saw N requests, the summary says N),
// -q silences the informational lines, --no-color and Terraform's -no-color are accepted, and
// --summary-trend-stats picks the columns.
func TestK6Aliases(t *testing.T) {
	srv, hits := countServer(t, false)
	file := writeSource(t, k6Plan)
	r := runCLI(t, "apply", "-e", "host="+srv.URL, "-i", "7", "-u", "2", "-q", "--no-color",
		"--summary-trend-stats", "avg,p(99.9),count", file)
	if r.code != exitOK || hits.Load() != 7 || httpReqs(t, r.stdout) != 7 {
		t.Fatalf("-e -i 7 -u 2: exit %d, server saw %d, summary\n%s\n%s", r.code, hits.Load(), r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "\x1b[") || r.stderr != "" {
		t.Errorf("--no-color -q: colour on stdout or lines on stderr:\n%q\n%s", r.stdout, r.stderr)
	}
	if !regexp.MustCompile(`step\s+method\s+reqs\s+fail\s+rps\s+avg\s+p99\.9\s+count`).MatchString(r.stdout) || strings.Contains(r.stdout, "p90") ||
		!regexp.MustCompile(`http_req_duration\.*: avg=\S+ p\(99\.9\)=\S+ count=7\n`).MatchString(r.stdout) {
		t.Errorf("--summary-trend-stats avg,p(99.9),count:\n%s", r.stdout)
	}
	// The long forms and Terraform's single-dash -no-color.
	hits.Store(0)
	r = runCLI(t, "apply", "-var", "host="+srv.URL, "--iterations", "3", "--vus", "1", "--quiet", "-no-color", file)
	if r.code != exitOK || hits.Load() != 3 || httpReqs(t, r.stdout) != 3 {
		t.Errorf("--iterations 3: exit %d, server saw %d\n%s%s", r.code, hits.Load(), r.stdout, r.stderr)
	}
	// -u and -d in plan: the schedule shown is 3 VUs over 4 s.
	r = runCLI(t, "plan", "-u", "3", "-d", "4s", file)
	if r.code != exitOK || !strings.Contains(r.stdout, "model users, 4s") || !strings.Contains(r.stdout, "peak 3 VUs") {
		t.Errorf("plan -u 3 -d 4s: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "plan", "-i", "5", "-u", "2", "-d", "1m", file)
	if r.code != exitOK || !strings.Contains(r.stdout, "2 VUs share 5 iterations, at most 1m0s") {
		t.Errorf("plan -i 5 -u 2 -d 1m: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "apply", "--summary-trend-stats", "p(200)", file); r.code != exitUsage || !strings.Contains(r.stderr, "p(N) with 0 < N <= 100") {
		t.Errorf("bad --summary-trend-stats: exit %d\n%s", r.code, r.stderr)
	}
	if hits.Load() != 3 {
		t.Errorf("plan or a rejected command line sent requests: %d", hits.Load()-3)
	}
}

// TestInsecureSkipTLSVerify: against a self-signed https server, every request fails the
// certificate check (the server answers none); with --insecure-skip-tls-verify the server
// answers every one, as many as the summary counts.
func TestInsecureSkipTLSVerify(t *testing.T) {
	srv, hits := countServer(t, true)
	file := writeSource(t, k6Plan)
	r := runCLI(t, "apply", "-q", "-e", "host="+srv.URL, "-i", "2", file)
	if hits.Load() != 0 || !strings.Contains(r.stdout, "certificate") && !strings.Contains(r.stdout, "tls") {
		t.Errorf("without the flag: server answered %d, summary\n%s", hits.Load(), r.stdout)
	}
	r = runCLI(t, "apply", "-q", "-e", "host="+srv.URL, "-i", "4", "--insecure-skip-tls-verify", file)
	if r.code != exitOK || hits.Load() != 4 || httpReqs(t, r.stdout) != 4 {
		t.Errorf("--insecure-skip-tls-verify: exit %d, server answered %d\n%s%s", r.code, hits.Load(), r.stdout, r.stderr)
	}
}

// TestHTTPDebug: --http-debug prints one request and response per request the server answered,
// with the Authorization header, the sensitive variable (in the query too) and the env() value
// masked; =full adds the response body.
func TestHTTPDebug(t *testing.T) {
	srv, hits := countServer(t, false)
	file := writeSource(t, k6Plan)
	env := []string{"LOADPLAN_TEST_KEY=k3y-from-env"}
	for _, mode := range []string{"--http-debug", "--http-debug=full"} {
		hits.Store(0)
		r := runCLIEnv(t, env, "apply", "-q", "-e", "host="+srv.URL, "-i", "3", mode, file)
		if r.code != exitOK || hits.Load() != 3 {
			t.Fatalf("%s: exit %d, server saw %d\n%s", mode, r.code, hits.Load(), r.stderr)
		}
		if n := strings.Count(r.stderr, "> GET "); n != 3 || strings.Count(r.stderr, "< 200 OK") != 3 {
			t.Errorf("%s: %d requests printed, want 3\n%s", mode, n, r.stderr)
		}
		for _, secret := range []string{"s3cr3t", "k3y-from-env", "Bearer", "c00kie"} {
			if strings.Contains(r.stderr, secret) {
				t.Errorf("%s: %q printed\n%s", mode, secret, r.stderr)
			}
		}
		if !strings.Contains(r.stderr, "> Authorization: ***") || !strings.Contains(r.stderr, "> X-Key: ***") || !strings.Contains(r.stderr, "/api?t=***") ||
			strings.Count(r.stderr, "< Set-Cookie: ***") != 3 || strings.Count(r.stderr, "< Content-Type: text/plain") != 3 {
			t.Errorf("%s: masks missing\n%s", mode, r.stderr)
		}
		if full := strings.Contains(r.stderr, `{"ok":true}`); full != (mode == "--http-debug=full") {
			t.Errorf("%s: body printed = %v\n%s", mode, full, r.stderr)
		}
	}
}

// TestK6AndTerraformHints: k6 and Terraform flags loadplan does not take are a one-line usage
// error naming loadplan's spelling; an unknown flag gets "did you mean" — never the flag
// package's "not defined" and the whole usage.
func TestK6AndTerraformHints(t *testing.T) {
	file := writeSource(t, k6Plan)
	golden := []struct {
		args []string
		line string
	}{
		{[]string{"-o", "csv=x.csv"}, "-o is k6's flag; loadplan's is --out KIND[=VALUE], e.g. --out csv=results/ or --out prometheus"},
		{[]string{"--stage", "10s:5"}, "--stage is k6's flag; loadplan's is a load block in the plan"},
		{[]string{"-s", "10s:5"}, "-s is k6's flag; loadplan's is a load block in the plan"},
		{[]string{"--rps", "10"}, "--rps is k6's flag; loadplan's is an open-model load in the plan"},
		{[]string{"--no-thresholds"}, "--no-thresholds is k6's flag; loadplan's is no flag: thresholds are part of the plan"},
		{[]string{"--no-summary"}, "--no-summary is k6's flag; loadplan's is no flag: the summary goes to stdout"},
		{[]string{"-v"}, "-v is k6's flag; loadplan's is nothing: warnings already go to stderr"},
		{[]string{"--user-agent", "x"}, "--user-agent is k6's flag; loadplan's is a User-Agent header in the target block"},
		{[]string{"--paused"}, "--paused is k6's flag; loadplan's is no equivalent"},
		{[]string{"--max", "10"}, "--max is k6's flag; loadplan's is --vus N"},
		{[]string{"-auto-approve"}, "-auto-approve is Terraform's flag; loadplan's is nothing: apply never asks; drop the flag"},
		{[]string{"-input=false"}, "-input is Terraform's flag; loadplan's is nothing: loadplan never prompts; drop the flag"},
		{[]string{"-target=x"}, "-target is Terraform's flag; loadplan's is --scenario NAME"},
		{[]string{"-parallelism=4"}, "-parallelism is Terraform's flag; loadplan's is --vus N"},
		{[]string{"--vsu", "3"}, "--vsu: no such flag; did you mean --vus? (loadplan apply -h lists them)"},
		{[]string{"--durration", "3s"}, "--durration: no such flag; did you mean --duration?"},
	}
	for _, g := range golden {
		args := append(append([]string{"apply"}, g.args...), file)
		r := runCLI(t, args...)
		want := "loadplan apply: " + g.line
		if r.code != exitUsage || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr\n%s\nwant exit 2 and the one line\n%s", args, r.code, r.stderr, want)
		}
	}
}

// TestUseColor is the colour decision: a terminal, and neither NO_COLOR nor --no-color.
func TestUseColor(t *testing.T) {
	for _, c := range []struct {
		tty  bool
		env  string
		flag bool
		want bool
	}{{true, "", false, true}, {false, "", false, false}, {true, "1", false, false}, {true, "0", false, false}, {true, "", true, false}} {
		if got := useColor(c.tty, c.env, c.flag); got != c.want {
			t.Errorf("useColor(tty=%v, NO_COLOR=%q, --no-color=%v) = %v", c.tty, c.env, c.flag, got)
		}
	}
}

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
