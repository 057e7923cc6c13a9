package main

import (
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/loadplan/loadplan/plan"
)

// This file decides which *.hcl files of a folder validate and fmt take as plans, so that
// `loadplan validate .` (and the pre-commit hook) can run in a repository that also holds
// Terraform, Terragrunt, Packer or Nomad files, which share the .hcl suffix (issue 15).
//
// The convention, for files found in a folder (a file named on the command line is always a plan,
// unless --only-plans is given, as the pre-commit hooks do: it sniffs named files too):
//   - *.loadplan.hcl is always a plan;
//   - the files of other tools are skipped by name: .terraform.lock.hcl, terragrunt.hcl,
//     *.pkr.hcl (Packer), *.nomad.hcl (Nomad);
//   - any other *.hcl is a plan when it has a top-level block only loadplan has — scenario,
//     target, load or threshold — and is skipped with a note otherwise. variable, locals, data
//     and output blocks do not decide: Terraform, Packer and Terragrunt have them too.

// planOnlyBlocks are the top-level block types of a plan (plan/load.go's schema) that no other
// HCL tool uses at the top level.
var planOnlyBlocks = map[string]bool{"scenario": true, "target": true, "load": true, "threshold": true}

// planBlockLine finds a plan-only block at the start of a line, for a file whose syntax error
// keeps the parser from seeing its blocks: a broken plan is still validated (and reported).
var planBlockLine = regexp.MustCompile(`(?m)^[ \t]*(scenario|target|load|threshold)[ \t]*("[^"\n]*"[ \t]*)*\{`)

// foreignName says which tool a file belongs to by its name, or "" when the name says nothing.
func foreignName(path string) string {
	base := filepath.Base(path)
	switch {
	case strings.HasSuffix(base, ".loadplan.hcl"):
		return ""
	case base == ".terraform.lock.hcl":
		return "a Terraform lock file"
	case base == "terragrunt.hcl":
		return "a Terragrunt file"
	case strings.HasSuffix(base, ".pkr.hcl"):
		return "a Packer file"
	case strings.HasSuffix(base, ".nomad.hcl"):
		return "a Nomad job file"
	}
	return ""
}

// sniffPlan reports whether a *.hcl file found in a folder is a loadplan plan and, when it is
// not, why (for the note). A file that cannot be read is taken as a plan, so that validate
// reports the error.
func sniffPlan(path string) (bool, string) {
	if strings.HasSuffix(path, ".loadplan.hcl") {
		return true, ""
	}
	if tool := foreignName(path); tool != "" {
		return false, tool
	}
	src, diags := plan.ReadPlanFile(path)
	if diags.HasErrors() {
		return true, ""
	}
	f, diags := plan.ParsePlanSource(path, src)
	if body, ok := f.Body.(*hclsyntax.Body); ok {
		for _, b := range body.Blocks {
			if planOnlyBlocks[b.Type] {
				return true, ""
			}
		}
	}
	if diags.HasErrors() && planBlockLine.Match(src) {
		return true, ""
	}
	return false, "no scenario, target, load or threshold block"
}

// skippedFile is a file of a folder that is not a plan, and why.
type skippedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// findPlansSniffed is findPlanFiles for validate and fmt: the *.hcl files found in folders are
// sniffed (sniffPlan) and the others returned as skipped; files named in paths are plans, unless
// onlyPlans (--only-plans, what the pre-commit hooks pass) sniffs them too.
func findPlansSniffed(paths []string, onlyPlans bool) (files []string, skipped []skippedFile, err error) {
	for _, p := range paths {
		found, err := findPlanFiles([]string{p})
		if err != nil {
			return nil, nil, err
		}
		if len(found) == 1 && found[0] == p && !onlyPlans { // a file, not a folder
			files = append(files, p)
			continue
		}
		for _, f := range found {
			if ok, why := sniffPlan(f); ok {
				files = append(files, f)
			} else {
				skipped = append(skipped, skippedFile{Path: f, Reason: why})
			}
		}
	}
	return files, skipped, nil
}

// printSkipped writes one note per skipped file to w.
func printSkipped(w io.Writer, verb string, skipped []skippedFile) {
	for _, s := range skipped {
		fmt.Fprintf(w, "loadplan %s: skipped %s: not a plan (%s); name a plan *.loadplan.hcl or pass it by name\n", verb, s.Path, s.Reason)
	}
}
