package csv

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// TestLayoutValidated: an unknown layout is an error diagnostic at the value's line and column,
// a known one decodes into Config, and the flag form takes a LAYOUT: prefix.
func TestLayoutValidated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.hcl")
	src := `target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/" }
}

output "csv" {
  layout = "wide"
}

output "csv" {
  path   = "b.csv"
  layout = "long"
}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := plan.LoadPlan([]string{path}, plan.Options{Outputs: []*plan.OutputSchema{Kind.Schema}})
	if len(diags) != 1 || diags[0].Summary != "Unknown CSV layout" || diags[0].Subject == nil ||
		diags[0].Subject.Start.Line != 10 || diags[0].Subject.Start.Column != 12 {
		t.Fatalf("diagnostics %v, want one Unknown CSV layout at 10:12", diags)
	}
	var b plan.OutputBlock
	if err := Kind.Flag("long:results/run.csv", &b); err != nil {
		t.Fatal(err)
	}
	if got := ConfigOf(&b); got != (Config{Path: "results/run.csv", Aggregated: true, Layout: LayoutLong}) {
		t.Errorf("--out csv=long:results/run.csv gives %+v", got)
	}
	if _, err := New(Config{Layout: "wide"}, outputs.Options{}); err == nil {
		t.Error("New took layout wide")
	}
}
