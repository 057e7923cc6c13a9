package main

import (
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
