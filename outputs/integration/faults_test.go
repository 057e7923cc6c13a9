package integration

import (
	"bytes"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
)

// These tests run the built loadplan binary, as a user would, against a counting test server.

// counting is a loopback test server (testkit.Counter) that counts the requests it receives.
func counting(t *testing.T) (*httptest.Server, *atomic.Int64) {
	c := testkit.NewCounter(t, nil)
	return c.Server, &c.Hits
}

// ratePlan is an open-model plan: 40 iterations/s of one request for 5 s, 200 in all.
const ratePlan = `
variable "host" {
  type = string
}

target "api" {
  base_url = var.host
}

scenario "ping" {
  target = target.api
  http "ping" {
    path = "/ping"
    check {
      status = 200
    }
  }
}

load {
  model             = "arrival_rate"
  rate              = 40
  duration          = "5s"
  pre_allocated_vus = 20
}
`

func writePlan(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "rate.hcl")
	if err := os.WriteFile(path, []byte(ratePlan), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCmd runs cmd and returns its exit code and combined output; -1 when it could not run.
func runCmd(cmd *exec.Cmd) (int, string) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return exitOf(cmd.Run(), &out)
}

// exitOf returns the exit code of a command that ended with err, and its output.
func exitOf(err error, out *bytes.Buffer) (int, string) {
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	case err != nil:
		return -1, err.Error()
	}
	return 0, out.String()
}

// apply runs the binary and returns its exit code and output.
func apply(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	code, out := runCmd(cmd)
	if code == -1 {
		t.Fatal(out)
	}
	return code, out
}

