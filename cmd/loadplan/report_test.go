package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/browsertest"
	"github.com/loadplan/loadplan/internal/testkit"
)

// reportSecret is a sensitive variable's value: no report, export or summary may hold it.
const reportSecret = "tok-9f8e7d6c5b4a"

// reportPlan runs two stages of closed-model load on /ok and /fail (500) with the sensitive
// token sent as a header (the server answers 401 without it, so a report that counts as many
// 200s as the server proves the secret was used), and two thresholds.
const reportPlan = `variable "host" {
  type = string
}
variable "token" {
  type      = string
  sensitive = true
}
variable "region" {
  type    = string
  default = "eu-west"
}

target "api" {
  base_url = var.host
  headers  = { Authorization = "Bearer ${var.token}" }
}

scenario "rest" {
  target     = target.api
  think_time = "20ms"
  http "ok" {
    path = "/ok"
    check { status = 200 }
  }
  http "fail" {
    path = "/fail"
  }
}

load {
  stage {
    duration = "1500ms"
    target   = 3
  }
  stage {
    duration = "1500ms"
    target   = 3
  }
}

threshold "http_req_failed" { condition = "rate < 0.6" }
threshold "http_req_duration{step=ok}" { condition = "p(95) < 5s" }
`

// reportPage is what report_page.js reads from one report.
type reportPage struct {
	Verdict, Requests, Failures, Title, Text string
	Charts                                   []struct {
		Key    string
		X      int
		Points []int
		Sums   []float64
	}
	Steps, Thresholds, Vars [][]string
	Log                     browsertest.Log
}

// openReports opens the report files in Chromium (report_page.js).
func openReports(t *testing.T, files ...string) []reportPage {
	t.Helper()
	var urls []string
	for _, f := range files {
		urls = append(urls, "file://"+f)
	}
	var res struct{ Pages []reportPage }
	browsertest.Run(t, filepath.Join("testdata", "report_page.js"), 2*time.Minute, &res, urls...)
	if len(res.Pages) != len(files) {
		t.Fatalf("%d pages read, want %d", len(res.Pages), len(files))
	}
	return res.Pages
}

