package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/compare"
	"github.com/loadplan/loadplan/internal/testkit"
	"github.com/loadplan/loadplan/internal/webview"
)

// twoStepServer serves /a and /b, each after its own delay (settable between runs), and counts
// the requests each path received.
type twoStepServer struct {
	url          string
	delayA       atomic.Int64 // nanoseconds
	delayB       atomic.Int64
	failEveryB   atomic.Int64 // answer every Nth /b request 500; 0 never
	hitsA, hitsB atomic.Int64
	failedB      atomic.Int64
}

func newTwoStepServer(t *testing.T, a, b time.Duration) *twoStepServer {
	s := &twoStepServer{}
	s.delayA.Store(int64(a))
	s.delayB.Store(int64(b))
	c := testkit.NewCounter(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a":
			s.hitsA.Add(1)
			time.Sleep(time.Duration(s.delayA.Load()))
		case "/b":
			n := s.hitsB.Add(1)
			time.Sleep(time.Duration(s.delayB.Load()))
			if every := s.failEveryB.Load(); every > 0 && n%every == 0 {
				s.failedB.Add(1)
				w.WriteHeader(http.StatusInternalServerError)
			}
		}
		w.Write([]byte(`{"ok":true}`))
	})
	s.url = c.URL
	return s
}

// comparePlan has two scenarios with loads of their own, one step each, so that a slower /b
// slows only scenario b: the closed model's pace of a is its own.
const comparePlan = `variable "host" {
  type = string
}

target "api" {
  base_url = var.host
}

scenario "a" {
  target = target.api
  http "fast" {
    path = "/a"
  }
  load {
    model      = "shared_iterations"
    vus        = 4
    iterations = 120
  }
}

scenario "b" {
  target = target.api
  http "slowed" {
    path = "/b"
  }
  load {
    model      = "shared_iterations"
    vus        = 4
    iterations = 120
  }
}
`

