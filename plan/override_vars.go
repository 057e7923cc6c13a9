package plan

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// DeclaresVariable reports whether one of files declares `variable "name"`, reading only the
// top-level blocks, so that a command-line flag that sets a variable (--host sets var.host) can
// say what to add before the load reports an undeclared -var. ok is false when a file cannot be
// read or parsed: the load then reports that, and the caller should not guess.
func DeclaresVariable(files []string, name string) (declared, ok bool) {
	for _, f := range files {
		src, err := readBounded(f, MaxPlanFileSize)
		if err != nil {
			return false, false
		}
		file, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos)
		if diags.HasErrors() {
			return false, false
		}
		body, isSyntax := file.Body.(*hclsyntax.Body)
		if !isSyntax {
			return false, false
		}
		for _, b := range body.Blocks {
			if b.Type == "variable" && len(b.Labels) == 1 && b.Labels[0] == name {
				declared = true
			}
		}
	}
	return declared, true
}
