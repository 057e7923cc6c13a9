package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tracingCLIPlan has a plan-level tracing block with a secret OTLP header and a target override.
const tracingCLIPlan = `
tracing {
  sampling      = 0.1
  baggage       = ["run", "step"]
  otlp_endpoint = "http://127.0.0.1:4318/v1/traces"
  otlp_headers  = { Authorization = env("OTLP_TOKEN") }
}
target "api" {
  base_url = "http://127.0.0.1:9"
  tracing {
    propagator = "b3"
  }
}
scenario "s" {
  target = target.api
  http "a" { path = "/" }
}
load {
  vus      = 1
  duration = "1s"
}
`

// TestPlanShowsTracing: `loadplan plan` shows the tracing block and a target's override, the
// OTLP header by name only, and validate reports a sampling outside 0..1 at its line and column
// (exit 104), the secret shown nowhere.
func TestPlanShowsTracing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "traced.hcl")
	if err := os.WriteFile(path, []byte(tracingCLIPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"OTLP_TOKEN=tok-hunter2"}
	r := runCLIEnv(t, env, "plan", path)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"tracing b3, sampling 0.1, baggage run, step\n",
		"Tracing: w3c, sampling 0.1, baggage run, step, client spans over OTLP to http://127.0.0.1:4318/v1/traces (headers Authorization).\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan output lacks %q:\n%s", want, r.stdout)
		}
	}
	bad := filepath.Join(dir, "bad.hcl")
	if err := os.WriteFile(bad, []byte(strings.Replace(tracingCLIPlan, "sampling      = 0.1", "sampling      = 10", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	v := runCLIEnv(t, env, "validate", bad)
	if v.code != exitInvalidPlan || !strings.Contains(v.stdout+v.stderr, "Sampling out of range") ||
		!strings.Contains(v.stdout+v.stderr, "line 3") {
		t.Errorf("validate: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	for _, out := range []string{r.stdout, r.stderr, v.stdout, v.stderr} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("the secret is shown:\n%s", out)
		}
	}
}
