// Package testkit is what the tests of several packages share, so each does not keep its own copy:
// the loadplan binary built once per test process (one package's tests), and a loopback HTTP
// server that counts every request it receives, so that a test asserts loadplan's figures equal
// what the server saw. Only tests import it.
package testkit

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
)

// Counter is a loopback HTTP server (httptest, on 127.0.0.1) that counts every request it
// receives before its handler runs. It is closed when the test that made it ends.
type Counter struct {
	*httptest.Server
	Hits atomic.Int64 // requests received, answered or not
}

// NewCounter starts a Counter serving h; a nil h answers 200 with {"ok":true}.
func NewCounter(t testing.TB, h http.HandlerFunc) *Counter {
	t.Helper()
	c := &Counter{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.Hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(c.Close)
	return c
}

// binary is the loadplan command built for this test process; once guards the build.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Binary returns the path of the loadplan command, built on first use into a temporary folder
// that Run removes. A build failure fails the test with the compiler's output.
func Binary(t testing.TB) string {
	t.Helper()
	binary.once.Do(build)
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// build builds the loadplan command into a temporary folder, or records why it could not.
func build() {
	dir, err := os.MkdirTemp("", "loadplan-testkit-")
	if err != nil {
		binary.err = err
		return
	}
	binary.dir, binary.path = dir, filepath.Join(dir, "loadplan")
	out, err := exec.Command("go", "build", "-o", binary.path, "github.com/loadplan/loadplan/cmd/loadplan").CombinedOutput()
	if err != nil {
		binary.err = errors.New("go build: " + err.Error() + "\n" + string(out))
	}
}

// RunWithBinary builds the loadplan command before any test runs, then runs them as Run does.
// For packages whose tests run the binary under a timeout: a build takes most of a minute on a
// loaded CI machine, and the first test to need the binary would count it against its own run's
// timeout (TestApplyDemoPrintsServerCountsThatAgree failed so, after 61 s).
func RunWithBinary(m *testing.M) int {
	binary.once.Do(build)
	return Run(m)
}

// Run runs the tests and then removes the binary Binary built; call it from TestMain:
// os.Exit(testkit.Run(m)).
func Run(m *testing.M) int {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	return code
}

// PlanSource is the plan most CLI and run tests load: one http step GET path on target "api",
// whose base_url is the required variable host, followed by the given load and threshold blocks.
func PlanSource(path, load, thresholds string) string {
	return `variable "host" {
  type = string
}

target "api" {
  base_url = var.host
}

scenario "rest" {
  target = target.api
  http "hit" {
    path = "` + path + `"
  }
}

` + load + "\n" + thresholds + "\n"
}
