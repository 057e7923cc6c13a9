package plan_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/loadplan/loadplan/outputs/registry"
	"github.com/loadplan/loadplan/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files of plan/testdata/invalid")

// TestInvalidPlans loads every plan in testdata/invalid, with the output kinds of
// outputs/registry (whose schemas check the output blocks), and compares its diagnostics with the
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
			p, diags := plan.LoadPlan([]string{f}, plan.Options{Env: map[string]string{}, Outputs: registry.Default.Schemas()})
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
			got := plan.RenderDiags(diags)
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
