package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/loadplan/loadplan/internal/importer"
	"github.com/loadplan/loadplan/plan"
)

// maxImportSize bounds a document or recording read by import: a bigger one is refused rather
// than read into memory.
const maxImportSize = 64 << 20

// runImport converts what a team already has into a plan: `import openapi|curl|har ...`.
// Exit codes: 0 written, 1 the source could not be read or converted, 2 usage.
func runImport(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, importUsage)
		return exitUsage
	}
	switch args[0] {
	case "openapi":
		return runImportOpenAPI(args[1:], stdout, stderr)
	case "curl":
		return runImportCurl(args[1:], stdout, stderr)
	case "har":
		return runImportHAR(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, importUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "loadplan import: unknown source %q\n\n%s", args[0], importUsage)
	return exitUsage
}

const importUsage = `Usage:
  loadplan import openapi URL|FILE [-o plan.hcl] [--single-scenario] [-var host=URL]
  loadplan import curl [-o plan.hcl] [-var host=URL] 'curl ...' ['curl ...'...]
  loadplan import har FILE [-o plan.hcl] [--keep-static] [-var host=URL]
`

// importFlags are the flags every import source shares.
type importFlags struct {
	out  string
	vars multiFlag
}

func (f *importFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.out, "o", "", "write the plan to `FILE` (default: stdout)")
	fs.Var(&f.vars, "var", "set a variable's default in the plan: `host=URL`")
}

// host returns the -var host value, and an error for any other -var.
func (f *importFlags) host() (string, error) {
	host := ""
	for _, v := range f.vars {
		name, val, ok := strings.Cut(v, "=")
		if !ok || name != "host" {
			return "", fmt.Errorf("-var %q: only host=URL can be set at import", v)
		}
		host = val
	}
	return host, nil
}

// parseInterspersed parses flags that may come after positional arguments (`import openapi URL -o
// plan.hcl`), which flag.Parse alone stops at.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var pos []string
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return nil, code, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func runImportOpenAPI(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import openapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f importFlags
	f.register(fs)
	single := fs.Bool("single-scenario", false, "one scenario for every operation (default: one per tag)")
	perTag := fs.Bool("scenario-per-tag", true, "one scenario per tag (the default)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan import openapi URL|FILE [-o plan.hcl] [--scenario-per-tag|--single-scenario] [-var host=URL]")
		fmt.Fprintln(stderr, "Writes a plan with one http step per operation of an OpenAPI 3.0/3.1 document (JSON or YAML).")
		fs.PrintDefaults()
	}
	src, host, data, code, ok := importSource(fs, &f, args, "openapi", stderr)
	if !ok {
		return code
	}
	opts := importer.OpenAPIOptions{Source: src, Host: host, SingleScenario: *single || !*perTag}
	if f.out != "" {
		opts.Feeder = "data/" + strings.TrimSuffix(filepath.Base(f.out), filepath.Ext(f.out)) + "-params.csv"
	}
	res, err := importer.OpenAPI(data, opts)
	if err != nil {
		fmt.Fprintln(stderr, "loadplan import openapi:", err)
		return exitRuntime
	}
	return writeImport(f.out, res, stdout, stderr)
}

// importSource parses the flags of an import verb that reads one document (openapi, har): its one
// argument (a file or URL), the -var host, and the document's bytes; ok false with the exit code
// when any of them fails, the failure said on stderr.
func importSource(fs *flag.FlagSet, f *importFlags, args []string, verb string, stderr io.Writer) (src, host string, data []byte, code int, ok bool) {
	pos, code, ok := parseInterspersed(fs, args)
	if !ok {
		return "", "", nil, code, false
	}
	if len(pos) != 1 {
		fs.Usage()
		return "", "", nil, exitUsage, false
	}
	host, err := f.host()
	if err != nil {
		fmt.Fprintf(stderr, "loadplan import %s: %v\n", verb, err)
		return "", "", nil, exitUsage, false
	}
	if data, err = readSource(pos[0]); err != nil {
		fmt.Fprintf(stderr, "loadplan import %s: %v\n", verb, err)
		return "", "", nil, exitRuntime, false
	}
	return pos[0], host, data, 0, true
}

