package testkit

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// TestCounterCounts: every request is counted, the nil handler answers {"ok":true}, and a given
// handler answers instead — also when it fails the request.
func TestCounterCounts(t *testing.T) {
	plain := NewCounter(t, nil)
	failing := NewCounter(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for range 3 {
		resp, err := http.Get(plain.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != `{"ok":true}` {
			t.Errorf("nil handler answered %d %q", resp.StatusCode, body)
		}
	}
	resp, err := http.Get(failing.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if plain.Hits.Load() != 3 || failing.Hits.Load() != 1 || resp.StatusCode != http.StatusTeapot {
		t.Errorf("hits %d and %d (status %d), want 3 and 1 (418)", plain.Hits.Load(), failing.Hits.Load(), resp.StatusCode)
	}
	if !strings.HasPrefix(plain.URL, "http://127.0.0.1:") {
		t.Errorf("counter listens on %s, want loopback", plain.URL)
	}
}

// TestBinaryBuildsOnce: the same path every call, and it runs.
func TestBinaryBuildsOnce(t *testing.T) {
	a, b := Binary(t), Binary(t)
	if a != b {
		t.Fatalf("two builds: %s, %s", a, b)
	}
	out, err := exec.Command(a, "validate", "-h").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "Usage") {
		t.Errorf("%s validate -h: %v\n%s", a, err, out)
	}
}
