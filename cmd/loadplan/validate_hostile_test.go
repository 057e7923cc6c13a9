//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// Hostile plans through the real binary: each ends in exit 104 (invalid plan) with a diagnostic
// that names the place — not a hang, an OOM kill or a Go stack trace. Every run is bounded by
// runCLI's minute; nothing here measures time. The targets are never contacted: the plans are
// refused while loading.
func TestValidateHostilePlans(t *testing.T) {
	dir := t.TempDir()
	const target = "target \"api\" {\n  base_url = \"http://127.0.0.1:9\"\n}\n"
	const scenario = "\nscenario \"rest\" {\n  target = target.api\n  http \"a\" { path = \"/a/${data.users.name}\" }\n}\n"
	deviceFeeder := writeFile(t, filepath.Join(dir, "feeder.hcl"), target+"\ndata \"users\" { csv = \"/dev/zero\" }\n"+scenario)
	deep := writeFile(t, filepath.Join(dir, "deep.hcl"),
		target+"\nlocals {\n  n = "+strings.Repeat("(", 100_000)+"1"+strings.Repeat(")", 100_000)+"\n}\n")
	vus := writeFile(t, filepath.Join(dir, "vus.hcl"), target+`
scenario "rest" {
  target = target.api
  http "a" { path = "/a" }
}

load {
  vus      = 1e9
  duration = "1m"
}
`)
	cases := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"plan is /dev/zero", []string{"validate", "/dev/zero"},
			[]string{"Plan file is not a regular file", "/dev/zero is not a regular file (a character device)"}},
		{"feeder is /dev/zero", []string{"validate", deviceFeeder},
			[]string{"Feeder file is not a regular file", "feeder.hcl line 5"}},
		{"100k nested parentheses", []string{"validate", deep},
			[]string{"Expression nested too deeply", "deep.hcl line 6"}},
		{"fmt of 100k nested parentheses", []string{"fmt", "-check", deep},
			[]string{"Expression nested too deeply"}},
		{"apply with a billion VUs", []string{"apply", vus},
			[]string{"Too many virtual users", "vus.hcl line 11", "at most 1,000,000 virtual users"}},
		{"apply a billion VUs on 4 segments", []string{"apply", "--segment", "1/4", vus},
			[]string{"Too many virtual users", "4 instances run at most 4,000,000"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, c.args...)
			if r.code != exitInvalidPlan {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %.2000s", r.code, exitInvalidPlan, r.stdout, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%.2000s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "fatal error") {
				t.Errorf("a crash:\n%.2000s", r.stderr)
			}
		})
	}
}
