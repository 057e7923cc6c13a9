package ui

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
	"github.com/loadplan/loadplan/internal/webview"
	"github.com/loadplan/loadplan/run"
)

// exportCount reads a metric's count from a summary export.
func exportCount(t *testing.T, file, metric string) float64 {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Metrics map[string]map[string]any `json:"metrics"`
	}
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatal(err)
	}
	v, _ := ex.Metrics[metric]["count"].(float64)
	return v
}

// watchRun serves a page watching a run of load against srv, started, and finishes the page
// when the run ends; it returns the page's base URL, the run and a channel with the result.
func watchRun(t *testing.T, srv *testkit.Counter, load, export string) (string, *run.Run, chan *run.Result) {
	t.Helper()
	r := newTestRun(t, srv.URL, load, run.Config{Export: export})
	s := listen(t, "")
	page := NewPage(s, nil, 50*time.Millisecond)
	s.Serve()
	id := page.Watch(r, webview.Info{PlanName: "plan"}, "")
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan *run.Result, 1)
	go func() {
		<-r.Ended()
		res := r.Wait()
		page.Finish(id, res, "summary text", []string{export, export + ".missing"}, nil)
		done <- res
	}()
	return "http://" + s.Addr(), r, done
}

// TestEventsCarryTheRunsFigures: the stream's last frame has the figures the server saw and the
// summary export wrote, the verdict, and the export for download.
func TestEventsCarryTheRunsFigures(t *testing.T) {
	srv := testkit.NewCounter(t, nil)
	export := filepath.Join(t.TempDir(), "summary.json")
	base, _, done := watchRun(t, srv, `load {
  model    = "users"
  vus      = 2
  duration = "1s"
}`, export)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	frames := readFrames(t, ctx, base+"/events", nil, func(f frame) bool { return f.Run != nil && f.Run.Done })
	res := <-done
	last := frames[len(frames)-1]
	if !last.Run.Done || last.Run.Code != 0 || res.Code != 0 || last.Run.Verdict != "passed" {
		t.Fatalf("last frame: done %v code %d %q; run exit %d", last.Run.Done, last.Run.Code, last.Run.Verdict, res.Code)
	}
	v := decodeView(t, last.Run.View)
	hits := srv.Hits.Load()
	var steps uint64
	for _, s := range v.Steps {
		steps += s.Requests
	}
	if hits == 0 || v.Totals.Requests != uint64(hits) || steps != uint64(hits) || exportCount(t, export, "http_reqs") != float64(hits) {
		t.Fatalf("page %v requests (steps %v), export %v, server saw %v", v.Totals.Requests, steps, exportCount(t, export, "http_reqs"), hits)
	}
	if !v.Meta.Final || v.Meta.Verdict != 0 || v.Meta.Plan != "plan" {
		t.Fatalf("final view meta %+v", v.Meta)
	}
	if v.Timeline == nil || len(v.Timeline.T) == 0 || len(v.Timeline.Series) == 0 || len(v.Timeline.Series[0].RPS) != len(v.Timeline.T) {
		t.Fatalf("no points over time: %+v", v.Timeline)
	}
	if len(last.Run.Files) != 1 || last.Run.Files[0].Name != "summary.json" {
		t.Fatalf("files %v, want the export alone (the missing file left out)", last.Run.Files)
	}
	body := get(t, base+last.Run.Files[0].URL, 200)
	if want, _ := os.ReadFile(export); body != string(want) {
		t.Fatal("the downloaded export differs from the file")
	}
	for _, u := range []string{"/files/1/1", "/files/2/0", "/files/1/-1", "/files/1/..%2f..%2fetc%2fpasswd", "/files/x/0"} {
		get(t, base+u, 404)
	}
}

// TestStopButtonStopsGracefully: POST /api/stop ends the run as the first Ctrl-C does (exit 105),
// every request the server saw counted on the page and in the export; a stale id is refused.
func TestStopButtonStopsGracefully(t *testing.T) {
	srv := testkit.NewCounter(t, nil)
	export := filepath.Join(t.TempDir(), "summary.json")
	base, r, done := watchRun(t, srv, `load {
  model    = "users"
  vus      = 2
  duration = "1m"
}`, export)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	readFrames(t, ctx, base+"/events", nil, func(f frame) bool {
		return f.Run != nil && f.Run.View != nil && f.Run.View.Totals.Requests > 0
	})
	if code := post(t, base+"/api/stop", "id=7"); code != http.StatusConflict {
		t.Fatalf("stop of another run: %d, want 409", code)
	}
	if r.Status().Interrupted {
		t.Fatal("a stale stop stopped the run")
	}
	if code := post(t, base+"/api/stop", "id=1"); code != http.StatusNoContent {
		t.Fatalf("stop: %d, want 204", code)
	}
	res := <-done
	if res.Code != run.ExitInterrupted {
		t.Fatalf("exit %d after Stop, want 105", res.Code)
	}
	var f frame
	if err := json.Unmarshal([]byte(get(t, base+"/api/state", 200)), &f); err != nil {
		t.Fatal(err)
	}
	hits := srv.Hits.Load()
	if v := f.Run.View; f.Run.Code != 105 || v.Meta.Verdict != 105 || v.Totals.Requests != uint64(hits) || exportCount(t, export, "http_reqs") != float64(hits) {
		t.Fatalf("page: exit %d (view %d), %v requests; export %v; server %v", f.Run.Code, v.Meta.Verdict, v.Totals.Requests, exportCount(t, export, "http_reqs"), hits)
	}
	if code := post(t, base+"/api/stop", ""); code != http.StatusConflict {
		t.Fatalf("stop after the end: %d, want 409", code)
	}
}

// decodeView is the view as the browser gets it: through its JSON.
func decodeView(t *testing.T, v *webview.View) webview.View {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out webview.View
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func get(t *testing.T, url string, want int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %s, want %d", url, resp.Status, want)
	}
	return string(b)
}

func post(t *testing.T, url, form string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, nil)
	if form != "" {
		req, _ = http.NewRequest("POST", url, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAbortButtonCutsInFlightRequests: POST /api/abort ends a run whose requests hang at once
// (the second Ctrl-C): exit 105, the executor's result says aborted, and the page has the server's
// count (every request sent counted, none answered).
func TestAbortButtonCutsInFlightRequests(t *testing.T) {
	hang := make(chan struct{})
	srv := testkit.NewCounter(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	defer close(hang)
	export := filepath.Join(t.TempDir(), "summary.json")
	base, _, done := watchRun(t, srv, `load {
  model         = "users"
  vus           = 2
  duration      = "1m"
  graceful_stop = "1m"
}`, export)
	for srv.Hits.Load() < 2 { // both VUs wait for an answer that never comes
		time.Sleep(5 * time.Millisecond)
	}
	if code := post(t, base+"/api/abort", "id=1"); code != http.StatusNoContent {
		t.Fatalf("abort: %d, want 204", code)
	}
	res := <-done
	if res.Code != run.ExitInterrupted || !res.Executor.Aborted {
		t.Fatalf("exit %d, aborted %v; want 105 and aborted", res.Code, res.Executor.Aborted)
	}
	var f frame
	if err := json.Unmarshal([]byte(get(t, base+"/api/state", 200)), &f); err != nil {
		t.Fatal(err)
	}
	if hits := uint64(srv.Hits.Load()); f.Run.View.Totals.Requests != hits || f.Run.Code != 105 {
		t.Fatalf("page: %d requests, exit %d; the server saw %d", f.Run.View.Totals.Requests, f.Run.Code, hits)
	}
}
