package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/loadplan/loadplan/internal/testkit"
	"github.com/loadplan/loadplan/outputs/registry"
	"github.com/loadplan/loadplan/plan"
)

// readmeBlocks returns the fenced code blocks of README.md with the given info string.
func readmeBlocks(t *testing.T, lang string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []string
	var cur *strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && line == "```"+lang:
			cur = &strings.Builder{}
		case cur != nil && line == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// TestReadmePlansValidate keeps every HCL example in the README a valid, fmt-clean plan.
func TestReadmePlansValidate(t *testing.T) {
	blocks := readmeBlocks(t, "hcl")
	if len(blocks) == 0 {
		t.Fatal("README.md has no hcl blocks")
	}
	for i, src := range blocks {
		name := filepath.Join(t.TempDir(), "readme.hcl")
		_, diags := plan.LoadSource(name, []byte(src), plan.Options{Env: map[string]string{}, Outputs: registry.Default.Schemas()})
		if diags.HasErrors() {
			t.Errorf("README hcl block %d is not a valid plan: %s", i+1, diags.Error())
		}
		if got := string(hclwrite.Format([]byte(src))); got != src {
			t.Errorf("README hcl block %d is not fmt-clean:\n%s", i+1, got)
		}
	}
}

// TestReadmeCommands runs every `loadplan validate`, `fmt`, `plan` and `deploy` command the README
// shows (they send nothing) and expects them to succeed from the repository root.
func TestReadmeCommands(t *testing.T) {
	bin := testkit.Binary(t)
	ran := 0
	for _, block := range readmeBlocks(t, "sh") {
		for _, line := range strings.Split(block, "\n") {
			if i := strings.Index(line, "#"); i >= 0 {
				line = line[:i]
			}
			if i := strings.IndexAny(line, "|>"); i >= 0 && strings.Contains(line, "loadplan deploy") {
				line = line[:i] // deploy prints manifests for kubectl or a file: run deploy alone
			}
			fields := strings.Fields(line)
			if len(fields) < 2 || fields[0] != "loadplan" {
				continue
			}
			switch fields[1] {
			case "validate", "fmt", "plan", "deploy":
			default:
				continue
			}
			cmd := exec.Command(bin, fields[1:]...)
			cmd.Dir = filepath.Join("..", "..")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("README command %q failed: %v\n%s", line, err, out)
			}
			ran++
		}
	}
	if ran < 3 {
		t.Fatalf("ran %d README commands, want at least 3", ran)
	}
}
