package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanVerbHidesOutputSecrets: an output URL read with env() is used but never shown by
// `loadplan plan`, in text or JSON.
func TestPlanVerbHidesOutputSecrets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret.hcl")
	src := `target "api" {
  base_url = "http://127.0.0.1:8000"
}
scenario "s" {
  target = target.api
  http "a" {
    path = "/"
  }
}
output "influxdb" {
  url    = env("INFLUX_URL")
  bucket = "loadplan"
  token  = env("INFLUX_TOKEN", "tok-s3cret")
}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	const secret = "http://127.0.0.1:8086/?key=hunter2"
	for _, args := range [][]string{{"plan", file}, {"plan", "-json", file}} {
		cmd := runCLIEnv(t, []string{"INFLUX_URL=" + secret}, args...)
		if cmd.code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, cmd.code, cmd.stdout, cmd.stderr)
		}
		out := cmd.stdout + cmd.stderr
		if strings.Contains(out, "hunter2") || strings.Contains(out, "tok-s3cret") {
			t.Errorf("%v printed a secret:\n%s", args, out)
		}
		if !strings.Contains(out, "influxdb") || !strings.Contains(out, "(sensitive)") {
			t.Errorf("%v does not show the output with its secret hidden:\n%s", args, out)
		}
	}
}

// badSecretsPlan reads a value invalid for its attribute from the environment in base_url,
// timeout, method, status, body_matches, a capture regex, a threshold condition and a listen
// address; -var sets a sensitive number variable to text. Lines are what the test checks.
const badSecretsPlan = `variable "n" {
  type      = number
  sensitive = true
}
target "api" {
  base_url = env("SECRET_URL")
  timeout  = env("SECRET_TIMEOUT")
}
scenario "s" {
  target = target.api
  http "a" {
    method = env("SECRET_METHOD")
    path   = "/"
    check {
      status       = env("SECRET_STATUS")
      body_matches = env("SECRET_REGEX")
    }
    capture "c" { regex = "${env("SECRET_REGEX")}x" }
  }
}
threshold "http_req_duration" {
  condition = env("SECRET_CONDITION")
}
output "prometheus" {
  listen = env("SECRET_LISTEN")
}
`

// TestDiagnosticsHideSecrets: validate (text and -json) and plan (text and -json) report every
// invalid secret value by its attribute and line, with (sensitive) in place of the value.
func TestDiagnosticsHideSecrets(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.hcl")
	if err := os.WriteFile(file, []byte(badSecretsPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"SECRET_URL=s3cr3t-XYZ-not-a-url",
		"SECRET_TIMEOUT=s3cr3t-XYZs",
		"SECRET_METHOD=s3cr3t-XYZ",
		"SECRET_STATUS=s3cr3t-XYZ",
		"SECRET_REGEX=s3cr3t-XYZ(",
		"SECRET_CONDITION=p(95) < s3cr3t-XYZ",
		"SECRET_LISTEN=s3cr3t-XYZ",
	}
	// Each attribute: its line and what its diagnostic says about it.
	want := []struct {
		line int
		says string
	}{
		{6, "Invalid base_url"}, {7, "timeout: (sensitive)"}, {12, "Unknown HTTP method"},
		{15, "Invalid status"}, {16, "body_matches: (sensitive)"}, {18, "regex: (sensitive)"},
		{22, "Malformed threshold condition"}, {25, "Invalid listen address"},
	}
	for _, args := range [][]string{{"validate", "-json"}, {"plan", "-json"}, {"validate"}, {"plan"}} {
		args = append(args, "-var", "n=pa55-not-a-number", file)
		r := runCLIEnv(t, env, args...)
		out := r.stdout + r.stderr
		if r.code != exitInvalidPlan {
			t.Errorf("%v: exit %d, want 104\n%s", args, r.code, out)
		}
		for _, secret := range []string{"s3cr3t", "XYZ", "pa55"} {
			if strings.Contains(out, secret) {
				t.Errorf("%v prints the secret %q:\n%s", args, secret, out)
			}
		}
		if args[0] != "validate" || args[1] != "-json" { // plan -json reports an invalid plan as text
			if n := strings.Count(out, "(sensitive)"); n < len(want)+1 {
				t.Errorf("%v: (sensitive) %d times, want at least %d:\n%s", args, n, len(want)+1, out)
			}
			continue
		}
		diags := jsonDiagsOf(t, r.stdout)
		for _, w := range want {
			found := false
			for _, d := range diags {
				text := d.Summary + ": " + d.Detail
				if d.Range != nil && d.Range.Start.Line == w.line && strings.Contains(text, w.says) && strings.Contains(text, "(sensitive)") {
					found = true
				}
			}
			if !found {
				t.Errorf("%v: no diagnostic at line %d saying %q with (sensitive):\n%s", args, w.line, w.says, r.stdout)
			}
		}
	}
}

// jsonDiagsOf returns the diagnostics of every file of validate -json.
func jsonDiagsOf(t *testing.T, out string) []jsonDiag {
	t.Helper()
	var v struct {
		Files []struct {
			Diagnostics []jsonDiag `json:"diagnostics"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	var diags []jsonDiag
	for _, f := range v.Files {
		diags = append(diags, f.Diagnostics...)
	}
	return diags
}
