package plan_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/plan"
)

// overridePlan has a users load with a graceful_stop of its own and an iterations scenario.
const overridePlan = `variable "host" {
  default = "http://127.0.0.1:9"
}
target "api" {
  base_url = var.host
}
load {
  model         = "users"
  graceful_stop = "5s"
  stage {
    duration = "1m"
    target   = 9
  }
}
scenario "u" {
  target = target.api
  http "a" {
    path = "/a"
  }
}
scenario "it" {
  target = target.api
  load {
    model      = "per_vu_iterations"
    vus        = 2
    iterations = 3
  }
  http "b" {
    path = "/b"
  }
}
`

func loadOverridePlan(t *testing.T) *plan.Plan {
	t.Helper()
	p, diags := plan.LoadSource("o.hcl", []byte(overridePlan), plan.Options{Env: map[string]string{}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return p
}

// TestSpawnUsersStages: the rewrite's stages for a few spawn shapes; graceful_stop is kept.
func TestSpawnUsersStages(t *testing.T) {
	for _, c := range []struct {
		vus      int
		rate     float64
		total    time.Duration
		start    int
		stages   []plan.Stage
		describe string
	}{
		{10, 2, time.Minute, 1, []plan.Stage{{Duration: 4500 * time.Millisecond, Target: 10}, {Duration: 55500 * time.Millisecond, Target: 10}}, "ramp then hold"},
		{1, 2, time.Minute, 1, []plan.Stage{{Duration: time.Minute, Target: 1}}, "one VU: no ramp"},
		{5, 1e6, time.Second, 1, []plan.Stage{{Duration: 4 * time.Microsecond, Target: 5}, {Duration: time.Second - 4*time.Microsecond, Target: 5}}, "fast spawn"},
		{3, 1, 0, 1, []plan.Stage{{Duration: 2 * time.Second, Target: 3}, {Duration: plan.HoldUntilStopped - 2*time.Second, Target: 3}}, "until stopped"},
	} {
		p := loadOverridePlan(t)
		if err := p.SpawnUsers([]string{"u"}, c.vus, c.rate, c.total); err != nil {
			t.Fatal(c.describe, err)
		}
		ld := p.Load
		if ld.StartVUs != c.start || len(ld.Stages) != len(c.stages) || ld.GracefulStop != 5*time.Second {
			t.Fatalf("%s: start %d, %d stages, graceful_stop %s", c.describe, ld.StartVUs, len(ld.Stages), ld.GracefulStop)
		}
		for i, st := range ld.Stages {
			if st.Duration != c.stages[i].Duration || st.Target != c.stages[i].Target {
				t.Errorf("%s: stage %d is %s to %g, want %s to %g", c.describe, i+1, st.Duration, st.Target, c.stages[i].Duration, c.stages[i].Target)
			}
		}
	}
}

// TestSpawnUsersRejects: bad numbers and non-users loads are errors that name the flag or the
// scenario; the plan's other loads are left alone when the selection leaves them out.
func TestSpawnUsersRejects(t *testing.T) {
	for _, c := range []struct {
		names []string
		vus   int
		rate  float64
		total time.Duration
		want  string
	}{
		{nil, 0, 1, 0, "--vus 0"},
		{nil, 2_000_000, 1, 0, "--vus 2000000"},
		{nil, 5, 0, 0, "--spawn-rate 0"},
		{nil, 5, math.NaN(), 0, "--spawn-rate NaN"},
		{nil, 5, math.Inf(1), 0, "--spawn-rate +Inf"},
		{nil, 5, 1, 3 * time.Second, "takes 4s to start, longer than --duration 3s"},
		{nil, 1_000_000, 0.01, 0, "longer than a year"},
		{nil, 5, 1, time.Minute, `scenario "it" runs model = "per_vu_iterations" (its load block at o.hcl:`},
	} {
		err := loadOverridePlan(t).SpawnUsers(c.names, c.vus, c.rate, c.total)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SpawnUsers(%v, %d, %g, %s) = %v, want %q", c.names, c.vus, c.rate, c.total, err, c.want)
		}
	}
	p := loadOverridePlan(t)
	if err := p.SpawnUsers([]string{"u"}, 5, 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	if it := p.Scenarios[1].Load; it.Model != plan.PerVUIterations || it.VUs != 2 || it.Iterations != 3 {
		t.Errorf("an unselected scenario's load changed: %+v", it)
	}
}

// TestDeclaresVariable: the pre-load look for variable "host" across a plan's files.
func TestDeclaresVariable(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	vars := write("vars.hcl", "variable \"host\" {\n  default = \"http://127.0.0.1:1\"\n}\n")
	other := write("other.hcl", "variable \"hostname\" {}\ntarget \"api\" {\n  base_url = \"http://127.0.0.1:1\"\n}\n")
	broken := write("broken.hcl", "variable \"host\" {\n")
	for _, c := range []struct {
		files        []string
		declared, ok bool
	}{
		{[]string{other, vars}, true, true},
		{[]string{other}, false, true},
		{[]string{broken}, false, false},
		{[]string{filepath.Join(dir, "missing.hcl")}, false, false},
	} {
		d, ok := plan.DeclaresVariable(c.files, "host")
		if d != c.declared || ok != c.ok {
			t.Errorf("%v: declared %v ok %v, want %v %v", c.files, d, ok, c.declared, c.ok)
		}
	}
}
