package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestPlanSecretsEverySource: Plan.Secrets holds a sensitive variable's value whichever way it
// was given — default, LOADPLAN_VAR_name, -var-file, -var — and the env() values, longest
// first; a value the plan does not hold (a default overridden) is not listed, nor is a
// non-sensitive variable's.
func TestPlanSecretsEverySource(t *testing.T) {
	dir := t.TempDir()
	planFile := filepath.Join(dir, "p.hcl")
	src := `
variable "token" {
  sensitive = true
  default   = "d3fault-token"
}
variable "plain" {
  default = "not-a-secret"
}
scenario "s" {
  http "a" {
    url     = "http://127.0.0.1:1/${var.plain}"
    headers = { X-Token = var.token, X-Env = env("API_KEY") }
  }
}
`
	if err := os.WriteFile(planFile, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	varFile := filepath.Join(dir, "secret.tfvars")
	if err := os.WriteFile(varFile, []byte("token = \"fr0m-var-file\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"API_KEY": "k3y"}
	cases := []struct {
		name string
		opts Options
		want []string
	}{
		{"default", Options{Env: env}, []string{"d3fault-token", "k3y"}},
		{"LOADPLAN_VAR_token", Options{Env: map[string]string{"API_KEY": "k3y", "LOADPLAN_VAR_token": "fr0m-the-environment"}},
			[]string{"fr0m-the-environment", "k3y"}},
		{"-var-file", Options{Env: env, VarFiles: []string{varFile}}, []string{"fr0m-var-file", "k3y"}},
		{"-var", Options{Env: env, VarFiles: []string{varFile}, Vars: map[string]string{"token": "fr0m-flag"}}, []string{"fr0m-flag", "k3y"}},
	}
	for _, c := range cases {
		p, _, diags := LoadFiles([]string{planFile}, c.opts)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", c.name, diags.Error())
		}
		if !reflect.DeepEqual(p.Secrets, c.want) {
			t.Errorf("%s: Secrets = %q, want %q", c.name, p.Secrets, c.want)
		}
	}
}

// TestVarFileSnippetsHideSecrets: a diagnostic on a -var-file line quotes that line in its
// snippet; the value of a sensitive variable (a type error here) and of a misspelt name (a
// warning) show as asterisks, at the same line:col, while a non-sensitive value stays readable.
func TestVarFileSnippetsHideSecrets(t *testing.T) {
	dir := t.TempDir()
	planFile := filepath.Join(dir, "p.hcl")
	src := `
variable "token" {
  type      = number
  sensitive = true
}
variable "count" {
  type = number
}
scenario "s" {
  http "a" {
    url = "http://127.0.0.1:1/"
  }
}
`
	if err := os.WriteFile(planFile, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	varFile := filepath.Join(dir, "secret.tfvars")
	vars := "token = \"hunter2-secret\"\ntokn  = \"typo-secret\"\ncount = \"plain-visible\"\n"
	if err := os.WriteFile(varFile, []byte(vars), 0o600); err != nil {
		t.Fatal(err)
	}
	_, files, diags := LoadFiles([]string{planFile}, Options{VarFiles: []string{varFile}})
	var out bytes.Buffer
	if err := hcl.NewDiagnosticTextWriter(&out, files, 0, false).WriteDiagnostics(diags); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, secret := range []string{"hunter2", "typo-secret"} {
		if strings.Contains(text, secret) {
			t.Errorf("the diagnostics print %q:\n%s", secret, text)
		}
	}
	for _, want := range []string{"secret.tfvars line 1:\n   1: token = ****************\n",
		"secret.tfvars line 2:\n   2: tokn  = *************\n", "secret.tfvars line 3:\n   3: count = \"plain-visible\"\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("the diagnostics lack %q:\n%s", want, text)
		}
	}
	// The positions are the file's: the value of token starts at 1:9 and ends at 1:25.
	for _, d := range diags {
		if d.Subject != nil && strings.HasSuffix(d.Subject.Filename, "secret.tfvars") && d.Subject.Start.Line == 1 &&
			(d.Subject.Start.Column != 9 || d.Subject.End.Column != 25) {
			t.Errorf("token's diagnostic is at %s, want 1:9-25", d.Subject)
		}
	}
}
