package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/browsertest"
	"github.com/loadplan/loadplan/internal/testkit"
)

// screenshot returns where a browser test saves the README's picture: docs/img/NAME under
// LOADPLAN_SCREENSHOTS=1, "" otherwise.
func screenshot(t *testing.T, name string) string {
	if os.Getenv("LOADPLAN_SCREENSHOTS") != "1" {
		return ""
	}
	abs, err := filepath.Abs(filepath.Join("..", "..", "docs", "img", name))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// uiProcess is the loadplan binary serving a web UI, its stderr collected.
type uiProcess struct {
	cmd  *exec.Cmd
	url  string
	mu   sync.Mutex // guards errb, written by the stderr reader
	errb strings.Builder
	out  strings.Builder
	read chan struct{} // closed when stderr is drained
}

// startUI starts the binary with args and waits (up to 30 s) for the "web UI: URL" line.
func startUI(t *testing.T, ctx context.Context, args ...string) *uiProcess {
	t.Helper()
	p := &uiProcess{cmd: exec.CommandContext(ctx, testkit.Binary(t), args...), read: make(chan struct{})}
	p.cmd.Stdout = &p.out
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		defer close(p.read)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.errb.WriteString(line + "\n")
			p.mu.Unlock()
			if rest, ok := strings.CutPrefix(line, "web UI: "); ok && p.url == "" {
				p.url = strings.Fields(rest)[0]
				urls <- p.url
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case <-urls:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("no web UI address printed in 30 s:\n%s", p.stderr())
	}
	return p
}

func (p *uiProcess) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errb.String()
}

// wait waits for the process and returns its exit code.
func (p *uiProcess) wait(t *testing.T) int {
	t.Helper()
	err := p.cmd.Wait()
	<-p.read
	return exitCode(t, err)
}

// TestApplyUIInChromium: `apply --ui` watched in Chromium during a run against a counting server:
// the page loads nothing from the network and logs no error, its charts draw points, its Stop
// button stops the run as the first Ctrl-C does (exit 105, summary and files written), and its
// table's final request count equals the summary export's and the server's.
func TestApplyUIInChromium(t *testing.T) {
	browsertest.Need(t)
	srv := newCounter(t, 2*time.Millisecond)
	file := writePlan(t, "/ok", `load {
  model    = "users"
  vus      = 4
  duration = "2m"
}`, `threshold "http_req_duration" {
  condition = "p(95) < 10s"
}`)
	dir := t.TempDir()
	export, junit, page := filepath.Join(dir, "summary.json"), filepath.Join(dir, "junit.xml"), filepath.Join(dir, "report.html")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := startUI(t, ctx, "apply", "--ui", "127.0.0.1:0", "--ui-linger", "--no-progress", "-var", "host="+srv.srv.URL,
		"--summary-export", export, "--junit", junit, "--report", page, "--out", "csv=locust:"+dir+"/", file)

	var res struct {
		During struct {
			State       string           `json:"state"`
			Frames      int              `json:"frames"`
			Points      map[string][]int `json:"points"`
			StopEnabled bool             `json:"stopEnabled"`
		} `json:"during"`
		After struct {
			Total           float64  `json:"total"`
			Table           float64  `json:"table"`
			Badge           string   `json:"badge"`
			Verdict         string   `json:"verdict"`
			Files           []string `json:"files"`
			Summary         string   `json:"summary"`
			StopDisabled    bool     `json:"stopDisabled"`
			Downloaded      string   `json:"downloaded"`
			DownloadFailure any      `json:"downloadFailure"`
		} `json:"after"`
		Log browsertest.Log `json:"log"`
	}
	browsertest.Run(t, filepath.Join("testdata", "browser", "ui_live.js"), 90*time.Second, &res, p.url, screenshot(t, "ui-live.png"))
	// --ui-linger kept the page (and its downloads) up after the run; Ctrl-C ends it.
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t)
	if msg := res.Log.Clean(); msg != "" {
		t.Errorf("the page was not clean:\n%s", msg)
	}
	if code != exitInterrupted {
		t.Fatalf("exit %d after the page's Stop, want 105\nstderr:\n%s", code, p.stderr())
	}
	if res.During.State != "running" || !res.During.StopEnabled || res.During.Frames < 3 {
		t.Errorf("during the run: %+v", res.During)
	}
	// requests/s, latency p50/p95/p99 and VUs must have drawn points above zero (failures/s,
	// iterations/s of a plan without failures or with long iterations may stay at zero).
	for chart, series := range map[string][]int{"rps": {0}, "lat": {0, 1, 2}, "vus": {0}} {
		for _, i := range series {
			if p := res.During.Points[chart]; len(p) <= i || p[i] == 0 {
				t.Errorf("chart %s series %d drew no point: %v", chart, i, res.During.Points)
			}
		}
	}
	hits := float64(srv.hits.Load())
	if got := exportedCount(t, export, "http_reqs"); hits == 0 || res.After.Table != hits || res.After.Total != hits || got != hits {
		t.Fatalf("final requests: page table %v, total %v, summary export %v, server %v", res.After.Table, res.After.Total, got, hits)
	}
	t.Logf("server saw %v requests; the page's table %v, its total %v, the summary export %v; %d frames during the run; charts' points %v",
		hits, res.After.Table, res.After.Total, exportedCount(t, export, "http_reqs"), res.During.Frames, res.During.Points)
	if !strings.Contains(res.After.Verdict, "105") || !strings.Contains(res.After.Badge, "exit 105") || !res.After.StopDisabled {
		t.Errorf("final verdict %q, view's badge %q, stop disabled %v", res.After.Verdict, res.After.Badge, res.After.StopDisabled)
	}
	if !strings.Contains(res.After.Summary, "interrupted") || !strings.Contains(p.out.String(), "interrupted") {
		t.Errorf("the summary (page and stdout) does not say the run was interrupted:\n%s", res.After.Summary)
	}
	want := map[string]bool{"summary.json": false, "junit.xml": false, "report.html": false}
	for _, f := range res.After.Files {
		if _, ok := want[f]; ok {
			want[f] = true
		}
		if strings.HasSuffix(f, "_stats.csv") {
			want["_stats.csv"] = true
		}
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the page offers %s, which is not in the run's folder: %v", f, err)
		}
	}
	for f, ok := range want {
		if !ok {
			t.Errorf("the page offers no %s; it offers %v", f, res.After.Files)
		}
	}
	if res.After.Downloaded != res.After.Files[0] || res.After.DownloadFailure != nil {
		t.Errorf("download of %s: got %q, failure %v", res.After.Files[0], res.After.Downloaded, res.After.DownloadFailure)
	}
}