func writeComparePlan(t *testing.T, thresholds string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "plan.hcl")
	if err := os.WriteFile(file, []byte(comparePlan+thresholds), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// saveRun runs the plan against srv, saving its summary to file, and checks that the run's
// request counts equal the server's.
func saveRun(t *testing.T, srv *twoStepServer, plan, file string, extra ...string) result {
	t.Helper()
	a0, b0 := srv.hitsA.Load(), srv.hitsB.Load()
	args := append([]string{"apply", "--quiet", "-var", "host=" + srv.url, "--save-baseline", file}, extra...)
	r := runCLI(t, append(args, plan)...)
	if a, b := srv.hitsA.Load()-a0, srv.hitsB.Load()-b0; a != 120 || b != 120 {
		t.Fatalf("server saw /a %d, /b %d requests; want 120 each", a, b)
	}
	return r
}

func runCompareJSON(t *testing.T, base, next string) (compare.Result, result) {
	t.Helper()
	r := runCLI(t, "compare", "-json", base, next)
	var res compare.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("compare -json: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	return res, r
}

func stepOf(t *testing.T, res compare.Result, name string) compare.Step {
	t.Helper()
	for _, st := range res.Steps {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no step %s in %+v", name, res.Steps)
	return compare.Step{}
}

// pairRuns runs the plan twice at once, against srvBase and srvNew, saving each run's summary.
// Run side by side, both see the same load on the shared test machine: run one after the other,
// a change in the other processes' load shifts every latency of the second run (25–35% at p90
// was measured, same server, no change in it), which no test on the data can tell from a slower
// backend. A CI pipeline holds the machine constant instead (README).
func pairRuns(t *testing.T, srvBase, srvNew *twoStepServer, plan, base, next string) {
	t.Helper()
	rs := make([]result, 2)
	done := make(chan int, 2)
	for i, c := range []struct {
		srv  *twoStepServer
		file string
	}{{srvBase, base}, {srvNew, next}} {
		go func() {
			rs[i] = runCLI(t, "apply", "--quiet", "-var", "host="+c.srv.url, "--save-baseline", c.file, plan)
			done <- i
		}()
	}
	<-done
	<-done
	for _, r := range rs {
		if r.code != exitOK {
			t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
}

func TestCompareJudgesTheSlowedStepAlone(t *testing.T) {
	srv := newTwoStepServer(t, 40*time.Millisecond, 40*time.Millisecond)
	plan := writeComparePlan(t, "")
	dir := t.TempDir()
	base, same, slow := filepath.Join(dir, "base.json"), filepath.Join(dir, "same.json"), filepath.Join(dir, "slow.json")
	// Same plan, same server: no change, exit 0; each run's counts add up to the server's.
	pairRuns(t, srv, srv, plan, base, same)
	res, r := runCompareJSON(t, base, same)
	if r.code != exitOK || len(res.Regressions) != 0 {
		t.Fatalf("same server judged a regression: exit %d, %v\n%s", r.code, res.Regressions, r.stderr)
	}
	for name, hits := range map[string]int64{"a/fast": srv.hitsA.Load(), "b/slowed": srv.hitsB.Load()} {
		st := stepOf(t, res, name)
		if st.Base != 120 || st.New != 120 || int64(st.Base+st.New) != hits {
			t.Errorf("%s: %d and %d requests, the server saw %d", name, st.Base, st.New, hits)
		}
		t.Logf("same: %s %s %+v", name, st.Verdict, st.Rows)
	}
	// /b 30% slower on a second server: a regression of b's latency, exactly that step; exit
	// 99 naming it.
	slowSrv := newTwoStepServer(t, 40*time.Millisecond, 52*time.Millisecond)
	ref := newTwoStepServer(t, 40*time.Millisecond, 40*time.Millisecond)
	pairRuns(t, ref, slowSrv, plan, base, slow)
	for _, s := range []*twoStepServer{ref, slowSrv} {
		if s.hitsA.Load() != 120 || s.hitsB.Load() != 120 {
			t.Fatalf("server saw /a %d, /b %d; want 120 each", s.hitsA.Load(), s.hitsB.Load())
		}
	}
	res, r = runCompareJSON(t, base, slow)
	if r.code != exitThreshold {
		t.Fatalf("slowed /b: exit %d, want 99\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if st := stepOf(t, res, "a/fast"); st.Verdict == compare.Regression || st.Base != 120 || st.New != 120 {
		t.Errorf("a/fast: %s, %d and %d requests: %+v", st.Verdict, st.Base, st.New, st.Rows)
	}
	st := stepOf(t, res, "b/slowed")
	if st.Verdict != compare.Regression {
		t.Errorf("b/slowed: verdict %s, want regression: %+v", st.Verdict, st.Rows)
	}
	// The median is where 120 requests show the 12 ms for certain; a tail percentile of 120
	// requests on a shared machine may catch a stall in either run (a reference p(95) of 93 ms
	// against 45 ms was seen), so the test asks the tails for nothing.
	for _, row := range st.Rows {
		if row.Metric == "p(50)" && (row.Verdict != compare.Regression || row.Change < 0.15 || row.Change > 0.5) {
			t.Errorf("b/slowed %s: %s, change %+.1f%%; want a regression near +30%%", row.Metric, row.Verdict, 100*row.Change)
		}
	}
	for _, reg := range res.Regressions {
		if !strings.HasPrefix(reg, "b/slowed ") {
			t.Errorf("regression named outside b/slowed: %s", reg)
		}
	}
	if !strings.Contains(r.stderr, "regression: b/slowed p(") {
		t.Errorf("stderr does not name the regression:\n%s", r.stderr)
	}
	t.Logf("slow: a/fast %s, b/slowed %+v", stepOf(t, res, "a/fast").Verdict, st.Rows)
	// The HTML report of the new run, with the comparison.
	page := filepath.Join(dir, "compare.html")
	if r := runCLI(t, "compare", "-report", page, base, slow); r.code != exitThreshold {
		t.Errorf("compare -report: exit %d\n%s", r.code, r.stderr)
	}
	if c := pageComparison(t, page); len(c.Regressions) != len(res.Regressions) || c.Steps[1].Verdict != compare.Regression {
		t.Errorf("report comparison: %+v, want the regressions %v", c, res.Regressions)
	}
	// The terminal table names the step and the verdict.
	if r := runCLI(t, "compare", base, slow); r.code != exitThreshold || !strings.Contains(r.stdout, "b/slowed") || !strings.Contains(r.stdout, "regression") {
		t.Errorf("table: exit %d\n%s", r.code, r.stdout)
	}
}

// junitCases reads the JUnit file's test cases.
func junitCases(t *testing.T, file string) []struct {
	Name      string `xml:"name,attr"`
	SystemOut string `xml:"system-out"`
	Failure   *struct {
		Message string `xml:"message,attr"`
	} `xml:"failure"`
	Skipped *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
} {
	t.Helper()
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name      string `xml:"name,attr"`
				SystemOut string `xml:"system-out"`
				Failure   *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	data, err := os.ReadFile(file)
	if err != nil || xml.Unmarshal(data, &doc) != nil || len(doc.Suites) == 0 {
		t.Fatalf("junit %s: %v\n%s", file, err, data)
	}
	return doc.Suites[0].Cases
}

// TestBaselineThresholds: baseline bounds are skipped without a baseline, hold against a run of
// the same server and fail against a worse one. The error rate decides exactly (the server fails
// every 20th /b request: 6 of 120); the latency bound has a margin (2x, the server 3x slower)
// because runs made one after the other on the shared test machine differ by up to ±35% at p(95)
// with no change in the server (measured); `loadplan compare` judges the 30% slowdown.
func TestBaselineThresholds(t *testing.T) {
	srv := newTwoStepServer(t, 40*time.Millisecond, 40*time.Millisecond)
	plan := writeComparePlan(t, `
threshold "http_req_duration{step=slowed}" {
  condition = "p(95) < baseline * 2"
}

threshold "http_req_failed" {
  condition = "rate <= baseline + 0.001"
}
`)
	dir := t.TempDir()
	base, junit := filepath.Join(dir, "base.json"), filepath.Join(dir, "junit.xml")
	// Without a baseline: skipped, not passed; the run passes and is saved as the baseline.
	r := saveRun(t, srv, plan, base, "--junit", junit)
	if r.code != exitOK || !strings.Contains(r.stdout, "2 skipped") || !strings.Contains(r.stdout, "skipped: no baseline") {
		t.Fatalf("no baseline: exit %d, want 0 with the thresholds skipped\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, c := range junitCases(t, junit) {
		if c.Skipped == nil || c.Failure != nil {
			t.Errorf("junit %q: not reported skipped", c.Name)
		}
	}
	if _, err := os.Stat(base); err != nil {
		t.Fatalf("passing run saved no baseline: %v", err)
	}
	// Against its own baseline, the same server: exit 0, the comparison in JUnit and in the
	// HTML report's Comparison section, with the server's counts.
	again, page := filepath.Join(dir, "again.json"), filepath.Join(dir, "report.html")
	r = saveRun(t, srv, plan, again, "--baseline", base, "--junit", junit, "--report", page)
	if r.code != exitOK {
		t.Fatalf("same server against the baseline: exit %d, want 0\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, c := range junitCases(t, junit) {
		if c.Skipped != nil || c.Failure != nil || !strings.Contains(c.SystemOut, "vs baseline") {
			t.Errorf("junit %q: %q, want a pass that shows the baseline", c.Name, c.SystemOut)
		}
	}
	if c := pageComparison(t, page); len(c.Steps) != 2 || c.Steps[0].BaseRequests != 120 || c.Steps[0].NewRequests != 120 ||
		c.Steps[1].Name != "b/slowed" || c.Steps[1].NewRequests != 120 || len(c.Steps[1].Rows) != 6 {
		t.Errorf("report comparison: %+v", c)
	}
	// 6 of 120 /b requests fail (5% of all 240 would be 2.5%): the error-rate bound fails, exit
	// 99, JUnit shows the observed rate, the baseline and the bound; a failed run does not
	// replace the baseline.
	before, _ := os.ReadFile(base)
	srv.hitsB.Store(0)
	srv.failEveryB.Store(20)
	r = saveRun(t, srv, plan, base, "--baseline", base, "--junit", junit)
	if r.code != exitThreshold || srv.failedB.Load() != 6 {
		t.Fatalf("failing /b against the baseline: exit %d (want 99), server failed %d\n%s\n%s", r.code, srv.failedB.Load(), r.stdout, r.stderr)
	}
	wantRate := fmt.Sprintf("rate=%.2f%% vs baseline 0.00%%, bound 0.10%%", 100*float64(srv.failedB.Load())/240)
	assertOneFailure(t, junit, "http_req_failed", wantRate)
	if after, _ := os.ReadFile(base); string(after) != string(before) {
		t.Error("a failed run replaced the baseline")
	}
	// /b three times as slow, no errors: the latency bound fails.
	srv.failEveryB.Store(0)
	srv.delayB.Store(int64(120 * time.Millisecond))
	r = saveRun(t, srv, plan, again, "--baseline", base, "--junit", junit)
	if r.code != exitThreshold {
		t.Fatalf("slowed /b against the baseline: exit %d, want 99\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	assertOneFailure(t, junit, "http_req_duration{step=slowed}", "vs baseline")
}

// pageComparison reads the Comparison section's data from an HTML report.
func pageComparison(t *testing.T, page string) *webview.Comparison {
	t.Helper()
	html, err := os.ReadFile(page)
	const open = `type="application/json">`
	i := strings.Index(string(html), open)
	j := strings.Index(string(html), "</script>")
	var v webview.View
	if err != nil || i < 0 || j < i || json.Unmarshal(html[i+len(open):j], &v) != nil || v.Comparison == nil {
		t.Fatalf("report %s has no comparison (%v)", page, err)
	}
	return v.Comparison
}

// assertOneFailure checks that the JUnit file has one failed case, the named threshold's, whose
// message contains want.
func assertOneFailure(t *testing.T, junit, name, want string) {
	t.Helper()
	failed := 0
	for _, c := range junitCases(t, junit) {
		if c.Failure == nil {
			continue
		}
		failed++
		if !strings.HasPrefix(c.Name, name+":") || !strings.Contains(c.Failure.Message, want) {
			t.Errorf("junit failure %q: %s; want %s failed with %q", c.Name, c.Failure.Message, name, want)
		}
		t.Logf("junit: %s: %s", c.Name, c.Failure.Message)
	}
	if failed != 1 {
		t.Errorf("%d junit failures, want 1 (%s)", failed, name)
	}
}

// TestValidateBaselineMisuse: validate checks baseline bounds before any run, with positions.
func TestValidateBaselineMisuse(t *testing.T) {
	for _, c := range []struct {
		threshold, summary string
		line, col          int
	}{
		{`threshold "http_req_duration" {
  condition = "p(95) < baseline * 1.10"
  window    = "10s"
}`, "Baseline bound on a scoped threshold", 35, 3},
		{`threshold "http_req_duration" {
  condition = "baseline > p(95)"
}`, "Malformed threshold condition", 34, 16},
		{`threshold "http_req_duration" {
  condition = "p(95) < baseline * fast"
}`, "Malformed threshold condition", 34, 34},
	} {
		file := writeComparePlan(t, "\n"+c.threshold+"\n")
		r := runCLI(t, "validate", "-json", "-var", "host=http://127.0.0.1:1", file)
		var doc struct {
			Files []struct {
				Diagnostics []jsonDiag `json:"diagnostics"`
			} `json:"files"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != exitInvalidPlan || len(doc.Files) != 1 {
			t.Fatalf("validate: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
		}
		d := doc.Files[0].Diagnostics
		if len(d) != 1 || d[0].Summary != c.summary || d[0].Range == nil || d[0].Range.Start.Line != c.line || d[0].Range.Start.Column != c.col {
			t.Errorf("%s: diagnostics %+v, want %q at %d:%d", c.threshold, d, c.summary, c.line, c.col)
		}
	}
}
