package plan

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files of plan/testdata/invalid")

// renderDiags renders diagnostics as the golden files hold them: one line per diagnostic with
// file:line:col, severity and summary, then the detail indented.
func renderDiags(diags hcl.Diagnostics) string {
	var sb strings.Builder
	for _, d := range diags {
		pos := "-"
		if d.Subject != nil {
			pos = fmt.Sprintf("%s:%d:%d", filepath.ToSlash(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column)
		}
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		fmt.Fprintf(&sb, "%s: %s: %s\n", pos, sev, d.Summary)
		if d.Detail != "" {
			fmt.Fprintf(&sb, "    %s\n", d.Detail)
		}
	}
	return sb.String()
}

// TestInvalidPlans loads every plan in testdata/invalid and compares its diagnostics with the
// golden file next to it (go test ./plan -run TestInvalidPlans -update rewrites them).
func TestInvalidPlans(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("want at least 30 invalid plans, have %d", len(files))
	}
	summaries := map[string]string{}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".hcl"), func(t *testing.T) {
			p, diags := LoadPlan([]string{f}, Options{Env: map[string]string{}})
			if !diags.HasErrors() {
				t.Fatalf("%s loaded without errors", f)
			}
			if p != nil {
				t.Errorf("an invalid plan must not be returned")
			}
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject == nil {
					t.Errorf("error without a source range: %s", d.Summary)
				}
				if d.Severity == hcl.DiagError && d.Detail == "" {
					t.Errorf("error without a detail saying how to fix it: %s", d.Summary)
				}
			}
			summaries[f] = diags[0].Summary
			got := renderDiags(diags)
			golden := strings.TrimSuffix(f, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("diagnostics differ from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}
