package csv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/executor/httpstep"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// body is what the counting server answers: 15 bytes, as in the issue (Locust's Average Content
// Size is the body's length, not the bytes on the wire).
const body = "hello from srv\n"

// errBody is the body of a 500, as long as body: it fails every check of the step.
const errBody = "server error!!\n"

// oddBody is a 200 whose body fails the item step's body check: as long as body.
const oddBody = "hello from SRV\n"

// locustServer counts requests per path; /fail answers 500 to its first failN requests.
type locustServer struct {
	items, fail, failed, odd, plain atomic.Int64
	failN, oddN                     int64 // /fail's first failN get a 500, /items/'s first oddN another body
}

func (s *locustServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/items/"):
		if s.items.Add(1) <= s.oddN {
			s.odd.Add(1)
			w.(http.Flusher).Flush() // the head first: a chunked body, counted as decoded
			w.Write([]byte(oddBody))
			return
		}
	case r.URL.Path == "/plain":
		if s.plain.Add(1)%2 == 0 {
			w.(http.Flusher).Flush() // every other body chunked
		}
	case r.URL.Path == "/fail":
		if s.fail.Add(1) <= s.failN {
			s.failed.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(errBody))
			return
		}
	}
	w.Write([]byte(body))
}

const locustPlan = `
variable "host" {
  type = string
}
target "api" {
  base_url = var.host
}
scenario "users" {
  target = target.api
  http "item" {
    path = "/items/${iter}"
    name = "/items/[id]"
    check { status = 200 }
    check { body_contains = "srv" }
  }
  http "fail" {
    path = "/fail"
    check { status = 200 }
    check { body_contains = "hello" }
    check { body_contains = "srv" }
  }
  http "plain" {
    path = "/plain"
  }
}
load {
  model        = "shared_iterations"
  vus          = 4
  iterations   = %d
  max_duration = "1m"
}
`

// runLocust runs the real executor against srv with one CSV output cfg and returns the parsed
// Locust files: file suffix → rows (header first), as Python's csv module reads them.
func runLocust(t *testing.T, srv *httptest.Server, iterations int, cfg Config) (map[string][][]string, string) {
	t.Helper()
	p, diags := plan.LoadSource("t.hcl", fmt.Appendf(nil, locustPlan, iterations), plan.Options{Vars: map[string]string{"host": srv.URL}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	out, err := New(cfg, outputs.Options{PlanName: "t"})
	if err != nil {
		t.Fatal(err)
	}
	mgr := outputs.NewManager(out)
	if err := mgr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e, err := executor.New(executor.Config{Plan: p, Sink: mgr})
	if err != nil {
		t.Fatal(err)
	}
	res := e.Run(context.Background())
	if err := mgr.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	var paths []string
	for _, suffix := range locustSuffixes {
		paths = append(paths, out.StatsPrefix()+suffix)
	}
	parsed := pyCSV(t, true, paths...)
	files := map[string][][]string{}
	for i, suffix := range locustSuffixes {
		files[suffix] = parsed[paths[i]]
	}
	return files, out.StatsPrefix()
}

// pyCSV reads the files at paths with Python's csv module (the reader of the scripts that read
// Locust's files), all in one python3 (its start is the slow part), and checks that every line
// ends in CRLF, as Python's csv.writer ends them (Locust's own exceptions file has line breaks
// inside a quoted traceback: wantCRLF false).
func pyCSV(t *testing.T, wantCRLF bool, paths ...string) map[string][][]string {
	t.Helper()
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if n, crlf := bytes.Count(raw, []byte("\n")), bytes.Count(raw, []byte("\r\n")); wantCRLF && (n == 0 || n != crlf) {
			t.Errorf("%s: %d line ends, %d of them CRLF", filepath.Base(path), n, crlf)
		}
	}
	py := "/usr/bin/python3" // not a version manager's shim, which takes a second to start
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			t.Fatalf("python3 is needed to read the files as Locust's readers do: %v", err)
		}
	}
	cmd := exec.Command(py, append([]string{"-c", `import csv, json, sys
out = {}
for p in sys.argv[1:]:
    with open(p, newline="") as f:
        out[p] = list(csv.reader(f, strict=True))
print(json.dumps(out))`}, paths...)...)
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python csv reading %q: %v", paths, err)
	}
	var files map[string][][]string
	if err := json.Unmarshal(stdout, &files); err != nil {
		t.Fatal(err)
	}
	return files
}

// locustFixture reads the files captured from a real Locust run (testdata/locust-2.12.1/README.md),
// by suffix.
func locustFixture(t *testing.T) map[string][][]string {
	t.Helper()
	var paths []string
	for _, suffix := range locustSuffixes {
		paths = append(paths, filepath.Join("testdata", "locust-2.12.1", "run"+suffix))
	}
	files := pyCSV(t, false, paths...)
	out := map[string][][]string{}
	for i, suffix := range locustSuffixes {
		out[suffix] = files[paths[i]]
	}
	return out
}

// locustSuffixes are the four files' name endings.
var locustSuffixes = []string{"_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv"}

// shape classifies a field as Python printed it: an int, a float (repr), N/A, empty or text.
func shape(v string) string {
	switch {
	case v == "":
		return "empty"
	case v == "N/A":
		return "N/A"
	}
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return "int"
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil && strings.Contains(v, ".") {
		return "float"
	}
	return "text"
}

