package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadplan/loadplan/plan"
)

// flowPlan is a Locust-like user: setup, weighted tasks (one with a when and a repeat),
// teardown and pacing.
const flowPlan = `
target "api" { base_url = "http://127.0.0.1:9" }
scenario "rest" {
  pacing = "2s"
  setup {
    http "login" {
      path = "/login"
      capture "token" { json = "token" }
    }
  }
  task "browse" {
    weight = 3
    http "items" { path = "/items/${vu.token}" }
  }
  task "order" {
    weight = 1.5
    when   = vu.id % 2 == 0
    repeat {
      count = 3
      http "buy" {
        path = "/buy"
        when = iter > 0
      }
    }
  }
  task "rare" {
    weight = 0.5
    http "rare" { path = "/rare" }
  }
  teardown {
    http "logout" { path = "/logout" }
  }
  load {
    vus      = 2
    duration = "10s"
  }
}
`

// TestPlanShowsTheTaskMix: plan prints setup, teardown, pacing and each task's share of the
// iterations (3 : 1.5 : 0.5 is 60%, 30%, 10%), the same in text and JSON.
func TestPlanShowsTheTaskMix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.hcl")
	if err := os.WriteFile(path, []byte(flowPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "plan", path)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"rest → target api, own load (model users), pacing 2s per VU",
		"    setup, once per VU:\n      1. http login: GET /login, captures token\n",
		"    task browse: weight 3, 60.0% of iterations\n      1. http items: GET /items/${vu.token}\n",
		"    task order: weight 1.50, 30.0% of iterations (when vu.id % 2 == 0)\n      1. repeat 3×\n" +
			"           http buy: GET /buy (when iter > 0)\n",
		"    task rare: weight 0.50, 10.0% of iterations\n",
		"    teardown, once per VU:\n      1. http logout: GET /logout\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, "plan", "-json", path)
	var s struct {
		Scenarios []struct {
			Setup, Teardown []string
			Pacing          string
			Tasks           []struct {
				Name    string
				Weight  float64
				Percent float64
				When    string
				Steps   []string
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatal(err, r.stderr)
	}
	sc := s.Scenarios[0]
	if sc.Pacing != "2s" || len(sc.Setup) != 1 || len(sc.Teardown) != 1 || len(sc.Tasks) != 3 {
		t.Fatalf("plan -json: %+v", sc)
	}
	var got []float64
	for _, tk := range sc.Tasks {
		got = append(got, tk.Percent)
	}
	if got[0] != 60 || got[1] != 30 || got[2] != 10 || sc.Tasks[1].When != "vu.id % 2 == 0" || len(sc.Tasks[1].Steps) != 2 {
		t.Errorf("tasks: %+v", sc.Tasks)
	}
}

// TestFmtAndValidateFlowBlocks: fmt aligns the new blocks as any other (an unaligned copy of
// flowPlan is rewritten to the canonical text, which validate accepts), and validate names a
// Locust word's loadplan spelling.
func TestFmtAndValidateFlowBlocks(t *testing.T) {
	dir := t.TempDir()
	messy := strings.NewReplacer("weight = 3", "weight    =   3", "  when   = vu.id", "      when = vu.id", "count = 3", "count=3").Replace(flowPlan)
	path := filepath.Join(dir, "flow.hcl")
	if err := os.WriteFile(path, []byte(messy), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "fmt", "-check", path); r.code != exitFmtCheck {
		t.Fatalf("fmt -check on an unaligned plan: exit %d", r.code)
	}
	if r := runCLI(t, "fmt", path); r.code != exitOK {
		t.Fatalf("fmt: exit %d %s", r.code, r.stderr)
	}
	got, _ := os.ReadFile(path)
	if string(got) != flowPlan {
		t.Errorf("fmt wrote\n%s\nwant\n%s", got, flowPlan)
	}
	if r := runCLI(t, "validate", path); r.code != exitOK {
		t.Errorf("validate: exit %d\n%s", r.code, r.stderr+r.stdout)
	}
	bad := filepath.Join(dir, "locust.hcl")
	if err := os.WriteFile(bad, []byte(strings.Replace(flowPlan, "pacing = \"2s\"", "wait_time = \"2s\"", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "validate", bad)
	if out := r.stdout + r.stderr; r.code != exitInvalidPlan || !strings.Contains(out, "pacing = \"2s\" (constant_pacing)") {
		t.Errorf("validate of wait_time: exit %d\n%s", r.code, out)
	}
}

// TestScenarioCostCountsTaskSteps: the resource estimate sees the steps of setup, tasks,
// repeats and teardown (flowPlan has no step outside them): one client for the one target.
func TestScenarioCostCountsTaskSteps(t *testing.T) {
	p, diags := plan.LoadSource("flow.hcl", []byte(flowPlan), plan.Options{Env: map[string]string{}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if c := scenarioCost(p.Scenarios[0], ""); c.conns != 1 {
		t.Errorf("conns = %d, want 1 (the target api)", c.conns)
	}
}
