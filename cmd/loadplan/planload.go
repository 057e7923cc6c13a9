package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/loadplan/loadplan/outputs/registry"
	"github.com/loadplan/loadplan/plan"
)

// planVars collects the -var and -var-file flags of validate, plan, apply and merge.
type planVars struct {
	vars  map[string]string
	files []string
}

// register adds -var and -var-file to fs.
func (v *planVars) register(fs *flag.FlagSet) {
	v.vars = map[string]string{}
	fs.Func("var", "set a plan variable: -var name=value (repeatable)", func(s string) error {
		name, value, ok := strings.Cut(s, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return fmt.Errorf("write -var name=value, e.g. -var host=http://127.0.0.1:8000")
		}
		v.vars[name] = value
		return nil
	})
	fs.Func("var-file", "read plan variables from an HCL file of name = value lines (repeatable)", func(s string) error {
		v.files = append(v.files, s)
		return nil
	})
}

// options returns the plan.Options for these flags and the process environment.
func (v *planVars) options() plan.Options {
	return plan.Options{Env: environ(), Vars: v.vars, VarFiles: v.files, Outputs: registry.Default.Schemas()}
}

// environ returns the process environment as a map, for plan.Options: what env() and
// LOADPLAN_VAR_name read. Only cmd reads the environment; plans see this map.
func environ() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// loadPlan loads one plan (several files form one plan) for the plan verb, printing its
// diagnostics. It returns the plan, or nil and the exit code (104 for an invalid plan).
func loadPlan(files []string, pv *planVars, stderr io.Writer) (*plan.Plan, int) {
	p, parsed, diags := plan.LoadFiles(files, pv.options())
	printDiagnostics(stderr, parsed, diags)
	if diags.HasErrors() || p == nil {
		return nil, exitInvalidPlan
	}
	return p, exitOK
}

// isTerminal reports whether w is a character device (a TTY): colour and the live progress line
// only go to one.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// printDiagnostics writes diags with their source snippets, in colour on a terminal (unless
// NO_COLOR is set).
func printDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	color := isTerminal(w) && os.Getenv("NO_COLOR") == ""
	width := uint(0)
	if color {
		width = 100
	}
	dw := hcl.NewDiagnosticTextWriter(w, files, width, color)
	_ = dw.WriteDiagnostics(diags)
}

// findPlanFiles expands paths: a file is taken as is, a folder yields every *.hcl below it
// (sorted, skipping hidden folders). A path that does not exist is an error.
func findPlanFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: no such file or folder", p)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".hcl") {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %v", p, err)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// jsonPos and friends are the machine-readable form of a diagnostic, in the shape of
// `terraform validate -json`.
type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonDiag struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *jsonRange `json:"range,omitempty"`
}

func toJSONDiags(diags hcl.Diagnostics) []jsonDiag {
	out := make([]jsonDiag, 0, len(diags))
	for _, d := range diags {
		jd := jsonDiag{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
		}
		if r := d.Subject; r != nil {
			jd.Range = &jsonRange{Filename: r.Filename,
				Start: jsonPos{r.Start.Line, r.Start.Column, r.Start.Byte},
				End:   jsonPos{r.End.Line, r.End.Column, r.End.Byte}}
		}
		out = append(out, jd)
	}
	return out
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// countDiags returns the number of errors and warnings.
func countDiags(diags hcl.Diagnostics) (errs, warns int) {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

// parseFlags parses args; it returns false with the exit code when parsing ended the command.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK, false
		}
		return exitUsage, false
	}
	return 0, true
}

// parseInterleaved parses flags that may come before, between and after the positional
// arguments (`deploy kubernetes plan.hcl --segments 8`, `merge seg1.json --junit x.xml`), which
// flag.Parse alone stops at, and returns the positional arguments in order.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// parsePositional is parseInterleaved with parseFlags' exit codes: exitOK for -h, exitUsage for
// a bad flag (the flag package has said which), ok false in both cases.
func parsePositional(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			return nil, exitOK, false
		}
		return nil, exitUsage, false
	}
	return pos, 0, true
}