// readSource reads a file, or fetches an http(s) URL with one GET — the only request import makes.
func readSource(src string) ([]byte, error) {
	if u, err := url.Parse(src); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		client := &http.Client{Timeout: 30 * time.Second}
		resp, err := client.Get(src)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", src, resp.Status)
		}
		return readBounded(resp.Body, src)
	}
	fh, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", src)
	}
	return readBounded(fh, src)
}

func readBounded(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxImportSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxImportSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", name, maxImportSize>>20)
	}
	return data, nil
}

// writeImport writes the plan (and the files beside it, e.g. a feeder stub) and checks that it
// loads: a generated plan that does not validate is a bug of import, reported as such.
func writeImport(out string, res *importer.Result, stdout, stderr io.Writer) int {
	if out == "" {
		_, _ = stdout.Write(res.Plan)
		return exitOK
	}
	dir := filepath.Dir(out)
	for rel, data := range res.Files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintln(stderr, "loadplan import:", err)
			return exitRuntime
		}
		if _, err := os.Stat(p); err == nil {
			fmt.Fprintf(stderr, "loadplan import: %s exists, kept as it is\n", p)
			continue
		} else if !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(stderr, "loadplan import:", err)
			return exitRuntime
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			fmt.Fprintln(stderr, "loadplan import:", err)
			return exitRuntime
		}
	}
	if err := os.WriteFile(out, res.Plan, 0o644); err != nil {
		fmt.Fprintln(stderr, "loadplan import:", err)
		return exitRuntime
	}
	if _, diags := plan.LoadPlan([]string{out}, plan.Options{}); diags.HasErrors() {
		fmt.Fprintf(stderr, "loadplan import: the generated %s does not validate (please report it):\n", out)
		printDiagnostics(stderr, nil, diags)
		return exitRuntime
	}
	fmt.Fprintf(stdout, "wrote %s\n", out)
	return exitOK
}

func runImportCurl(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import curl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f importFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan import curl [-o plan.hcl] [-var host=URL] 'curl ...' ['curl ...'...]")
		fmt.Fprintln(stderr, "Writes a plan with one http step per curl command (as a browser's \"Copy as cURL\" gives it), in order.")
		fs.PrintDefaults()
	}
	// A curl command is one argument; its own options (-H, -d) must not be read as ours, so only
	// the arguments before the first command are flags.
	first := len(args)
	for i, a := range args {
		if strings.HasPrefix(strings.TrimSpace(a), "curl ") || strings.TrimSpace(a) == "curl" {
			first = i
			break
		}
	}
	if code, ok := parseFlags(fs, args[:first]); !ok {
		return code
	}
	cmds := append(fs.Args(), args[first:]...)
	if len(cmds) == 0 {
		fs.Usage()
		return exitUsage
	}
	host, err := f.host()
	if err != nil {
		fmt.Fprintln(stderr, "loadplan import curl:", err)
		return exitUsage
	}
	res, err := importer.Curl(cmds, host)
	if err != nil {
		fmt.Fprintln(stderr, "loadplan import curl:", err)
		return exitRuntime
	}
	return writeImport(f.out, res, stdout, stderr)
}

func runImportHAR(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import har", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f importFlags
	f.register(fs)
	keep := fs.Bool("keep-static", false, "keep requests for scripts, stylesheets, images, fonts and media")
	minThink := fs.Duration("min-think", 100*time.Millisecond, "recorded gaps at least this long become think times")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan import har FILE [-o plan.hcl] [--keep-static] [-var host=URL]")
		fmt.Fprintln(stderr, "Writes a plan replaying a browser recording (DevTools \"Save all as HAR\", Playwright recordHar).")
		fs.PrintDefaults()
	}
	src, host, data, code, ok := importSource(fs, &f, args, "har", stderr)
	if !ok {
		return code
	}
	res, err := importer.HAR(data, importer.HAROptions{Source: filepath.Base(src), Host: host, KeepStatic: *keep, MinThink: max(*minThink, time.Millisecond)})
	if err != nil {
		fmt.Fprintln(stderr, "loadplan import har:", err)
		return exitRuntime
	}
	return writeImport(f.out, res, stdout, stderr)
}
