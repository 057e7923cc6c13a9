package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestValidateOutputAttributes: the output kinds' own checks (outputs/registry) run in validate,
// and -json gives each at the line and column of plan's golden file for the same plan.
func TestValidateOutputAttributes(t *testing.T) {
	const fixture = "../../plan/testdata/invalid/output_attributes.hcl"
	golden, err := os.ReadFile(strings.TrimSuffix(fixture, ".hcl") + ".golden")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, line := range strings.Split(string(golden), "\n") {
		if strings.HasPrefix(line, "testdata/") { // testdata/invalid/x.hcl:12:16: error: Empty path
			_, rest, _ := strings.Cut(line, ".hcl:")
			want = append(want, rest)
		}
	}
	r := runCLI(t, "validate", "-json", fixture)
	if r.code != exitInvalidPlan {
		t.Fatalf("exit %d, want %d\n%s%s", r.code, exitInvalidPlan, r.stdout, r.stderr)
	}
	var out struct {
		Files []struct {
			Diagnostics []jsonDiag `json:"diagnostics"`
		} `json:"files"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Files) != 1 {
		t.Fatalf("-json output: %v\n%s", err, r.stdout)
	}
	var got []string
	for _, d := range out.Files[0].Diagnostics {
		if d.Range == nil {
			t.Fatalf("%s has no range", d.Summary)
		}
		got = append(got, fmt.Sprintf("%d:%d: %s: %s", d.Range.Start.Line, d.Range.Start.Column, d.Severity, d.Summary))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("validate -json:\n%s\nwant (the golden file):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestApplyBadOutputSendsNothing: an output attribute its kind refuses stops apply with 104 before
// a request is sent; the target counts what it received.
func TestApplyBadOutputSendsNothing(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	good := fmt.Sprintf(`target "api" {
  base_url = %q
}

scenario "rest" {
  http "health" { path = "/" }
}

load {
  vus        = 1
  iterations = 3
  model      = "per_vu_iterations"
}
`, srv.URL)
	dir := t.TempDir()
	// The control: without the output block, the target sees the plan's 3 requests.
	if r := runCLI(t, "apply", "--no-progress", writeFile(t, filepath.Join(dir, "good.hcl"), good)); r.code != exitOK {
		t.Fatalf("control: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := hits.Swap(0); n != 3 {
		t.Fatalf("control: the target received %d requests, want 3", n)
	}
	file := writeFile(t, filepath.Join(dir, "bad.hcl"), good+`
output "prometheus" {
  listen = "no-port"
}
`)
	r := runCLI(t, "apply", "--no-progress", file)
	if r.code != exitInvalidPlan {
		t.Fatalf("exit %d, want %d\n%s%s", r.code, exitInvalidPlan, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "Invalid listen address") || !strings.Contains(r.stderr, "bad.hcl line 16") {
		t.Errorf("stderr does not point at the listen address:\n%s", r.stderr)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the target received %d requests", n)
	}
}