// TestReportOpensOfflineWithTheServersCounts runs a plan with apply --report, --summary-export
// and --segment-summary against a counting server, renders the export again with loadplan
// report, and runs the plan as two segments whose summaries loadplan report merges. Each page
// opens from file:// with no request and no console error, shows the request count the server
// received (and the export's), draws charts with points from uPlot's own data, and the secret
// is in none of the files.
func TestReportOpensOfflineWithTheServersCounts(t *testing.T) {
	browsertest.Need(t)
	srv := testkit.NewCounter(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+reportSecret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
		}
		w.Write([]byte(`{"ok":true}`))
	})
	dir := t.TempDir()
	planFile := filepath.Join(dir, "checkout.hcl")
	if err := os.WriteFile(planFile, []byte(reportPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"LOADPLAN_VAR_token=" + reportSecret}
	file := func(name string) string { return filepath.Join(dir, name) }

	r := runCLIEnv(t, env, "apply", "--no-progress", "-var", "host="+srv.URL, "--report", file("run.html"),
		"--summary-export", file("export.json"), planFile)
	if r.code != exitOK {
		t.Fatalf("apply: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	runHits := srv.Hits.Load()
	exported := exportedCount(t, file("export.json"), "http_reqs")
	if exported != float64(runHits) || runHits == 0 {
		t.Fatalf("export http_reqs %v, server received %d", exported, runHits)
	}
	if r := runCLI(t, "report", "-o", file("from-export.html"), file("export.json")); r.code != exitOK {
		t.Fatalf("report from the export: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	srv.Hits.Store(0)
	for _, seg := range []string{"1/2", "2/2"} {
		out := file("seg" + seg[:1] + ".json")
		r := runCLIEnv(t, env, "apply", "--no-progress", "-var", "host="+srv.URL, "--segment", seg, "--segment-summary", out, planFile)
		if r.code != exitOK {
			t.Fatalf("apply --segment %s: exit %d\n%s%s", seg, r.code, r.stdout, r.stderr)
		}
	}
	segHits := srv.Hits.Load()
	r = runCLIEnv(t, env, "report", "-o", file("merged.html"), "-plan", planFile, "-var", "host="+srv.URL, file("seg1.json"), file("seg2.json"))
	if r.code != exitOK {
		t.Fatalf("report from the segments: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	for _, f := range []string{"run.html", "from-export.html", "merged.html", "export.json", "seg1.json", "seg2.json"} {
		b, err := os.ReadFile(file(f))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(reportSecret)) {
			t.Errorf("%s holds the sensitive variable's value", f)
		}
		if strings.HasSuffix(f, ".html") && (!bytes.Contains(b, []byte("(sensitive)")) || bytes.Contains(b, []byte(" src=")) || bytes.Contains(b, []byte(" href="))) {
			t.Errorf("%s: the token is not shown as (sensitive), or the page refers to another file", f)
		}
	}

	pages := openReports(t, file("run.html"), file("from-export.html"), file("merged.html"))
	want := []int64{runHits, runHits, segHits}
	for i, p := range pages {
		name := []string{"apply --report", "report from the export", "report from two segments"}[i]
		if msg := p.Log.Clean(); msg != "" || len(p.Log.Requests) != 1 {
			t.Errorf("%s: %s; requests %q (want the file alone)", name, msg, p.Log.Requests)
		}
		if p.Requests != strconv.FormatInt(want[i], 10) {
			t.Errorf("%s shows %s requests; the server received %d", name, p.Requests, want[i])
		}
		if !strings.HasPrefix(p.Verdict, "PASS") || len(p.Thresholds) != 2 {
			t.Errorf("%s: verdict %q, thresholds %q; want PASS and 2 thresholds", name, p.Verdict, p.Thresholds)
		}
		var steps int64
		for _, row := range p.Steps {
			if row[0] != "total" {
				n, _ := strconv.ParseInt(strings.ReplaceAll(row[2], ",", ""), 10, 64)
				steps += n
			}
		}
		if steps != want[i] {
			t.Errorf("%s: the step rows add up to %d requests, the server received %d: %q", name, steps, want[i], p.Steps)
		}
		charts := map[string]bool{}
		for _, c := range p.Charts {
			if c.X > 0 && len(c.Points) > 0 && c.Points[0] > 0 && c.Sums[0] > 0 {
				charts[c.Key] = true
			}
		}
		if !charts["rps"] || !charts["lat"] || !charts["vus"] {
			t.Errorf("%s: charts without points: %+v", name, p.Charts)
		}
		if !strings.Contains(p.Text, "checkout") || !strings.Contains(p.Text, "eu-west") {
			t.Errorf("%s does not name the plan or show the region variable", name)
		}
	}
	// The segment summaries' timelines (what the merged charts draw) hold every request the
	// server received, bucket by bucket.
	var inTimeline int64
	for _, f := range []string{"seg1.json", "seg2.json"} {
		var seg struct {
			Timeline struct {
				Buckets []*struct{ Cells []struct{ Reqs int64 } }
			}
		}
		b, _ := os.ReadFile(file(f))
		if err := json.Unmarshal(b, &seg); err != nil {
			t.Fatal(err)
		}
		for _, bk := range seg.Timeline.Buckets {
			if bk == nil {
				continue
			}
			for _, c := range bk.Cells {
				inTimeline += c.Reqs
			}
		}
	}
	if inTimeline != segHits {
		t.Errorf("the segments' timelines hold %d requests, the server received %d", inTimeline, segHits)
	}
	t.Logf("server received %d (apply) and %d (two segments); export http_reqs %v; pages show %s, %s, %s requests",
		runHits, segHits, exported, pages[0].Requests, pages[1].Requests, pages[2].Requests)
}

// TestReportOnFullDeviceFailsTheRun: a report that could not be written completely is a result
// file like JUnit: exit 1, its path on stderr and in the summary's notes, the load untouched.
func TestReportOnFullDeviceFailsTheRun(t *testing.T) {
	srv := newCounter(t, 0)
	plan := writePlan(t, "/ok", iterations200, "")
	full := fullFile(t, "report.html")
	export := filepath.Join(t.TempDir(), "summary.json")
	r := runCLI(t, "apply", "--no-progress", "-var", "host="+srv.srv.URL, "--summary-export", export, "--report", full, plan)
	if r.code != exitRuntime {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got, want := exportedCount(t, export, "http_reqs"), float64(srv.hits.Load()); got != want || want != 200 {
		t.Errorf("summary http_reqs %v, server received %v, plan 200", got, want)
	}
	msg := full + ": write: no space left on device — the file is incomplete"
	if !strings.Contains(r.stderr, msg) || !strings.Contains(r.stdout, "! "+msg) {
		t.Errorf("stderr and the summary's notes must say %q:\nstdout:\n%s\nstderr:\n%s", msg, r.stdout, r.stderr)
	}
}

// TestReportVerbRefusesWhatItCannotRender: exports cannot be merged, and a file that is neither
// an export nor a segment summary is named.
func TestReportVerbRefusesWhatItCannotRender(t *testing.T) {
	dir := t.TempDir()
	k6 := filepath.Join(dir, "k6.json")
	os.WriteFile(k6, []byte(`{"metrics":{"http_reqs":{"count":3}},"root_group":{}}`), 0o644)
	other := filepath.Join(dir, "other.json")
	os.WriteFile(other, []byte(`{"hello":1}`), 0o644)
	out := filepath.Join(dir, "r.html")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report", k6}, exitUsage, "needs -o FILE.html"},
		{[]string{"report", "-o", out, k6}, exitRuntime, `k6.json: this summary export has no "loadplan" view`},
		{[]string{"report", "-o", out, other}, exitRuntime, "other.json: neither a summary export"},
	} {
		r := runCLI(t, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", c.args, r.code, r.stderr, c.code, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a report was written from files it could not render")
	}
}

// TestReportScreenshot makes docs/img/report.png, the README's picture of a report, when
// LOADPLAN_SCREENSHOTS=1 (skipped otherwise, so a test run never rewrites it): plans/burst.hcl
// against the demo backend, REST and WebSocket spikes scaled to 30 s, a fixed task seed, a
// 1280 px wide page. The page it shows is checked like any report.
func TestReportScreenshot(t *testing.T) {
	if os.Getenv("LOADPLAN_SCREENSHOTS") != "1" {
		t.Skip("LOADPLAN_SCREENSHOTS=1 makes docs/img/report.png")
	}
	browsertest.Need(t)
	out := filepath.Join(t.TempDir(), "burst.html")
	r := runCLI(t, "apply", "--demo", "--quiet", "--duration", "30s", "--seed", "1", "--report", out,
		filepath.Join("..", "..", "plans", "burst.hcl"))
	if r.code != exitOK && r.code != exitThreshold {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	png, err := filepath.Abs(filepath.Join("..", "..", "docs", "img", "report.png"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LOADPLAN_SCREENSHOT", png)
	p := openReports(t, out)[0]
	if msg := p.Log.Clean(); msg != "" || len(p.Charts) != 4 {
		t.Fatalf("%s; %d charts, want 4 (with WebSocket)", msg, len(p.Charts))
	}
	t.Logf("wrote %s: %s requests shown", png, p.Requests)
}
