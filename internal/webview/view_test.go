package webview_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/browsertest"
	"github.com/loadplan/loadplan/internal/testkit"
	"github.com/loadplan/loadplan/internal/webassets"
	"github.com/loadplan/loadplan/internal/webview"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/run"
)

// secret is a sensitive variable's value: it must appear nowhere in a View or a page.
const secret = "s3cr3t-token-4711"

// viewPlan hits /ok and /fail (500) on the counting server, with a sensitive variable sent as a
// header, 200 iterations of both steps shared by 4 VUs, and two thresholds.
const viewPlan = `variable "host" {
  type = string
}
variable "token" {
  type      = string
  sensitive = true
}
variable "users" {
  type    = number
  default = 4
}

target "api" {
  base_url = var.host
  headers  = { Authorization = "Bearer ${var.token}" }
}

scenario "rest" {
  target = target.api
  http "ok" {
    path = "/ok"
    check { status = 200 }
  }
  http "fail" {
    path = "/fail"
  }
}

load {
  model      = "shared_iterations"
  vus        = var.users
  iterations = 200
}

threshold "http_req_failed" { condition = "rate < 0.01" }
threshold "http_reqs" { condition = "count > 10" }
`

// runView runs viewPlan against a counting server and returns the counter, the result and the
// views of every snapshot a subscriber received.
func runView(t *testing.T) (*testkit.Counter, *run.Result, []*webview.View) {
	t.Helper()
	srv := testkit.NewCounter(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+secret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Write([]byte(`{"ok":true,"pad":"0123456789"}`))
	})
	p, diags := plan.LoadSource(filepath.Join(t.TempDir(), "view.hcl"), []byte(viewPlan),
		plan.Options{Vars: map[string]string{"host": srv.URL, "token": secret}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	r, err := run.New(p, run.Config{Name: "view", Title: "view.hcl"})
	if err != nil {
		t.Fatal(err)
	}
	snaps, cancel := r.Subscribe(50 * time.Millisecond)
	defer cancel()
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	info := webview.Info{PlanFile: "plans/view.hcl", Version: "test"}
	done := make(chan []*webview.View)
	go func() {
		var vs []*webview.View
		for s := range snaps {
			vs = append(vs, s.View(info))
		}
		done <- vs
	}()
	res := r.Wait()
	return srv, res, <-done
}

// TestViewCountsWhatTheServerSaw builds the View of a real run, live and final: the final
// view's request totals, its step rows and its timeline's buckets all equal the requests the
// server received; the charts' series have points; the thresholds and the verdict are the run's;
// and the secret is nowhere in the JSON.
func TestViewCountsWhatTheServerSaw(t *testing.T) {
	srv, res, views := runView(t)
	hits := uint64(srv.Hits.Load())
	if hits != 400 {
		t.Fatalf("server received %d requests, want 400 (200 iterations of 2 steps)", hits)
	}
	if len(views) == 0 {
		t.Fatal("the subscriber received no snapshot")
	}
	final := views[len(views)-1]
	if !final.Meta.Final || final.Meta.Verdict != res.Code || res.Code != run.ExitThreshold {
		t.Fatalf("final view: final=%v verdict=%d; the run's code %d, want %d (the failure-rate threshold fails)",
			final.Meta.Final, final.Meta.Verdict, res.Code, run.ExitThreshold)
	}
	if final.Totals.Requests != hits || final.Totals.Failures != 200 {
		t.Fatalf("view totals: %d requests, %d failures; the server received %d, 200 answered 500", final.Totals.Requests, final.Totals.Failures, hits)
	}
	var rows, failed uint64
	for _, s := range final.Steps {
		rows += s.Requests
		failed += s.Failures
		if s.Kind != "http" || s.Requests != 200 {
			t.Errorf("step %s/%s: kind %s, %d requests; want http, 200", s.Scenario, s.Step, s.Kind, s.Requests)
		}
	}
	if rows != hits || failed != 200 || len(final.Steps) != 2 || final.Steps[0].Step != "ok" {
		t.Fatalf("step rows: %d requests, %d failed over %d rows (first %q); want %d, 200, 2, ok", rows, failed, len(final.Steps), final.Steps[0].Step, hits)
	}
	var inTimeline uint64
	for _, b := range res.Report.Timeline.Buckets {
		if b == nil {
			continue
		}
		for _, c := range b.Cells {
			inTimeline += c.Reqs
		}
	}
	if inTimeline != hits {
		t.Fatalf("the timeline's buckets hold %d requests, the server received %d", inTimeline, hits)
	}
	tl := final.Timeline
	if tl == nil || len(tl.T) == 0 || len(tl.Series) != 4 || tl.Series[0].Name != "all" {
		t.Fatalf("timeline: %+v; want buckets and 4 series (all, scenario rest, rest/fail, rest/ok)", tl)
	}
	points := 0
	for i := range tl.T {
		if tl.Series[0].RPS[i] > 0 && tl.Series[0].P95[i] >= 0 {
			points++
		}
	}
	if points == 0 {
		t.Fatal("the overall series has no point with requests and a p95")
	}
	if len(final.Thresholds) != 2 || final.Thresholds[0].Pass || !final.Thresholds[1].Pass || final.Meta.Pass {
		t.Fatalf("thresholds %+v, pass=%v; want the failure rate failed, the count passed", final.Thresholds, final.Meta.Pass)
	}
	if len(final.Checks) != 1 || final.Checks[0].Passes != 200 || final.Checks[0].Total != 200 {
		t.Fatalf("checks %+v; want 200 of 200", final.Checks)
	}
	if final.Meta.Plan != "view" || final.Meta.Version != "test" || final.Meta.Start == "" || final.Meta.End == "" {
		t.Fatalf("meta %+v", final.Meta)
	}
	vars := map[string]webview.Variable{}
	for _, v := range final.Meta.Vars {
		vars[v.Name] = v
	}
	if v := vars["token"]; v.Value != webview.Sensitive || !v.Sensitive || vars["users"].Value != "4" {
		t.Fatalf("variables %+v; want token (sensitive) and users 4", final.Meta.Vars)
	}
	for i, v := range views {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("view %d: %v", i, err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("view %d holds the secret: %s", i, b)
		}
		var back webview.View
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("view %d does not decode: %v", i, err)
		}
		if i < len(views)-1 && v.Meta.Final {
			t.Fatalf("view %d of %d is final before the last", i, len(views))
		}
	}
	var page bytes.Buffer
	if err := webview.WriteHTML(&page, final); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(page.Bytes(), []byte(secret)) || !strings.Contains(page.String(), "loadplanView.render") {
		t.Fatal("the page holds the secret, or does not render the view")
	}
}

