package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// terraformRepo writes a repository holding the .hcl files of Terraform, Terragrunt, Packer and
// Nomad (as those tools write them) beside one valid and one invalid loadplan plan.
func terraformRepo(t *testing.T) string {
	dir := t.TempDir()
	for _, d := range []string{"infra", "infra/.terraform/providers", "images", "jobs", "live/prod", "plans"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"infra/.terraform.lock.hcl": `# This file is maintained automatically by "terraform init".
provider "registry.terraform.io/hashicorp/aws" {
  version     = "5.31.0"
  constraints = "~> 5.0"
  hashes = [
    "h1:abc=",
  ]
}
`,
		"infra/main.tf": "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n}\n",
		"infra/variables.hcl": `variable "region" {
  default = "eu-west-1"
}
output "bucket" {
  value = "x"
}
`,
		"infra/.terraform/providers/p.hcl": "garbage {",
		"live/prod/terragrunt.hcl": `include "root" {
  path = find_in_parent_folders()
}
inputs = {
  env = "prod"
}
`,
		"live/root.hcl": "locals {\n  account = \"123\"\n}\nremote_state {\n  backend = \"s3\"\n}\n",
		"images/ubuntu.pkr.hcl": `packer {
  required_plugins {
  }
}
source "amazon-ebs" "ubuntu" {
  region = "eu-west-1"
}
build {
  sources = ["source.amazon-ebs.ubuntu"]
}
`,
		"jobs/web.nomad.hcl":       "job \"web\" {\n  group \"g\" {\n    count = 1\n  }\n}\n",
		"jobs/api.hcl":             "job \"api\" {\n  datacenters = [\"dc1\"]\n}\n",
		"plans/smoke.loadplan.hcl": strings.Replace(requiredHostPlan, "type = string", `default = "http://127.0.0.1:9"`, 1),
		"plans/broken.hcl": `scenario "rest" {
  http "health" {
    pathh = "/api/health"
  }
}
`,
	}
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	return dir
}

