package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestApplyEscapesNames: a step named with an ANSI colour sequence and a right-to-left override
// shows as Go escapes in the terminal summary, in every CSV file and in `loadplan plan`, never as
// the raw characters (which would recolour the terminal or make the name read backwards).
func TestApplyEscapesNames(t *testing.T) {
	srv := newCounter(t, 0)
	dir := t.TempDir()
	src := `target "api" {
  base_url = "` + srv.srv.URL + `"
}

scenario "s\u2066cen" {
  target = target.api
  http "\u001b[31mred\u202eevil" {
    path = "/fail"
    name = "/fail\u001b[0m"
    check { status = 200 }
  }
}

load {
  model      = "shared_iterations"
  vus        = 1
  iterations = 3
}
`
	file := filepath.Join(dir, "escape.hcl")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "apply", "--no-progress", "--out", "csv="+filepath.Join(dir, "csv")+"/", file)
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if n := srv.hits.Load(); n != 3 {
		t.Fatalf("the server saw %d requests, want 3", n)
	}
	pr := runCLI(t, "plan", file)
	if pr.code != exitOK {
		t.Fatalf("plan: exit %d\n%s%s", pr.code, pr.stdout, pr.stderr)
	}
	outputs := map[string]string{"stdout": r.stdout, "stderr": r.stderr, "plan": pr.stdout}
	csvs, _ := filepath.Glob(filepath.Join(dir, "csv", "*.csv"))
	if len(csvs) != 5 {
		t.Fatalf("want the raw CSV and four Locust files, have %v", csvs)
	}
	for _, f := range csvs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		outputs[filepath.Base(f)] = string(b)
	}
	const step, scen = `\x1b[31mred\u202eevil`, `s\u2066cen`
	for name, text := range outputs {
		if strings.ContainsAny(text, "\x1b\u202e\u2066") {
			t.Errorf("%s holds a raw control or bidi character:\n%q", name, text)
		}
		if name == "stderr" || strings.HasSuffix(name, "_stats_history.csv") || strings.HasSuffix(name, "_exceptions.csv") {
			continue // no names there (no iteration ended outside a request: _exceptions.csv is its header)
		}
		if strings.HasSuffix(name, "_stats.csv") || strings.HasSuffix(name, "_failures.csv") {
			// Locust's files name a request by its name tag, as Locust's name= does
			if !strings.Contains(text, `/fail\x1b[0m`) {
				t.Errorf("%s does not show the request name escaped as /fail\\x1b[0m:\n%s", name, text)
			}
			continue
		}
		if !strings.Contains(text, step) || !strings.Contains(text, scen) {
			t.Errorf("%s does not show the names escaped as %s and %s:\n%s", name, step, scen, text)
		}
	}
}

// TestApplyUnreachableSecretTarget: the start-up error for an unreachable target names its
// host:port, never the secret in the rest of its base_url.
func TestApplyUnreachableSecretTarget(t *testing.T) {
	addr := freeAddr(t)
	file := filepath.Join(t.TempDir(), "down.hcl")
	src := `target "api" {
  base_url = "http://` + addr + `/t-${env("SECRET_TOKEN")}"
}
scenario "s" {
  target = target.api
  http "a" {
    path = "/?k=${env("SECRET_TOKEN")}"
  }
}
load {
  model      = "shared_iterations"
  vus        = 1
  iterations = 1
}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLIEnv(t, []string{"SECRET_TOKEN=" + envSecret}, "apply", "--no-progress", file)
	if r.code != exitRuntime || !strings.Contains(r.stderr, addr) {
		t.Errorf("exit %d, want 1 with an error naming %s:\n%s", r.code, addr, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, envSecret) {
		t.Errorf("the secret is printed:\n%s%s", r.stdout, r.stderr)
	}
}
