package plan

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/loadplan/loadplan/metrics"
)

// rootSchema is the top level of a plan file.
var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "target", LabelNames: []string{"name"}},
		{Type: "data", LabelNames: []string{"name"}},
		{Type: "scenario", LabelNames: []string{"name"}},
		{Type: "load"},
		{Type: "threshold", LabelNames: []string{"metric"}},
		{Type: "output", LabelNames: []string{"kind"}},
		{Type: "tracing"},
	},
}

// source is one parsed plan file and what evaluating its expressions needs.
type source struct {
	name    string
	src     []byte
	baseDir string
	content *hcl.BodyContent
	ctx     *hcl.EvalContext // var, local and the load-time functions
}

// loader holds the state of one Load call. It is used by one goroutine.
type loader struct {
	opts     Options
	diags    hcl.Diagnostics
	files    map[string]*hcl.File
	sources  []*source
	plan     *Plan
	vars     map[string]cty.Value
	varDecls map[string]*varDecl
	locals   map[string]cty.Value
	localDef map[string]*hcl.Attribute
	targets  map[string]*Target
	feeders  map[string]*Feeder
	// sensitiveTargets are targets whose base_url came from a secret (env()): never shown.
	sensitiveTargets map[string]bool
	badFeeders       map[string]bool // feeders whose file failed to load (already reported)
	badNames         map[string]bool // "var.x" / "local.x" without a value (already reported)
	interned         map[metrics.Tags]*metrics.Tags
	funcs            map[string]map[string]function.Function // by base dir
	loadRanges       map[*Load]hcl.Range                     // where each decoded load block is
	localsSize       int64                                   // the sum of the sizes of the locals so far
	pacingAt         map[*Scenario]hcl.Range                 // where each paced scenario sets its pacing
}

// LoadPlan reads the plan files at paths (together they form one plan, like the files of a Terraform
// module), checks them and returns the plan with every default filled. The diagnostics report every
// problem found, each with its source range; the plan is nil when any of them is an error.
//
// (It is the `plan.Load` of the team contract: Go does not allow a function named Load next to the
// type Load, so the function is LoadPlan.)
func LoadPlan(paths []string, opts Options) (*Plan, hcl.Diagnostics) {
	p, _, diags := LoadFiles(paths, opts)
	return p, diags
}

// LoadFiles is LoadPlan that also returns the parsed files by name, for hcl.NewDiagnosticTextWriter.
func LoadFiles(paths []string, opts Options) (*Plan, map[string]*hcl.File, hcl.Diagnostics) {
	l := newLoader(opts)
	for _, p := range paths {
		src, diags := ReadPlanFile(p)
		if diags.HasErrors() {
			l.diags = append(l.diags, diags...)
			l.plan.Files = append(l.plan.Files, p)
			continue
		}
		l.parse(p, src)
	}
	return l.finish()
}

// ReadPlanFile reads a plan file, refusing what is not a regular file of at most 4 MiB (a device
// such as /dev/zero, a FIFO, a directory) with a diagnostic at the file's start. cmd's fmt reads
// files through it too, so that no verb hangs on a device.
func ReadPlanFile(path string) ([]byte, hcl.Diagnostics) {
	src, err := readBounded(path, maxPlanFileSize)
	switch {
	case err == nil:
		return src, nil
	case errors.Is(err, errNotRegular):
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Plan file is not a regular file",
			Detail:   fmt.Sprintf("%s is %v. Give the path of a .hcl file.", path, err),
			Subject:  ptr(fileStart(path)),
		}}
	case errors.Is(err, errTooLarge):
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Plan file too large",
			Detail: fmt.Sprintf("%s is %v, the bound of a plan file. Move data into a feeder (data \"name\" { csv = \"file.csv\" }) or file(), or split the plan into several files.",
				path, err),
			Subject: ptr(fileStart(path)),
		}}
	}
	return nil, hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Cannot read plan file",
		Detail:   fmt.Sprintf("%s: %v. Check the path; plan files end in .hcl.", path, unwrapPathErr(err)),
	}}
}

// ParsePlanSource parses one file of HCL native syntax after checking that it nests no deeper
// than the parser can take (see checkNesting). Every HCL file loadplan reads goes through it.
func ParsePlanSource(name string, src []byte) (*hcl.File, hcl.Diagnostics) {
	if int64(len(src)) > maxPlanFileSize {
		return &hcl.File{Body: hcl.EmptyBody()}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Plan file too large",
			Detail:   fmt.Sprintf("%s is %s; a plan file is at most %s.", name, byteSize(int64(len(src))), byteSize(maxPlanFileSize)),
			Subject:  ptr(fileStart(name)),
		}}
	}
	if d := checkNesting(name, src); d != nil {
		f := &hcl.File{Body: hcl.EmptyBody()}
		if lineLen(src, d.Subject.Start.Byte) < 500 {
			f.Bytes = src // the diagnostic shows the line; not a line of 200,000 parentheses
		}
		return f, hcl.Diagnostics{d}
	}
	return hclsyntax.ParseConfig(src, name, hcl.InitialPos)
}

// lineLen is the length of the line around src[off].
func lineLen(src []byte, off int) int {
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	end := bytes.IndexByte(src[off:], '\n')
	if end < 0 {
		end = len(src) - off
	}
	return off + end - start
}

func ptr[T any](v T) *T { return &v }

