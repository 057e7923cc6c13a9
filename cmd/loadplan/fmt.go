package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aymanbagabas/go-udiff"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/loadplan/loadplan/plan"
)

// exitFmtCheck is what `fmt -check` exits with when a file is not canonically formatted — the
// code `terraform fmt -check` uses, so CI recipes carry over.
const exitFmtCheck = 3

// runFmt rewrites plan files in canonical form: `fmt [-check] [-diff] [PATH...]`. Folders stand for
// the plans below them, as for validate (validatesniff.go: other tools' .hcl files are skipped;
// default: the current folder); "-" formats stdin to stdout.
//
// Exit codes: 0 everything is (now) formatted; 3 with -check when a file would change (the files
// are listed and left untouched); 104 when a file has a syntax error; 2 bad usage.
func runFmt(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fmt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "write nothing; list files that are not formatted and exit 3 if any")
	diff := fs.Bool("diff", false, "print a unified diff of the changes")
	onlyPlans := fs.Bool("only-plans", false, "skip named files that are not plans too (other tools' .hcl files), as in folders; the pre-commit hooks use it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan fmt [--check] [--diff] [--only-plans] [PATH...]")
		fmt.Fprintln(stderr, "Formats plan files canonically. Exit 0 formatted, 3 (-check) would change, 104 syntax error, 2 usage.")
		printFlags(stderr, fs)
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
	files, skipped, err := findPlansSniffed(paths, *onlyPlans) // other tools' .hcl files are not ours to rewrite
	if err != nil {
		fmt.Fprintln(stderr, "loadplan fmt:", err)
		return exitUsage
	}
	printSkipped(stderr, "fmt", skipped)
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

// diffContext is the number of unchanged lines around each hunk, as in `diff -u` and `terraform fmt -diff`.
const diffContext = 3

// unifiedDiff renders the line diff of a and b in unified format with 3 lines of context; "" when
// they are equal.
//
// It uses go-udiff's line diff (gopls's bounded-work Myers LCS), whose memory grows with the
// files' length and the differences, not with the product of the two lengths: the LCS table it
// replaced allocated 533 MB for an 8,000-line plan (BenchmarkUnifiedDiff and
// TestUnifiedDiffMemory in fmtdiff_test.go hold the figures).
func unifiedDiff(name, a, b string) string {
	if a == b {
		return ""
	}
	edits := udiff.Lines(a, b)
	d, err := udiff.ToUnified(name, name+" (formatted)", a, edits, diffContext)
	if err != nil { // edits computed from a itself always apply; keep the diff honest anyway
		return "--- " + name + "\n+++ " + name + " (formatted)\n(diff unavailable: " + err.Error() + ")\n"
	}
	return d
}
