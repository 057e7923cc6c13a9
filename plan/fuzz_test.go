package plan

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FuzzLoad: arbitrary bytes as a plan never panic, and a plan whose HCL does not parse never
// loads without an error diagnostic. The seed corpus is every plan in this repository.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"../plans/*.hcl", "testdata/valid/*.hcl", "testdata/invalid/*.hcl"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("scenario \"x\" {"))
	f.Add([]byte("threshold \"http_reqs{\" { condition = \"count >\" }"))
	f.Add([]byte("load { stage { duration = \"1s\" target = 1e400 } }"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, diags := LoadSource("fuzz.hcl", src, Options{Env: map[string]string{}})
		_, parseDiags := hclsyntax.ParseConfig(src, "fuzz.hcl", hcl.InitialPos)
		if parseDiags.HasErrors() && !diags.HasErrors() {
			t.Fatalf("malformed HCL loaded without errors")
		}
		if diags.HasErrors() && p != nil {
			t.Fatalf("a plan with errors was returned")
		}
		if !diags.HasErrors() && p == nil {
			t.Fatalf("no plan and no error")
		}
	})
}
