// Package browsertest runs loadplan's browser tests: a JavaScript test script driving Debian's
// headless Chromium through playwright-core (scripts/browser, installed by
// scripts/install-test-deps.sh), its result decoded from the last line of its output.
//
// The scripts share scripts/browser/harness.js, which records console errors, uncaught page
// errors and every request that would leave the machine (aborted), so each test can assert that
// a page loaded nothing from the network.
//
// When Chromium, node or playwright-core is missing, Run skips the test on a developer's
// machine, with the command that installs them, and fails it when CI is set: a browser test
// never passes in CI by not running.
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Log is what harness.js records about a page.
type Log struct {
	ConsoleErrors []string `json:"consoleErrors"`
	PageErrors    []string `json:"pageErrors"`
	External      []string `json:"external"`
	Requests      []string `json:"requests"`
}

// Clean reports what went wrong on the page, "" when there were no console errors, no page
// errors and no request leaving the machine.
func (l Log) Clean() string {
	var b strings.Builder
	for _, e := range l.ConsoleErrors {
		b.WriteString("console error: " + e + "\n")
	}
	for _, e := range l.PageErrors {
		b.WriteString("page error: " + e + "\n")
	}
	for _, u := range l.External {
		b.WriteString("request leaving the machine: " + u + "\n")
	}
	return b.String()
}

// Env is what a browser test needs, located once.
type Env struct {
	Node     string // the node binary
	Chromium string // the Chromium binary
	Modules  string // scripts/browser/node_modules
	Harness  string // scripts/browser/harness.js
}

// Find locates node, Chromium (LOADPLAN_CHROMIUM, else chromium or chromium-browser on PATH)
// and the repository's playwright-core.
func Find() (Env, error) {
	var e Env
	var err error
	if e.Node, err = exec.LookPath("node"); err != nil {
		return e, errors.New("node not found on PATH")
	}
	e.Chromium = os.Getenv("LOADPLAN_CHROMIUM")
	if e.Chromium == "" {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				e.Chromium = p
				break
			}
		}
	}
	if e.Chromium == "" {
		return e, errors.New("chromium not found on PATH (set LOADPLAN_CHROMIUM to use another)")
	}
	root, err := repoRoot()
	if err != nil {
		return e, err
	}
	e.Modules = filepath.Join(root, "scripts", "browser", "node_modules")
	e.Harness = filepath.Join(root, "scripts", "browser", "harness.js")
	if _, err := os.Stat(filepath.Join(e.Modules, "playwright-core", "package.json")); err != nil {
		return e, errors.New("playwright-core is not installed in scripts/browser/node_modules")
	}
	return e, nil
}

// repoRoot is the directory holding go.mod, found from this source file.
func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the repository")
	}
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above " + filepath.Dir(file))
		}
		dir = parent
	}
}

// Need returns the environment, or ends the test: skipped on a developer's machine, failed
// under CI (CI set to anything but "" or "false").
func Need(t testing.TB) Env {
	t.Helper()
	e, err := Find()
	if err != nil {
		msg := "browser test needs Chromium, node and playwright-core: " + err.Error() +
			"; run ./scripts/install-test-deps.sh (make test-deps)"
		if ci := os.Getenv("CI"); ci != "" && ci != "false" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return e
}

// Run runs script (a file path) with node, the arguments after it, and decodes the JSON object
// on its last stdout line into out. The script requires the harness as require(process.env.
// LOADPLAN_HARNESS). It is killed after timeout; its stderr is in the error.
func Run(t testing.TB, script string, timeout time.Duration, out any, args ...string) {
	t.Helper()
	e := Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.Node, append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(),
		"NODE_PATH="+e.Modules,
		"LOADPLAN_CHROMIUM="+e.Chromium,
		"LOADPLAN_HARNESS="+e.Harness,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("browser script %s: %v\nstderr:\n%s\nstdout:\n%s", filepath.Base(script), err, tail(stderr.String()), tail(stdout.String()))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := lines[len(lines)-1]
	if err := json.Unmarshal([]byte(last), out); err != nil {
		t.Fatalf("browser script %s: its last line is not the JSON result: %v\n%s", filepath.Base(script), err, tail(stdout.String()))
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}
