package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanShowsProxy: `loadplan plan` says which target goes through a proxy and that the fast
// path is off for it, with the proxy's credentials masked; a loopback target is not proxied
// from the environment, and says nothing.
func TestPlanShowsProxy(t *testing.T) {
	file := filepath.Join(t.TempDir(), "p.hcl")
	src := `
target "far" {
  base_url = "http://api.test:8080"
}
target "near" {
  base_url = "http://127.0.0.1:8080"
}
scenario "s" {
  http "a" {
    target = target.far
    path   = "/"
  }
  http "b" {
    target = target.near
    path   = "/"
  }
}
`
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLIEnv(t, []string{"HTTP_PROXY=http://alice:hunter2@127.0.0.1:3128", "NO_PROXY="}, "plan", file)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "hunter2") || strings.Contains(r.stdout+r.stderr, "alice") {
		t.Errorf("plan output shows the proxy's credentials:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "via proxy http://xxxxx@127.0.0.1:3128") || !strings.Contains(r.stdout, "fast HTTP/1.1 path is off") {
		t.Errorf("plan output does not say far goes through the proxy:\n%s", r.stdout)
	}
	if n := strings.Count(r.stdout, "via proxy"); n != 1 {
		t.Errorf("%d targets shown through a proxy, want 1 (loopback is not proxied):\n%s", n, r.stdout)
	}
}
