package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckNesting holds the scanner to the nesting the parser would see: brackets in code and
// templates count, brackets in text, comments and heredocs do not, and the diagnostic points at the
// character that passes the bound.
func TestCheckNesting(t *testing.T) {
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "1" + strings.Repeat(close, n)
	}
	cases := []struct {
		name string
		src  string
		want string // "" for no diagnostic, else line:col
	}{
		{"parentheses at the bound", "x = " + deep("(", ")", maxNesting), ""},
		{"parentheses past the bound", "x = " + deep("(", ")", maxNesting+1), fmt.Sprintf("1:%d", 5+maxNesting)},
		{"brackets on the second line", "a = 1\nx = " + deep("[", "]", maxNesting+1), fmt.Sprintf("2:%d", 5+maxNesting)},
		{"a string of brackets", `x = "` + strings.Repeat("(", 4*maxNesting) + `"`, ""},
		{"escaped quote keeps the string open", `x = "\"` + strings.Repeat("[", 4*maxNesting) + `"`, ""},
		{"literal $${ is text", `x = "` + strings.Repeat("$${", 4*maxNesting) + `"`, ""},
		{"hash comment", "# " + strings.Repeat("{", 4*maxNesting) + "\nx = 1", ""},
		{"slash comment", "// " + strings.Repeat("{", 4*maxNesting) + "\nx = 1", ""},
		{"block comment", "/* " + strings.Repeat("{", 4*maxNesting) + " */ x = 1", ""},
		{"heredoc", "x = <<EOT\n" + strings.Repeat("(", 4*maxNesting) + "\nEOT\ny = 1", ""},
		{"indented heredoc", "x = <<-EOT\n  " + strings.Repeat("[", 4*maxNesting) + "\n  EOT\ny = 1", ""},
		{"heredoc interpolation counts", "x = <<EOT\n${" + deep("(", ")", maxNesting) + "}\nEOT\n", "2:257"},
		// Each "${ opens two levels: the string and the interpolation.
		{"templates in templates", "x = " + deep(`"${`, `}"`, maxNesting/2), ""},
		{"templates in templates past the bound", "x = " + deep(`"${`, `}"`, maxNesting/2+1), fmt.Sprintf("1:%d", 5+3*(maxNesting/2))},
		{"if directives nest", "x = \"" + strings.Repeat("%{if true}", maxNesting) + strings.Repeat("%{endif}", maxNesting) + "\"", "1:"},
		{"sequential directives do not", "x = \"" + strings.Repeat("%{if true}a%{endif}", 10*maxNesting) + "\"", ""},
		{"closed levels are given back", "x = " + strings.Repeat(deep("(", ")", maxNesting)+" + ", 10) + "1", ""},
		{"unclosed brackets", "x = " + strings.Repeat("{", 100_000), fmt.Sprintf("1:%d", 5+maxNesting)},
		{"heredoc marker with trailing space", "x = <<EOT\na\nEOT  \ny = " + deep("(", ")", maxNesting+1), fmt.Sprintf("4:%d", 5+maxNesting)},
		{"no heredoc without a letter first", "x = <<1EOT\n" + deep("(", ")", maxNesting+1), fmt.Sprintf("2:%d", 1+maxNesting)},
		// The backstop: text the scanner skips still may not hold a thousand unclosed brackets.
		{"a thousand brackets in a comment", "# " + strings.Repeat("[", 4*maxNesting+1), fmt.Sprintf("1:%d", 3+4*maxNesting)},
		{"balanced brackets in text", `x = "` + strings.Repeat("()", 10*maxNesting) + `"`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := checkNesting("t.hcl", []byte(c.src))
			switch {
			case c.want == "" && d != nil:
				t.Fatalf("refused at %d:%d", d.Subject.Start.Line, d.Subject.Start.Column)
			case c.want != "" && d == nil:
				t.Fatalf("not refused; want a diagnostic at %s", c.want)
			case d != nil:
				if got := fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column); !strings.HasPrefix(got, c.want) {
					t.Fatalf("refused at %s, want %s", got, c.want)
				}
				if d.Subject.Filename != "t.hcl" {
					t.Errorf("file %q", d.Subject.Filename)
				}
			}
		})
	}
}

// TestCheckNestingPassesEveryPlan: no plan in the repository — examples, valid and invalid
// fixtures (other than the deep-nesting ones), benchmark plans — is refused by the scanner.
func TestCheckNestingPassesEveryPlan(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../plans/*.hcl", "../bench/plans/*.hcl", "testdata/valid/*.hcl", "testdata/invalid/*.hcl"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) < 50 {
		t.Fatalf("found only %d plans", len(files))
	}
	for _, f := range files {
		if strings.Contains(f, "deep_nesting") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if d := checkNesting(f, src); d != nil {
			t.Errorf("%s refused at %d:%d", f, d.Subject.Start.Line, d.Subject.Start.Column)
		}
	}
}