// TestValidateTerraformRepo: `loadplan validate` in a repository with Terraform, Terragrunt, Packer
// and Nomad files validates the two plans only — exit 104 for the broken one — and names every
// other .hcl file as skipped; fmt -check leaves them alone too.
func TestValidateTerraformRepo(t *testing.T) {
	dir := terraformRepo(t)
	r := runInDir(t, dir, nil, "validate")
	if r.code != exitInvalidPlan {
		t.Errorf("validate .: exit %d, want 104\n%s%s", r.code, r.stdout, r.stderr)
	}
	var reported []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if name, _, ok := strings.Cut(l, ": "); ok {
			reported = append(reported, name)
		}
	}
	want := []string{"plans/broken.hcl", "plans/smoke.loadplan.hcl"}
	if !slices.Equal(reported, want) {
		t.Errorf("validated %q, want %q\n%s", reported, want, r.stdout)
	}
	if !strings.Contains(r.stdout, "plans/broken.hcl: invalid") || !strings.Contains(r.stdout, "plans/smoke.loadplan.hcl: valid") ||
		!strings.Contains(r.stdout, "1 of 2 plans valid (7 other .hcl files skipped)") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	for _, skipped := range []string{"infra/.terraform.lock.hcl", "infra/variables.hcl", "live/prod/terragrunt.hcl", "live/root.hcl",
		"images/ubuntu.pkr.hcl", "jobs/web.nomad.hcl", "jobs/api.hcl"} {
		if note := "skipped " + skipped + ": not a plan"; !strings.Contains(r.stderr, note) {
			t.Errorf("no note %q in\n%s", note, r.stderr)
		}
	}
	if strings.Contains(r.stderr, ".terraform/providers") || strings.Contains(r.stderr, "main.tf") {
		t.Errorf("a hidden folder or a .tf file was looked at:\n%s", r.stderr)
	}

	// Only the broken plan fixed: exit 0.
	writeFile(t, filepath.Join(dir, "plans/broken.hcl"), strings.Replace(requiredHostPlan, "type = string", `default = "http://127.0.0.1:9"`, 1))
	if r := runInDir(t, dir, nil, "validate"); r.code != exitOK {
		t.Errorf("validate . with Terraform files and valid plans: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lock := filepath.Join(dir, "infra/.terraform.lock.hcl")
	before, _ := os.ReadFile(lock)
	if r := runInDir(t, dir, nil, "fmt", "-check"); r.code != exitOK || strings.Contains(r.stdout, "infra/") {
		t.Errorf("fmt -check .: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if after, _ := os.ReadFile(lock); string(after) != string(before) {
		t.Error("fmt changed the Terraform lock file")
	}
}

// TestValidateNamedFiles: a file named on the command line is validated as a plan (a Terraform
// file fails, exit 104); with --only-plans, as the hooks run, it is skipped and only the named plans
// are validated.
func TestValidateNamedFiles(t *testing.T) {
	dir := terraformRepo(t)
	if r := runInDir(t, dir, nil, "validate", "live/root.hcl"); r.code != exitInvalidPlan {
		t.Errorf("validate live/root.hcl: exit %d, want 104\n%s", r.code, r.stderr)
	}
	r := runInDir(t, dir, nil, "validate", "--only-plans", "live/root.hcl", "jobs/api.hcl", "plans/smoke.loadplan.hcl", "plans/broken.hcl")
	if r.code != exitInvalidPlan || !strings.Contains(r.stdout, "1 of 2 plans valid (2 other .hcl files skipped)") ||
		!strings.Contains(r.stderr, "skipped jobs/api.hcl: not a plan") {
		t.Errorf("--only-plans: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runInDir(t, dir, nil, "validate", "--only-plans", "live/root.hcl", "infra/variables.hcl")
	if r.code != exitOK || !strings.Contains(r.stdout, "0 of 0 plans valid (2 other .hcl files skipped)") {
		t.Errorf("--only-plans, Terraform files only: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestPreCommitHookPatterns matches the hooks' files/exclude patterns (as pre-commit does, a
// search) against the names of a repository with Terraform files: plans pass, the files other
// tools name by convention do not; the hooks pass --only-plans for the rest.
func TestPreCommitHookPatterns(t *testing.T) {
	src, err := os.ReadFile("../../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) []*regexp.Regexp {
		var out []*regexp.Regexp
		for _, m := range regexp.MustCompile(`(?m)^  `+name+`: (.+)$`).FindAllStringSubmatch(string(src), -1) {
			out = append(out, regexp.MustCompile(m[1]))
		}
		return out
	}
	files, excludes, entries := field("files"), field("exclude"), regexp.MustCompile(`(?m)^  entry: (.+)$`).FindAllStringSubmatch(string(src), -1)
	if len(files) != 2 || len(excludes) != 2 || len(entries) != 2 {
		t.Fatalf("want 2 hooks with files, exclude and entry; got %d, %d, %d", len(files), len(excludes), len(entries))
	}
	cases := map[string]bool{
		"plans/smoke.loadplan.hcl":      true,
		"plans/stress.hcl":              true,
		"load.hcl":                      true,
		"infra/.terraform.lock.hcl":     false,
		".terraform.lock.hcl":           false,
		"infra/main.tf":                 false,
		"infra/terraform.tfvars":        false,
		"live/prod/terragrunt.hcl":      false,
		"images/ubuntu.pkr.hcl":         false,
		"jobs/web.nomad.hcl":            false,
		"plans/my-terragrunt.hcl":       true,
		"plans/smoke.loadplan.hcl.orig": false,
	}
	for i := range files {
		for name, want := range cases {
			got := files[i].MatchString(name) && !excludes[i].MatchString(name)
			if got != want {
				t.Errorf("hook %d: %s passed = %v, want %v", i, name, got, want)
			}
		}
		if !strings.Contains(entries[i][1], "--only-plans") {
			t.Errorf("hook %d entry %q lacks --only-plans", i, entries[i][1])
		}
	}
}