// LoadSource loads a plan from src as if it were the file name (relative paths in the plan resolve
// against name's folder). Tests and tools that hold a plan in memory use it.
func LoadSource(name string, src []byte, opts Options) (*Plan, hcl.Diagnostics) {
	l := newLoader(opts)
	l.parse(name, src)
	p, _, diags := l.finish()
	return p, diags
}

// LoadSources is LoadSource for several in-memory files forming one plan; it also returns the
// parsed files.
func LoadSources(srcs map[string][]byte, order []string, opts Options) (*Plan, map[string]*hcl.File, hcl.Diagnostics) {
	l := newLoader(opts)
	for _, name := range order {
		l.parse(name, srcs[name])
	}
	return l.finish()
}

func newLoader(opts Options) *loader {
	return &loader{
		opts:             opts,
		files:            map[string]*hcl.File{},
		plan:             &Plan{ProxyEnv: proxyEnvOf(opts.Env)},
		vars:             map[string]cty.Value{},
		varDecls:         map[string]*varDecl{},
		locals:           map[string]cty.Value{},
		localDef:         map[string]*hcl.Attribute{},
		targets:          map[string]*Target{},
		feeders:          map[string]*Feeder{},
		sensitiveTargets: map[string]bool{},
		badFeeders:       map[string]bool{},
		badNames:         map[string]bool{},
		interned:         map[metrics.Tags]*metrics.Tags{},
		funcs:            map[string]map[string]function.Function{},
		loadRanges:       map[*Load]hcl.Range{},
		pacingAt:         map[*Scenario]hcl.Range{},
	}
}

func (l *loader) parse(name string, src []byte) {
	f, diags := ParsePlanSource(name, src)
	l.files[name] = f
	l.diags = append(l.diags, diags...)
	l.plan.Files = append(l.plan.Files, name)
	if diags.HasErrors() || f == nil {
		return
	}
	content, cdiags := f.Body.Content(rootSchema)
	l.diags = append(l.diags, cdiags...)
	dir := filepath.Dir(name)
	l.sources = append(l.sources, &source{name: name, src: src, baseDir: dir, content: content})
}

// finish runs the phases in dependency order. Each phase keeps going after an error so that one
// run reports every problem.
func (l *loader) finish() (*Plan, map[string]*hcl.File, hcl.Diagnostics) {
	if len(l.sources) > 0 {
		l.loadVariables()
		l.loadLocals()
		l.buildContexts()
		l.loadTracing() // before the targets: their tracing blocks start from the plan's
		l.loadTargets()
		l.loadFeeders()
		l.loadScenarios()
		l.loadPlanLoad()
		l.checkPacing()
		l.loadThresholds()
		l.loadOutputs()
		l.checkCapacity()
		l.finalChecks()
	}
	if len(l.plan.Files) == 0 {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No plan files",
			Detail:   "Give at least one .hcl plan file.",
		})
	}
	l.hintLocustWords()
	l.scrubDiagnostics()
	l.plan.Secrets = l.secretValues(1)
	l.sortDiags()
	if l.diags.HasErrors() {
		return nil, l.files, l.diags
	}
	return l.plan, l.files, l.diags
}

// sortDiags orders the diagnostics as a reader meets them: those without a place first (flags,
// environment), then by file in the order given and by position in the file.
func (l *loader) sortDiags() {
	fileIdx := map[string]int{}
	for i, f := range l.plan.Files {
		fileIdx[f] = i + 1
	}
	key := func(d *hcl.Diagnostic) (int, int) {
		if d.Subject == nil {
			return 0, 0
		}
		i, ok := fileIdx[d.Subject.Filename]
		if !ok {
			i = len(fileIdx) + 1 // a -var-file
		}
		return i, d.Subject.Start.Byte
	}
	sort.SliceStable(l.diags, func(a, b int) bool {
		fa, pa := key(l.diags[a])
		fb, pb := key(l.diags[b])
		if fa != fb {
			return fa < fb
		}
		return pa < pb
	})
}

// buildContexts makes each file's evaluation context: var, local and the functions, with file()
// resolving against the file's folder.
func (l *loader) buildContexts() {
	vars := map[string]cty.Value{
		"var":   cty.ObjectVal(l.vars),
		"local": cty.ObjectVal(l.locals),
	}
	for _, s := range l.sources {
		s.ctx = &hcl.EvalContext{Variables: vars, Functions: l.functions(s.baseDir)}
	}
}

func (l *loader) functions(dir string) map[string]function.Function {
	if f, ok := l.funcs[dir]; ok {
		return f
	}
	f := Functions(l.opts, dir)
	l.funcs[dir] = f
	return f
}

// blocks returns every top-level block of type typ across the files, in file then source order.
func (l *loader) blocks(typ string) []fileBlock {
	var out []fileBlock
	for _, s := range l.sources {
		for _, b := range s.content.Blocks {
			if b.Type == typ {
				out = append(out, fileBlock{s, b})
			}
		}
	}
	return out
}

type fileBlock struct {
	src   *source
	block *hcl.Block
}

// intern returns the shared pointer for t.
func (l *loader) intern(t metrics.Tags) *metrics.Tags {
	if p, ok := l.interned[t]; ok {
		return p
	}
	p := &t
	l.interned[t] = p
	return p
}

// posOf converts an HCL range start to a Pos.
func posOf(r hcl.Range) Pos {
	return Pos{File: r.Filename, Line: r.Start.Line, Column: r.Start.Column}
}
