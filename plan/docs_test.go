package plan_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/loadplan/loadplan/outputs/registry"
	"github.com/loadplan/loadplan/plan"
)

// codeBlock is a fenced block of a Markdown file.
type codeBlock struct {
	info string // the text after ```
	line int    // line of the opening fence
	src  string
}

func fencedBlocks(t *testing.T, path string) []codeBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []codeBlock
	var cur *codeBlock
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &codeBlock{info: strings.TrimSpace(strings.TrimPrefix(line, "```")), line: n}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.src += line + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("%s: unclosed code block at line %d", path, cur.line)
	}
	return out
}

// TestDocsExamples: every ```hcl block of docs/plan-language.md is a complete plan that loads without
// any diagnostic (its output blocks checked by their kinds' schemas) (relative paths resolve against plans/); every ```hcl fragment block parses. Both
// are fmt-clean.
func TestDocsExamples(t *testing.T) {
	blocks := fencedBlocks(t, "../docs/plan-language.md")
	complete := 0
	env := map[string]string{"INFLUX_TOKEN": "t", "WS_AUTH_TOKEN": "t"}
	for i, b := range blocks {
		if b.info != "hcl" && b.info != "hcl fragment" {
			continue
		}
		name := fmt.Sprintf("plan-language.md line %d", b.line)
		src := []byte(b.src)
		if out := hclwrite.Format(src); !bytes.Equal(out, src) {
			t.Errorf("%s: not fmt-clean:\n%s", name, out)
		}
		if b.info == "hcl fragment" {
			if _, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
				t.Errorf("%s: fragment does not parse:\n%s", name, plan.RenderDiags(diags))
			}
			continue
		}
		complete++
		file := filepath.Join("..", "plans", fmt.Sprintf("docs-example-%d.hcl", i))
		if _, diags := plan.LoadSource(file, src, plan.Options{Env: env, Outputs: registry.Default.Schemas()}); len(diags) > 0 {
			t.Errorf("%s: the example does not load:\n%s", name, plan.RenderDiags(diags))
		}
	}
	if complete < 4 {
		t.Errorf("only %d complete examples in the docs", complete)
	}
}