// shapes returns the shapes of row's fields; the median column (at index median) is a number
// either way: Locust's is a whole bucket, or its min or max (floats) when the bucket lies
// outside them, as with loopback's sub-millisecond times.
func shapes(row []string, median int) []string {
	out := make([]string, len(row))
	for i, v := range row {
		out[i] = shape(v)
		if i == median && (out[i] == "int" || out[i] == "float") {
			out[i] = "number"
		}
	}
	return out
}

func find(rows [][]string, name string) []string {
	for _, r := range rows[1:] {
		if len(r) > 1 && r[1] == name {
			return r
		}
	}
	return nil
}

// TestLocustFilesDropIn: against a counting server, the four files parse with Python's csv
// module, their headers and the Aggregated row's layout are Locust 2.x's (a real Locust run's
// files in testdata), the request counts are the server's per name, a failed request is one
// failure (48 failed requests with three failed checks each: one row, Occurrences 48; 5 bodies
// failing one check: one row, 5), and the content size is the body's length.
func TestLocustFilesDropIn(t *testing.T) {
	t.Run("h1", func(t *testing.T) { testLocustFiles(t) })
	t.Run("net/http", func(t *testing.T) {
		httpstep.SetFastPath(false) // the body counted by the other client
		defer httpstep.SetFastPath(true)
		testLocustFiles(t)
	})
}

func testLocustFiles(t *testing.T) {
	ls := &locustServer{failN: 48, oddN: 5}
	srv := httptest.NewServer(ls)
	defer srv.Close()
	files, _ := runLocust(t, srv, 200, Config{Path: filepath.Join(t.TempDir(), "run.csv"), Aggregated: true})

	fx := locustFixture(t)
	for suffix, rows := range files {
		if want := fx[suffix][0]; !slices.Equal(rows[0], want) {
			t.Errorf("%s header\n got %q\nwant %q", suffix, rows[0], want)
		}
	}
	stats := files["_stats.csv"]
	agg, wantAgg := stats[len(stats)-1], fx["_stats.csv"]
	if got, want := shapes(agg, 4), shapes(wantAgg[len(wantAgg)-1], 4); !slices.Equal(got, want) {
		t.Errorf("Aggregated row %q\n layout %v\n Locust %v", agg, got, want)
	}
	hist := files["_stats_history.csv"]
	wantHist := fx["_stats_history.csv"]
	if got, want := shapes(hist[len(hist)-1], 19), shapes(wantHist[len(wantHist)-1], 19); !slices.Equal(got, want) {
		t.Errorf("last history row %q\n layout %v\n Locust %v", hist[len(hist)-1], got, want)
	}
	if last := hist[len(hist)-1]; last[3] != "Aggregated" || last[17] != strconv.Itoa(int(ls.items.Load()+ls.fail.Load()+ls.plain.Load())) {
		t.Errorf("last history row %q: want Aggregated with Total Request Count %d", last, ls.items.Load()+ls.fail.Load()+ls.plain.Load())
	}

	// (/plain has no body check: its body is read and dropped, and still counted)
	want := map[string][2]int64{"/items/[id]": {ls.items.Load(), ls.odd.Load()}, "/fail": {ls.fail.Load(), ls.failed.Load()}, "/plain": {ls.plain.Load(), 0}}
	if ls.items.Load() != 200 || ls.odd.Load() != 5 || ls.fail.Load() != 200 || ls.failed.Load() != 48 || ls.plain.Load() != 200 {
		t.Fatalf("server saw %d items (%d odd), %d fail (%d failed), %d plain", ls.items.Load(), ls.odd.Load(), ls.fail.Load(), ls.failed.Load(), ls.plain.Load())
	}
	for name, w := range want {
		r := find(stats, name)
		if r == nil {
			t.Fatalf("no row %q in %q", name, stats)
		}
		if r[0] != "GET" || r[2] != strconv.FormatInt(w[0], 10) || r[3] != strconv.FormatInt(w[1], 10) {
			t.Errorf("row %q: want GET with %d requests, %d failures (the server's)", r, w[0], w[1])
		}
		if r[8] != "15.0" {
			t.Errorf("row %q: Average Content Size %s, want 15.0 (the body's length)", r[1], r[8])
		}
	}
	if agg[0] != "" || agg[1] != "Aggregated" || agg[2] != "600" || agg[3] != "53" || agg[8] != "15.0" {
		t.Errorf("Aggregated row %q: want 600 requests, 53 failures, content 15.0", agg)
	}

	// One row per (method, name, error): the 48 500s (three failed checks each) and the 5 odd
	// bodies (a failed check each), with the server's counts.
	fails := files["_failures.csv"]
	want500 := []string{"GET", "/fail", "HTTPError('500 Server Error: Internal Server Error for url: /fail')", "48"}
	if len(fails) != 3 || !slices.Equal(fails[1], want500) {
		t.Fatalf("failures %q\nwant 2 rows, the first %q", fails, want500)
	}
	if r := fails[2]; r[0] != "GET" || r[1] != "/items/[id]" || !strings.HasPrefix(r[2], "CatchResponseError('check failed: ") ||
		!strings.Contains(r[2], "srv") || r[3] != "5" {
		t.Errorf("failures row %q: want GET /items/[id] CatchResponseError('check failed: <the srv check>') 5", r)
	}
	if len(files["_exceptions.csv"]) != 1 {
		t.Errorf("exceptions %q, want the header only", files["_exceptions.csv"])
	}
}
