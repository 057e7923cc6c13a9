// Package bench holds the benchmark harness of `make bench`: the target server (bench/server),
// the measuring program (bench/harness), the plans it runs (bench/plans) and bench/RESULTS.md.
package bench

import (
	"path/filepath"
	"testing"

	"github.com/loadplan/loadplan/plan"
)

// TestPlansLoad checks that every plan the harness runs is valid, so a change in the plan
// language breaks here and not halfway through a 15-minute benchmark run.
func TestPlansLoad(t *testing.T) {
	files, err := filepath.Glob("plans/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 6 {
		t.Fatalf("found %d bench plans, want at least 6", len(files))
	}
	for _, f := range files {
		p, diags := plan.LoadPlan([]string{f}, plan.Options{})
		if diags.HasErrors() {
			t.Errorf("%s: %s", f, diags.Error())
			continue
		}
		if len(p.Scenarios) != 1 || p.Load == nil {
			t.Errorf("%s: want one scenario and a plan-level load, got %d scenarios, load %v", f, len(p.Scenarios), p.Load)
		}
	}
}
