package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
)

// runInDir runs the built binary in dir with extra environment variables.
func runInDir(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testkit.Binary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return result{code: exitCode(t, err), stdout: out.String(), stderr: errb.String()}
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const requiredHostPlan = `variable "host" {
  type = string
}

target "api" {
  base_url = var.host
}

scenario "rest" {
  http "health" {
    path = "/api/health"
  }
}
`

func TestValidateExamplePlans(t *testing.T) {
	r := runCLI(t, "validate", "../../plans")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "11 of 11 plans valid") {
		t.Errorf("stdout: %s", r.stdout)
	}
}

func TestValidateInvalidPointsAtTheTypo(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "typo.hcl"), `target "api" {
  base_url = "http://127.0.0.1:9"
}

scenario "rest" {
  http "login" {
    methd = "POST"
    path  = "/api/login"
  }
}
`)
	r := runCLI(t, "validate", f)
	if r.code != exitInvalidPlan {
		t.Fatalf("exit %d, want 104\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"Unsupported argument", `Did you mean "method"?`, "typo.hcl line 7", `methd = "POST"`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "\x1b[") {
		t.Errorf("colour codes when stderr is not a terminal")
	}

	r = runCLI(t, "validate", "-json", f)
	if r.code != exitInvalidPlan {
		t.Fatalf("-json: exit %d", r.code)
	}
	var out struct {
		Valid      bool `json:"valid"`
		ErrorCount int  `json:"error_count"`
		Files      []struct {
			Diagnostics []jsonDiag `json:"diagnostics"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("-json output: %v\n%s", err, r.stdout)
	}
	d := out.Files[0].Diagnostics[0]
	if out.Valid || out.ErrorCount != 1 || d.Range == nil || d.Range.Start.Line != 7 || d.Range.Start.Column != 5 {
		t.Errorf("-json: %+v %+v", out, d)
	}
}

func TestValidateUsageAndFolders(t *testing.T) {
	empty := t.TempDir()
	if r := runInDir(t, empty, nil, "validate"); r.code != exitUsage {
		t.Errorf("validate in a folder without plans: exit %d, want 2", r.code)
	}
	if r := runCLI(t, "validate", "-bogus"); r.code != exitUsage {
		t.Errorf("unknown flag: exit %d, want 2", r.code)
	}
	if r := runCLI(t, "validate", filepath.Join(empty, "missing.hcl")); r.code != exitUsage {
		t.Errorf("missing path: exit %d, want 2", r.code)
	}
	if r := runCLI(t, "validate", "-var", "novalue"); r.code != exitUsage {
		t.Errorf("-var without =: exit %d, want 2", r.code)
	}
	// The default path is the current folder, searched recursively.
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "sub", "ok.hcl"), strings.Replace(requiredHostPlan, "type = string", `default = "http://127.0.0.1:9"`, 1))
	if r := runInDir(t, dir, nil, "validate"); r.code != exitOK || !strings.Contains(r.stdout, "ok.hcl: valid") {
		t.Errorf("validate .: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "bad.hcl"), "scenario {")
	if r := runInDir(t, dir, nil, "validate"); r.code != exitInvalidPlan || !strings.Contains(r.stdout, "1 of 2 plans valid") {
		t.Errorf("one bad plan of two: exit %d\n%s", r.code, r.stdout)
	}
}

func TestValidateVariables(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, filepath.Join(dir, "p.hcl"), requiredHostPlan)
	if r := runCLI(t, "validate", f); r.code != exitInvalidPlan || !strings.Contains(r.stderr, "No value for required variable") {
		t.Errorf("without a value: exit %d\n%s", r.code, r.stderr)
	}
	if r := runCLI(t, "validate", "-var", "host=http://127.0.0.1:9", f); r.code != exitOK {
		t.Errorf("-var: exit %d\n%s", r.code, r.stderr)
	}
	if r := runInDir(t, dir, []string{"LOADPLAN_VAR_host=http://127.0.0.1:9"}, "validate", "p.hcl"); r.code != exitOK {
		t.Errorf("LOADPLAN_VAR_host: exit %d\n%s", r.code, r.stderr)
	}
	vf := writeFile(t, filepath.Join(dir, "vars.hcl.txt"), `host = "http://127.0.0.1:9"`+"\n")
	if r := runCLI(t, "validate", "-var-file", vf, f); r.code != exitOK {
		t.Errorf("-var-file: exit %d\n%s", r.code, r.stderr)
	}
	if r := runCLI(t, "validate", "-var", "hots=x", "-var", "host=http://127.0.0.1:9", f); r.code != exitInvalidPlan ||
		!strings.Contains(r.stderr, `Did you mean "host"?`) {
		t.Errorf("undeclared -var: exit %d\n%s", r.code, r.stderr)
	}
}