// TestAssetsCannotCloseTheirElement guards WriteHTML's inlining: no embedded file may end the
// script or style element it is written into.
func TestAssetsCannotCloseTheirElement(t *testing.T) {
	for name, s := range map[string]string{"view.js": webview.JS, "view.css": webview.CSS,
		"uPlot.iife.min.js": webassets.UPlotJS, "uPlot.min.css": webassets.UPlotCSS, "uPlot's LICENSE": webassets.UPlotLicense} {
		if l := strings.ToLower(s); strings.Contains(l, "</script") || strings.Contains(l, "</style") {
			t.Errorf("%s holds a closing script or style tag", name)
		}
	}
}

// TestPageDrawsTheViewOffline opens the page of a real run's final View from file:// in
// Chromium: no console error, no request leaving the machine, the totals the server counted,
// and charts with points.
func TestPageDrawsTheViewOffline(t *testing.T) {
	browsertest.Need(t)
	srv, _, views := runView(t)
	final := views[len(views)-1]
	path := filepath.Join(t.TempDir(), "report.html")
	var page bytes.Buffer
	if err := webview.WriteHTML(&page, final); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Verdict, Requests, Failures, Title string
		Charts                             []struct {
			Key    string
			X      int
			Points []int
			Sums   []float64
		}
		Rows [][]string
		Vars []string
		Log  browsertest.Log
	}
	browsertest.Run(t, filepath.Join("testdata", "page.js"), 90*time.Second, &res, "file://"+path)
	if msg := res.Log.Clean(); msg != "" {
		t.Fatal(msg)
	}
	hits := srv.Hits.Load()
	if res.Requests != fmt.Sprint(hits) || !strings.HasPrefix(res.Failures, "200") {
		t.Fatalf("the page shows %s requests, %s failures; the server received %d, 200 of them answered 500", res.Requests, res.Failures, hits)
	}
	if len(res.Charts) < 3 {
		t.Fatalf("charts %+v; want requests, latency and VUs", res.Charts)
	}
	for _, c := range res.Charts {
		if c.X == 0 || len(c.Points) == 0 || c.Points[0] == 0 {
			t.Errorf("chart %s has no points: %+v", c.Key, c)
		}
	}
	t.Logf("verdict %q, charts %+v, rows %q, vars %q", res.Verdict, res.Charts, res.Rows, res.Vars)
}
