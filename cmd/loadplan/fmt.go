package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/loadplan/loadplan/plan"
)

// exitFmtCheck is what `fmt -check` exits with when a file is not canonically formatted — the
// code `terraform fmt -check` uses, so CI recipes carry over.
const exitFmtCheck = 3

// runFmt rewrites plan files in canonical form: `fmt [-check] [-diff] [PATH...]`. Folders stand for
// every *.hcl below them (default: the current folder); "-" formats stdin to stdout.
//
// Exit codes: 0 everything is (now) formatted; 3 with -check when a file would change (the files
// are listed and left untouched); 104 when a file has a syntax error; 2 bad usage.
func runFmt(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fmt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "write nothing; list files that are not formatted and exit 3 if any")
	diff := fs.Bool("diff", false, "print a unified diff of the changes")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan fmt [-check] [-diff] [PATH...]")
		fmt.Fprintln(stderr, "Formats plan files canonically. Exit 0 formatted, 3 (-check) would change, 104 syntax error, 2 usage.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	paths := fs.Args()
	if len(paths) == 1 && paths[0] == "-" {
		return fmtStdin(os.Stdin, stdout, stderr)
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := findPlanFiles(paths)
	if err != nil {
		fmt.Fprintln(stderr, "loadplan fmt:", err)
		return exitUsage
	}
	code := exitOK
	for _, f := range files {
		src, diags := plan.ReadPlanFile(f) // a regular file of bounded size: no hang on a device
		if diags.HasErrors() {
			printDiagnostics(stderr, nil, diags)
			code = exitInvalidPlan
			continue
		}
		out, ok := formatSource(f, src, stderr)
		if !ok {
			code = exitInvalidPlan
			continue
		}
		if bytes.Equal(src, out) {
			continue
		}
		if *diff {
			fmt.Fprint(stdout, unifiedDiff(f, string(src), string(out)))
		}
		if *check {
			if !*diff {
				fmt.Fprintln(stdout, f)
			}
			if code == exitOK {
				code = exitFmtCheck
			}
			continue
		}
		if err := os.WriteFile(f, out, 0o644); err != nil {
			fmt.Fprintln(stderr, "loadplan fmt:", err)
			return exitRuntime
		}
		if !*diff {
			fmt.Fprintln(stdout, f)
		}
	}
	return code
}

// formatSource returns src in canonical form; a file with syntax errors is reported, not formatted.
func formatSource(name string, src []byte, stderr io.Writer) ([]byte, bool) {
	f, diags := plan.ParsePlanSource(name, src) // checks nesting first: the parser would overflow its stack
	if diags.HasErrors() {
		printDiagnostics(stderr, map[string]*hcl.File{name: f}, diags)
		return nil, false
	}
	return hclwrite.Format(src), true
}

func fmtStdin(in io.Reader, stdout, stderr io.Writer) int {
	src, err := io.ReadAll(io.LimitReader(in, plan.MaxPlanFileSize+1)) // more is refused by formatSource
	if err != nil {
		fmt.Fprintln(stderr, "loadplan fmt:", err)
		return exitRuntime
	}
	out, ok := formatSource("<stdin>", src, stderr)
	if !ok {
		return exitInvalidPlan
	}
	_, _ = stdout.Write(out)
	return exitOK
}

// unifiedDiff renders the line diff of a and b in unified format with 3 lines of context.
func unifiedDiff(name, a, b string) string {
	al, bl := splitLines(a), splitLines(b)
	ops := diffLines(al, bl)
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s (formatted)\n", name, name)
	const ctx = 3
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(0, i-ctx)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run-end > 2*ctx || run == len(ops) {
				end = min(len(ops), end+ctx)
				break
			}
			end = run
		}
		aStart, bStart, aN, bN := ops[start].a, ops[start].b, 0, 0
		for _, op := range ops[start:end] {
			if op.kind != '+' {
				aN++
			}
			if op.kind != '-' {
				bN++
			}
		}
		fmt.Fprintf(&sb, "@@ -%d,%d +%d,%d @@\n", aStart+1, aN, bStart+1, bN)
		for _, op := range ops[start:end] {
			sb.WriteByte(op.kind)
			sb.WriteString(op.line)
			sb.WriteByte('\n')
		}
		i = end
	}
	return sb.String()
}

// diffOp is one line of an edit script: ' ' kept, '-' removed from a, '+' added from b. a and b are
// the line indexes before the op.
type diffOp struct {
	kind byte
	line string
	a, b int
}

// diffLines computes a shortest edit script with the classic LCS table; plan files are small.
func diffLines(a, b []string) []diffOp {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i], i, j})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{'-', a[i], i, j})
			i++
		default:
			ops = append(ops, diffOp{'+', b[j], i, j})
			j++
		}
	}
	return ops
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
