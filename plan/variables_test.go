package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

const varsPlan = `
variable "host" {
  type    = string
  default = "http://127.0.0.1:1"
}
variable "users" {
  type    = number
  default = 1
}
variable "symbols" {
  type    = list(string)
  default = ["AAPL"]
}
target "api" { base_url = var.host }
scenario "s" {
  http "q" { path = "/q/${var.symbols[0]}/${length(var.symbols)}" }
}
load {
  vus      = var.users
  duration = "1s"
}
`

// loaded returns the host, users and the URL of the only step.
func loaded(t *testing.T, opts Options) (string, int, string) {
	t.Helper()
	p, diags := LoadSource("v.hcl", []byte(varsPlan), opts)
	if diags.HasErrors() {
		t.Fatalf("diagnostics:\n%s", renderDiags(diags))
	}
	u, _ := p.Scenarios[0].Steps[0].HTTP.URL.String(nil)
	return p.Targets[0].BaseURL, p.Load.StartVUs, u
}

func TestVariablePrecedence(t *testing.T) {
	dir := t.TempDir()
	f1 := filepath.Join(dir, "a.vars")
	f2 := filepath.Join(dir, "b.vars")
	if err := os.WriteFile(f1, []byte("host = \"http://127.0.0.1:3\"\nusers = 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f2, []byte("users = 4\nsymbols = [\"MSFT\", \"NVDA\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"LOADPLAN_VAR_host": "http://127.0.0.1:2", "LOADPLAN_VAR_users": "2"}

	h, u, url := loaded(t, Options{})
	eq(t, "defaults", [3]any{h, u, url}, [3]any{"http://127.0.0.1:1", 1, "http://127.0.0.1:1/q/AAPL/1"})
	h, u, _ = loaded(t, Options{Env: env})
	eq(t, "environment", [2]any{h, u}, [2]any{"http://127.0.0.1:2", 2})
	h, u, url = loaded(t, Options{Env: env, VarFiles: []string{f1, f2}})
	eq(t, "var files, later wins", [3]any{h, u, url}, [3]any{"http://127.0.0.1:3", 4, "http://127.0.0.1:3/q/MSFT/2"})
	h, u, url = loaded(t, Options{Env: env, VarFiles: []string{f1, f2},
		Vars: map[string]string{"users": "5", "symbols": `["TSLA"]`}})
	eq(t, "-var wins", [3]any{h, u, url}, [3]any{"http://127.0.0.1:3", 5, "http://127.0.0.1:3/q/TSLA/1"})
}

func TestVariableErrors(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"number from text", Options{Vars: map[string]string{"users": "many"}}, "Invalid value for variable"},
		{"wrong list", Options{Vars: map[string]string{"symbols": "[1,"}}, "Invalid value for variable"},
		{"undeclared -var", Options{Vars: map[string]string{"usres": "3"}}, `Did you mean "users"?`},
		{"missing var file", Options{VarFiles: []string{"/nonexistent/x.vars"}}, "Cannot read variables file"},
		{"negative users", Options{Vars: map[string]string{"users": "-3"}}, "Value out of range"},
		{"fractional users", Options{Env: map[string]string{"LOADPLAN_VAR_users": "2.5"}}, "Not a whole number"},
	}
	for _, c := range cases {
		_, diags := LoadSource("v.hcl", []byte(varsPlan), c.opts)
		if !diags.HasErrors() || !strings.Contains(renderDiags(diags), c.want) {
			t.Errorf("%s: want %q in\n%s", c.name, c.want, renderDiags(diags))
		}
	}
	// An unknown name in a variables file is only a warning, as in Terraform.
	f := filepath.Join(t.TempDir(), "x.vars")
	if err := os.WriteFile(f, []byte("hots = \"x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, diags := LoadSource("v.hcl", []byte(varsPlan), Options{VarFiles: []string{f}})
	if p == nil || len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || !strings.Contains(diags[0].Detail, `Did you mean "host"?`) {
		t.Errorf("undeclared var-file value: %s", renderDiags(diags))
	}
}

func TestSeveralFilesFormOnePlan(t *testing.T) {
	srcs := map[string][]byte{
		"dir/vars.hcl":      []byte(`variable "host" { default = "http://127.0.0.1:1" }`),
		"dir/targets.hcl":   []byte(`target "api" { base_url = var.host }`),
		"dir/scenarios.hcl": []byte("scenario \"s\" {\n  http \"q\" { path = \"/q\" }\n}\n"),
	}
	order := []string{"dir/vars.hcl", "dir/targets.hcl", "dir/scenarios.hcl"}
	p, files, diags := LoadSources(srcs, order, Options{})
	if diags.HasErrors() {
		t.Fatal(renderDiags(diags))
	}
	eq(t, "Files", p.Files, order)
	eq(t, "parsed files", len(files), 3)
	eq(t, "scenario target", p.Scenarios[0].Target.Name, "api")

	srcs["dir/more.hcl"] = []byte(`target "api" { base_url = "http://127.0.0.1:2" }`)
	_, _, diags = LoadSources(srcs, append(order, "dir/more.hcl"), Options{})
	if got := renderDiags(diags); !strings.Contains(got, "dir/more.hcl:1:8: error: Duplicate target name") ||
		!strings.Contains(got, "dir/targets.hcl:1,8") {
		t.Errorf("duplicate across files: %s", got)
	}
}

func TestLocals(t *testing.T) {
	src := `
variable "host" { default = "http://127.0.0.1:1" }
locals {
  base = "${local.api}/v2"
  api  = "${var.host}/api"
  n    = length(local.list)
  list = ["a", "b"]
}
target "api" { base_url = local.base }
scenario "s" {
  http "q" { path = "/n/${local.n}" }
}
`
	p, diags := LoadSource("l.hcl", []byte(src), Options{})
	if diags.HasErrors() {
		t.Fatal(renderDiags(diags))
	}
	u, _ := p.Scenarios[0].Steps[0].HTTP.URL.String(nil)
	eq(t, "url", u, "http://127.0.0.1:1/api/v2/n/2")
}

func TestUnusedFeederWarns(t *testing.T) {
	src := `
target "api" { base_url = "http://127.0.0.1:9" }
data "users" { csv = "data/users.csv" }
scenario "s" {
  http "a" { path = "/a" }
}
`
	p, diags := LoadSource("../plans/unused.hcl", []byte(src), Options{})
	if p == nil || len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || diags[0].Summary != "Unused data feeder" {
		t.Errorf("want one warning, got:\n%s", renderDiags(diags))
	}
}

func TestUnusedPlanLoadWarns(t *testing.T) {
	src := `
target "api" { base_url = "http://127.0.0.1:9" }
scenario "s" {
  http "a" { path = "/a" }
  load {
    vus      = 1
    duration = "1s"
  }
}
load {
  vus      = 2
  duration = "1s"
}
`
	p, diags := LoadSource("l.hcl", []byte(src), Options{})
	if p == nil || len(diags) != 1 || diags[0].Summary != "Unused load block" {
		t.Errorf("want one warning, got:\n%s", renderDiags(diags))
	}
}