func TestPrometheusPortInUseExits1BeforeAnyRequest(t *testing.T) {
	bin := testkit.Binary(t)
	srv, hits := counting(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	code, out := apply(t, exec.Command(bin, "apply", "--quiet", "-var", "host="+srv.URL,
		"--out", "prometheus="+busy.Addr().String(), writePlan(t)))
	if code != 1 || hits.Load() != 0 {
		t.Fatalf("exit %d with %d requests sent, want 1 and 0:\n%s", code, hits.Load(), out)
	}
	if !strings.Contains(out, busy.Addr().String()) {
		t.Errorf("the message does not name the address:\n%s", out)
	}
}

func TestCSVNotWritableExits1BeforeAnyRequest(t *testing.T) {
	bin := testkit.Binary(t)
	srv, hits := counting(t)
	blocker := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(blocker, []byte("x"), 0o644)
	code, out := apply(t, exec.Command(bin, "apply", "--quiet", "-var", "host="+srv.URL,
		"--out", "csv="+filepath.Join(blocker, "results")+"/", writePlan(t)))
	if code != 1 || hits.Load() != 0 {
		t.Fatalf("exit %d with %d requests sent, want 1 and 0:\n%s", code, hits.Load(), out)
	}
}

func TestInfluxUnreachableExits1BeforeAnyRequest(t *testing.T) {
	bin := testkit.Binary(t)
	srv, hits := counting(t)
	closed, err := freeAddr() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	code, out := apply(t, exec.Command(bin, "apply", "--quiet", "-var", "host="+srv.URL,
		"--out", "influxdb=http://"+closed+"/loadplan", writePlan(t)))
	if code != 1 || hits.Load() != 0 {
		t.Fatalf("exit %d with %d requests sent, want 1 and 0:\n%s", code, hits.Load(), out)
	}
	if !strings.Contains(out, closed) {
		t.Errorf("the message does not name the server:\n%s", out)
	}
}

// TestInfluxKilledMidRun kills InfluxDB while an open-model run is going: the run keeps its
// schedule (exactly the planned 200 requests, no saturation exit), exits 0, and the summary
// reports the dropped points.
func TestInfluxKilledMidRun(t *testing.T) {
	bin := testkit.Binary(t)
	path := findBinary("influxd")
	if path == "" {
		need(t, nil)
	}
	influx, err := startInflux(path, filepath.Join(t.TempDir(), "influx"))
	if err != nil {
		t.Fatal(err)
	}
	defer influx.stop()
	srv, hits := counting(t)
	export := filepath.Join(t.TempDir(), "summary.json")
	csvPath := filepath.Join(t.TempDir(), "run.csv")
	cmd := exec.Command(bin, "apply", "--no-progress", "-var", "host="+srv.URL, "--summary-export", export,
		"--out", "influxdb="+influx.url()+"/"+influxDB, "--out", "csv="+csvPath, writePlan(t))
	done := make(chan struct{})
	var code int
	var out string
	go func() { defer close(done); code, out = runCmd(cmd) }()
	// Kill the server once it holds points of this run (so writing worked), while requests are
	// still being sent.
	for written := false; !written; {
		select {
		case <-done:
			t.Fatalf("the run ended before InfluxDB was killed:\n%s", out)
		case <-time.After(50 * time.Millisecond):
		}
		res, err := influxQuery(influx, `SELECT count("value") FROM "http_reqs" WHERE "testid" = 'rate'`)
		written = err == nil && influxHasValue(res)
	}
	influx.stop()
	killedAt := hits.Load()
	<-done
	t.Logf("influxd killed after %d requests; output:\n%s", killedAt, out)
	if code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	if killedAt >= 200 {
		t.Fatalf("InfluxDB was killed only after the last request")
	}
	if hits.Load() != 200 {
		t.Errorf("server saw %d requests, want the 200 scheduled", hits.Load())
	}
	if !strings.Contains(strings.ToLower(out), "dropped") {
		t.Errorf("the summary does not report dropped points")
	}
	if c := exportedCount(t, export, "http_reqs"); c != 200 {
		t.Errorf("summary http_reqs count %v, want 200", c)
	}
	if n, err := countCSV(csvPath, "http_reqs"); err != nil || n != 200 {
		t.Errorf("csv http_reqs rows %d (%v), want 200", n, err)
	}
}

// usersPlan keeps 3 VUs busy for a minute: long enough to be interrupted.
const usersPlan = `
variable "host" {
  type = string
}

target "api" {
  base_url = var.host
}

scenario "ping" {
  target     = target.api
  think_time = "5ms"
  http "ping" {
    path = "/ping"
  }
}

load {
  vus      = 3
  duration = "1m"
}
`

// TestInterruptedRunLosesNoCSVRow interrupts a run with SIGINT (as Ctrl-C does): loadplan exits
// 105 after its graceful stop, and the CSV and JSON files hold exactly as many http_reqs rows as
// the summary counted and the server received.
func TestInterruptedRunLosesNoCSVRow(t *testing.T) {
	bin := testkit.Binary(t)
	srv, hits := counting(t)
	dir := t.TempDir()
	planPath := filepath.Join(dir, "users.hcl")
	os.WriteFile(planPath, []byte(usersPlan), 0o644)
	export := filepath.Join(dir, "summary.json")
	cmd := exec.Command(bin, "apply", "--no-progress", "-var", "host="+srv.URL, "--summary-export", export,
		"--out", "csv="+filepath.Join(dir, "run.csv.gz"), "--out", "json="+filepath.Join(dir, "run.jsonl"), planPath)
	done := make(chan struct{})
	var code int
	var out string
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil { // here, not in the goroutine: cmd.Process is read below
		t.Fatal(err)
	}
	go func() { defer close(done); code, out = exitOf(cmd.Wait(), &buf) }()
	for hits.Load() < 300 {
		select {
		case <-done:
			t.Fatalf("the run ended before the interrupt:\n%s", out)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	<-done
	if code != 105 {
		t.Fatalf("exit %d, want 105:\n%s", code, out)
	}
	want := exportedCount(t, export, "http_reqs")
	if want != float64(hits.Load()) {
		t.Errorf("summary http_reqs %v, server saw %d", want, hits.Load())
	}
	if n, err := countCSV(filepath.Join(dir, "run.csv.gz"), "http_reqs"); err != nil || float64(n) != want {
		t.Errorf("csv http_reqs rows %d (%v), want %v", n, err, want)
	}
	if n, err := countJSON(filepath.Join(dir, "run.jsonl"), "http_reqs"); err != nil || float64(n) != want {
		t.Errorf("json http_reqs points %d (%v), want %v", n, err, want)
	}
}
