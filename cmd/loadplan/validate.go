package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/loadplan/loadplan/plan"
)

// runValidate checks plan files: `validate [-json] [-var k=v] [-var-file F] [PATH...]`. Each file is
// a plan of its own; a folder stands for the plans below it (default: the current folder): the
// *.loadplan.hcl files and the *.hcl files with a plan block — other tools' .hcl files are skipped
// with a note (validatesniff.go).
// Exit 0 when all are valid, 104 when any is invalid, 2 for bad usage.
func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	var pv planVars
	onlyPlans := fs.Bool("only-plans", false, "skip named files that are not plans too (other tools' .hcl files), as in folders; the pre-commit hooks use it")
	pv.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan validate [--json] [--only-plans] [--var name=value] [--var-file FILE] [PATH...]")
		fmt.Fprintln(stderr, "Checks plan files. In folders: *.loadplan.hcl and the *.hcl files with a scenario, target, load or")
		fmt.Fprintln(stderr, "threshold block; other .hcl files (Terraform, Terragrunt, Packer, Nomad) are skipped with a note.")
		fmt.Fprintln(stderr, "Exit 0 valid, 104 invalid, 2 usage.")
		printFlags(stderr, fs)
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, skipped, err := findPlansSniffed(paths, *onlyPlans)
	if err != nil {
		fmt.Fprintln(stderr, "loadplan validate:", err)
		return exitUsage
	}
	if !*jsonOut {
		printSkipped(stderr, "validate", skipped)
	}
	if len(files) == 0 && len(skipped) == 0 {
		fmt.Fprintf(stderr, "loadplan validate: no .hcl files in %v\n", paths)
		return exitUsage
	}
	opts := pv.options()
	type fileResult struct {
		Path        string     `json:"path"`
		Valid       bool       `json:"valid"`
		Diagnostics []jsonDiag `json:"diagnostics"`
	}
	var results []fileResult
	invalid, totalErrs, totalWarns := 0, 0, 0
	for _, f := range files {
		_, parsed, diags := plan.LoadFiles([]string{f}, opts)
		errs, warns := countDiags(diags)
		totalErrs += errs
		totalWarns += warns
		if errs > 0 {
			invalid++
		}
		results = append(results, fileResult{Path: f, Valid: errs == 0, Diagnostics: toJSONDiags(diags)})
		if *jsonOut {
			continue
		}
		printDiagnostics(stderr, parsed, diags)
		if errs == 0 {
			fmt.Fprintf(stdout, "%s: valid%s\n", f, warnText(warns))
		} else {
			fmt.Fprintf(stdout, "%s: invalid (%d error%s%s)\n", f, errs, plural(errs), warnText(warns))
		}
	}
	if *jsonOut {
		writeJSON(stdout, struct {
			Valid        bool          `json:"valid"`
			ErrorCount   int           `json:"error_count"`
			WarningCount int           `json:"warning_count"`
			Files        []fileResult  `json:"files"`
			Skipped      []skippedFile `json:"skipped,omitempty"`
		}{invalid == 0, totalErrs, totalWarns, results, skipped})
	} else if len(files) > 1 || len(skipped) > 0 {
		fmt.Fprintf(stdout, "%d of %d plans valid", len(files)-invalid, len(files))
		if len(skipped) > 0 {
			fmt.Fprintf(stdout, " (%d other .hcl file%s skipped)", len(skipped), plural(len(skipped)))
		}
		fmt.Fprintln(stdout)
	}
	if invalid > 0 {
		return exitInvalidPlan
	}
	return exitOK
}

func warnText(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d warning%s", n, plural(n))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
