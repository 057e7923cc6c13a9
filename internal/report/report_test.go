package report_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/internal/report"
	"github.com/loadplan/loadplan/internal/testkit"
	"github.com/loadplan/loadplan/internal/webview"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/run"
)

const secret = "pw-31337-never-shown"

const segPlan = `variable "host" {
  type = string
}
variable "password" {
  type      = string
  sensitive = true
}

target "api" {
  base_url = var.host
}

scenario "rest" {
  target = target.api
  http "login" {
    method = "POST"
    path   = "/login"
    json   = { password = var.password }
  }
}

load {
  model      = "shared_iterations"
  vus        = 2
  iterations = 60
}

threshold "http_reqs" { condition = "count > 1000" }
`

// segments runs segPlan as two segments against a counting server and returns their summary
// files and the requests the server received.
func segments(t *testing.T) ([]string, int64, *plan.Plan) {
	t.Helper()
	srv := testkit.NewCounter(t, nil)
	dir := t.TempDir()
	var files []string
	var p *plan.Plan
	for i := 1; i <= 2; i++ {
		var diags hcl.Diagnostics
		p, diags = plan.LoadSource(filepath.Join(dir, "login.hcl"), []byte(segPlan),
			plan.Options{Vars: map[string]string{"host": srv.URL, "password": secret}, Instances: 2})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		out := filepath.Join(dir, "seg"+string(rune('0'+i))+".json")
		r, err := run.New(p, run.Config{Name: "login", Segment: executor.Segment{Index: i, Total: 2}, SegmentSummary: out, Version: "v-test"})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if res := r.Wait(); res.Incomplete != nil {
			t.Fatal(res.ReportErr)
		}
		files = append(files, out)
	}
	return files, srv.Hits.Load(), p
}

// TestSegmentsMergeIntoOneView: two segments' summaries make one View with the server's count,
// the variables as the segments ran them (the password hidden), and, without the plan, no
// threshold judged and a note saying how to judge them; with it, the fleet's verdict.
func TestSegmentsMergeIntoOneView(t *testing.T) {
	files, hits, p := segments(t)
	if hits != 60 {
		t.Fatalf("server received %d requests, want 60 (the segments share 60 iterations)", hits)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), secret) {
			t.Fatalf("%s holds the password", f)
		}
	}
	v, err := report.Load(files, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Totals.Requests != uint64(hits) || len(v.Steps) != 1 || v.Steps[0].Requests != uint64(hits) {
		t.Fatalf("merged view: %d requests, steps %+v; the server received %d", v.Totals.Requests, v.Steps, hits)
	}
	if len(v.Thresholds) != 0 || !strings.Contains(strings.Join(v.Notes, "\n"), "thresholds not judged") || v.Meta.Verdict != 0 {
		t.Fatalf("without the plan: thresholds %+v, notes %q, verdict %d", v.Thresholds, v.Notes, v.Meta.Verdict)
	}
	vars := map[string]string{}
	for _, x := range v.Meta.Vars {
		vars[x.Name] = x.Value
	}
	if vars["password"] != webview.Sensitive || !strings.HasPrefix(vars["host"], "http://127.0.0.1:") || v.Meta.Plan != "login" || v.Meta.Version != "v-test" {
		t.Fatalf("meta %+v", v.Meta)
	}
	var inTimeline float64
	all := v.Timeline.Series[0]
	for i := range v.Timeline.T {
		if all.RPS[i] > 0 {
			inTimeline++
		}
	}
	if inTimeline == 0 {
		t.Fatal("the merged timeline has no point with requests")
	}

	v, err = report.Load(files, report.Options{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Thresholds) != 1 || v.Thresholds[0].Pass || v.Meta.Verdict != run.ExitThreshold || v.Meta.Status != "thresholds failed" {
		t.Fatalf("with the plan: thresholds %+v, verdict %d %q; want count > 1000 failed over the fleet (60), 99", v.Thresholds, v.Meta.Verdict, v.Meta.Status)
	}
	if _, err := report.Load(append(files, files[0]), report.Options{}); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Fatalf("a segment given twice: %v", err)
	}
}