// TestUIFormInChromium: `loadplan ui FOLDER` in Chromium: the invalid plan shows its diagnostics,
// the valid one started from the form (host, users, run time) runs against the counting server
// and lands in the history as passed, with the server's request count; its files are in the run's
// folder under --results; Ctrl-C then ends the process with 0.
func TestUIFormInChromium(t *testing.T) {
	browsertest.Need(t)
	srv := newCounter(t, time.Millisecond)
	folder := t.TempDir()
	ok := `variable "host" {
  type    = string
  default = "http://127.0.0.1:1"
}
` + strings.SplitN(testkit.PlanSource("/ok", `load {
  model    = "users"
  vus      = 10
  duration = "10m"
}`, ""), "}\n", 2)[1]
	if err := os.WriteFile(filepath.Join(folder, "ok.hcl"), []byte(ok), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "bad.hcl"), []byte("scenario \"x\" {\n  nope = 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	results := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := startUI(t, ctx, "ui", "--addr", "127.0.0.1:0", "--results", results, folder)
	var res struct {
		Invalid   string `json:"invalid"`
		HostLabel string `json:"hostLabel"`
		Row       struct {
			Code     int      `json:"code"`
			Cells    []string `json:"cells"`
			Requests float64  `json:"requests"`
			Files    []string `json:"files"`
		} `json:"row"`
		StartEnabled bool            `json:"startEnabled"`
		Log          browsertest.Log `json:"log"`
	}
	browsertest.Run(t, filepath.Join("testdata", "browser", "ui_session.js"), 90*time.Second, &res, p.url, srv.srv.URL, screenshot(t, "ui-session.png"))
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 {
		t.Errorf("loadplan ui exit %d after Ctrl-C, want 0\n%s", code, p.stderr())
	}
	if msg := res.Log.Clean(); msg != "" {
		t.Errorf("the page was not clean:\n%s", msg)
	}
	if !strings.Contains(res.Invalid, "bad.hcl line 2") || !strings.HasPrefix(res.HostLabel, "Host") {
		t.Errorf("invalid plan shown as %q; first variable %q", res.Invalid, res.HostLabel)
	}
	hits := float64(srv.hits.Load())
	if res.Row.Code != 0 || hits == 0 || res.Row.Requests != hits || !res.StartEnabled {
		t.Fatalf("history row %+v (start enabled %v); server saw %v", res.Row, res.StartEnabled, hits)
	}
	t.Logf("server saw %v requests; the history row %v (exit %d)", hits, res.Row.Requests, res.Row.Code)
	if !strings.Contains(strings.Join(res.Row.Cells, " "), "--vus 2 --duration 2s") {
		t.Errorf("the history does not show the form's choices: %v", res.Row.Cells)
	}
	runs, _ := filepath.Glob(filepath.Join(results, "ok-*", "summary.json"))
	if len(runs) != 1 {
		t.Fatalf("run folders with a summary: %v", runs)
	}
	if got := exportedCount(t, runs[0], "http_reqs"); got != hits {
		t.Fatalf("the run's summary export has %v requests, the server saw %v", got, hits)
	}
	stats, _ := filepath.Glob(filepath.Join(filepath.Dir(runs[0]), "*_stats.csv"))
	if len(stats) != 1 || len(res.Row.Files) < 4 {
		t.Fatalf("Locust stats files %v; the history links %v", stats, res.Row.Files)
	}
	if fi, err := os.Stat(filepath.Join(filepath.Dir(runs[0]), "report.html")); err != nil || fi.Size() == 0 ||
		!strings.Contains(strings.Join(res.Row.Files, " "), "report.html") {
		t.Fatalf("the run's HTML report (%v) is not written or not linked from the history: %v", err, res.Row.Files)
	}
}
