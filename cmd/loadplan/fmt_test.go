package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadplan/loadplan/internal/testkit"
)

const unformatted = `scenario "rest" {
http "health" {
path = "/api/health"
    method="GET"
}
}
`

const formatted = `scenario "rest" {
  http "health" {
    path   = "/api/health"
    method = "GET"
  }
}
`

func TestFmtCheckAndRewrite(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, filepath.Join(dir, "bad.hcl"), unformatted)
	good := writeFile(t, filepath.Join(dir, "good.hcl"), formatted)

	r := runCLI(t, "fmt", "-check", dir)
	if r.code != exitFmtCheck {
		t.Fatalf("fmt -check: exit %d, want 3\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.TrimSpace(r.stdout) != bad {
		t.Errorf("fmt -check lists %q, want only %q", r.stdout, bad)
	}
	if b, _ := os.ReadFile(bad); string(b) != unformatted {
		t.Errorf("fmt -check changed the file")
	}

	r = runCLI(t, "fmt", "-check", "-diff", bad)
	if r.code != exitFmtCheck || !strings.Contains(r.stdout, "@@ -1,6 +1,6 @@") ||
		!strings.Contains(r.stdout, `-path = "/api/health"`) || !strings.Contains(r.stdout, `+    path   = "/api/health"`) {
		t.Errorf("fmt -diff: exit %d\n%s", r.code, r.stdout)
	}

	r = runCLI(t, "fmt", dir)
	if r.code != exitOK || strings.TrimSpace(r.stdout) != bad {
		t.Fatalf("fmt: exit %d, listed %q", r.code, r.stdout)
	}
	if b, _ := os.ReadFile(bad); string(b) != formatted {
		t.Errorf("fmt wrote:\n%s", b)
	}
	if r := runCLI(t, "fmt", "-check", dir, good); r.code != exitOK || r.stdout != "" {
		t.Errorf("fmt -check after fmt: exit %d %q", r.code, r.stdout)
	}
}

func TestFmtExamplePlansAreClean(t *testing.T) {
	if r := runCLI(t, "fmt", "-check", "../../plans"); r.code != exitOK {
		t.Errorf("plans/ not fmt-clean: exit %d\n%s", r.code, r.stdout)
	}
}

func TestFmtSyntaxErrorAndUsage(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "broken.hcl"), "scenario \"x\" {\n")
	r := runCLI(t, "fmt", "-check", f)
	if r.code != exitInvalidPlan || !strings.Contains(r.stderr, "Unclosed configuration block") {
		t.Errorf("syntax error: exit %d\n%s", r.code, r.stderr)
	}
	if r := runCLI(t, "fmt", "-nope"); r.code != exitUsage {
		t.Errorf("bad flag: exit %d, want 2", r.code)
	}
}

func TestUnifiedDiff(t *testing.T) {
	got := unifiedDiff("f", "a\nb\nc\n", "a\nB\nc\n")
	want := "--- f\n+++ f (formatted)\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if d := unifiedDiff("f", "same\n", "same\n"); strings.Contains(d, "@@") {
		t.Errorf("no change must have no hunk: %s", d)
	}
}

func TestFmtStdin(t *testing.T) {
	cmd := exec.Command(testkit.Binary(t), "fmt", "-")
	cmd.Stdin = strings.NewReader(unformatted)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != formatted {
		t.Errorf("fmt - wrote:\n%s", out)
	}
}
