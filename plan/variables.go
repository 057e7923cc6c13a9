package plan

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"},
	},
}

// EnvVarPrefix is the prefix of environment variables that set plan variables.
const EnvVarPrefix = "LOADPLAN_VAR_"

// varDecl is a declared variable while values are being assigned.
type varDecl struct {
	v      *Variable
	ty     cty.Type
	value  cty.Value // NilVal until assigned
	block  *hcl.Block
	rng    hcl.Range
	source string // where the value came from, for messages
}

// loadVariables declares every variable and assigns values with Terraform's precedence:
// default < LOADPLAN_VAR_name < -var-file (in order) < -var.
func (l *loader) loadVariables() {
	seen := newNames("variable")
	var order []*varDecl
	for _, fb := range l.blocks("variable") {
		b := fb.block
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			l.errorAt(labelRange(b), "Invalid variable name", "A variable name starts with a letter and holds letters, digits, _ and -.")
			continue
		}
		if !seen.declare(l, name, labelRange(b)) {
			continue
		}
		d := &varDecl{v: &Variable{Name: name, Type: "any", Pos: posOf(b.DefRange)}, ty: cty.DynamicPseudoType, block: b, rng: labelRange(b)}
		content, diags := b.Body.Content(variableSchema)
		l.add(diags)
		sc := &scope{src: fb.src, what: "a variable block"}
		if a := content.Attributes["type"]; a != nil {
			ty, tdiags := typeexpr.TypeConstraint(a.Expr)
			if tdiags.HasErrors() {
				l.errorAt(a.Expr.Range(), "Invalid type", "Write a type such as string, number, bool, list(string) or map(string).")
			} else {
				d.ty = ty
				d.v.Type = string(a.Expr.Range().SliceBytes(fb.src.src))
			}
		}
		if a := content.Attributes["description"]; a != nil {
			d.v.Description, _ = l.literalString(a)
		}
		if a := content.Attributes["sensitive"]; a != nil {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() || v.Type() != cty.Bool {
				l.errorAt(a.Expr.Range(), "Invalid sensitive", "sensitive is true or false.")
			} else {
				d.v.Sensitive = v.True()
			}
		}
		if a := content.Attributes["default"]; a != nil {
			v, diags := a.Expr.Value(nil)
			if diags.HasErrors() {
				l.errorAt(a.Expr.Range(), "Invalid default value",
					"A default must be a literal value (no functions or references), e.g. \"http://127.0.0.1:8000\".")
			} else if cv, err := convert.Convert(v, d.ty); err != nil {
				l.errorAt(a.Expr.Range(), "Invalid default value", "The default does not match the type %s: %s.", d.v.Type, err)
			} else {
				d.value, d.source = cv, "default"
			}
		}
		_ = sc
		l.varDecls[name] = d
		order = append(order, d)
	}
	l.assignEnvVars()
	for _, f := range l.opts.VarFiles {
		l.assignVarFile(f)
	}
	for _, name := range sortedKeys(l.opts.Vars) {
		d := l.varDecls[name]
		if d == nil {
			l.errorNoRange("Value for undeclared variable",
				"-var %s=...: the plan declares no variable %q.%s Declare it with variable %q { } or drop the flag.",
				name, name, didYouMean(name, sortedKeys(l.varDecls)), name)
			continue
		}
		l.assignRaw(d, l.opts.Vars[name], "-var "+name)
	}
	for _, d := range order {
		if d.value == cty.NilVal {
			l.errorAt(d.rng, "No value for required variable",
				"Variable %q has no default and no value was given. Set it with -var %s=VALUE, a -var-file, or the environment variable %s%s; or add default = ... to the block.",
				d.v.Name, d.v.Name, EnvVarPrefix, d.v.Name)
			l.vars[d.v.Name] = cty.UnknownVal(d.ty)
			l.badNames["var."+d.v.Name] = true
			continue
		}
		l.vars[d.v.Name] = d.value
		d.v.Value = renderValue(d.value)
		if d.v.Sensitive {
			// Marked like an env() value, so that every name, tag and message built from it
			// shows Hidden instead.
			l.vars[d.v.Name] = d.value.Mark(SensitiveMark)
			d.v.Value = Hidden
		}
		l.plan.Variables = append(l.plan.Variables, d.v)
	}
}

func (l *loader) literalString(a *hcl.Attribute) (string, bool) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
		l.errorAt(a.Expr.Range(), "Invalid "+a.Name, "%s must be a literal string.", a.Name)
		return "", false
	}
	return v.AsString(), true
}

func (l *loader) assignEnvVars() {
	for _, k := range sortedKeys(l.opts.Env) {
		name, ok := strings.CutPrefix(k, EnvVarPrefix)
		if !ok {
			continue
		}
		if d := l.varDecls[name]; d != nil {
			l.assignRaw(d, l.opts.Env[k], "environment variable "+k)
		}
	}
}

// assignRaw sets a variable from command-line or environment text: a string variable takes the
// text as is; other types parse it as an HCL expression, as Terraform does.
func (l *loader) assignRaw(d *varDecl, raw, from string) {
	var v cty.Value
	if d.ty == cty.String || d.ty == cty.DynamicPseudoType {
		v = cty.StringVal(raw)
	} else {
		expr, diags := parseValue(raw, from)
		if !diags.HasErrors() {
			v, diags = expr.Value(nil)
		}
		if diags.HasErrors() {
			l.errorAt(d.rng, "Invalid value for variable",
				"%s: %s is not a valid %s value. Write it as in a plan, e.g. 10, true or [\"a\", \"b\"].", from, quoted(raw, d.v.Sensitive), d.v.Type)
			return
		}
	}
	cv, err := convert.Convert(v, d.ty)
	if err != nil {
		l.errorAt(d.rng, "Invalid value for variable", "%s: %s does not match the type %s: %s.", from, quoted(raw, d.v.Sensitive), d.v.Type, err)
		return
	}
	d.value, d.source = cv, from
}

// assignVarFile reads a -var-file: HCL attributes name = value.
func (l *loader) assignVarFile(path string) {
	src, err := readBounded(path, maxPlanFileSize)
	if err != nil {
		l.errorNoRange("Cannot read variables file", "-var-file %s: %v. Check the path.", path, unwrapPathErr(err))
		return
	}
	f, diags := ParsePlanSource(path, src)
	l.files[path] = f
	l.add(diags)
	if diags.HasErrors() {
		return
	}
	attrs, diags := f.Body.JustAttributes()
	l.add(diags)
	hideVarFileValues(f, attrs, l.varDecls)
	for _, a := range sortedAttrs(attrs) {
		d := l.varDecls[a.Name]
		if d == nil {
			l.warnAt(a.NameRange, "Value for undeclared variable",
				"The plan declares no variable %q, so this value is ignored.%s", a.Name, didYouMean(a.Name, sortedKeys(l.varDecls)))
			continue
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			l.errorAt(a.Expr.Range(), "Invalid value for variable", "Values in a variables file are literals: strings, numbers, bools, lists and objects.")
			continue
		}
		cv, err := convert.Convert(v, d.ty)
		if err != nil {
			l.errorAt(a.Expr.Range(), "Invalid value for variable", "The value does not match the type %s of variable %q: %s.", d.v.Type, a.Name, err)
			continue
		}
		d.value, d.source = cv, path
	}
}

// hideVarFileValues overwrites, in the copy of a -var-file's source that diagnostics quote in
// their snippets, the values of sensitive variables and of names the plan does not declare (a
// misspelt sensitive one, warned about) with '*': a warning or an error on that line must not
// print the secret. Newlines stay, so every line:col is unchanged; the parsed body keeps the
// real values.
func hideVarFileValues(f *hcl.File, attrs hcl.Attributes, decls map[string]*varDecl) {
	var src []byte
	for _, a := range attrs {
		if d := decls[a.Name]; d != nil && !d.v.Sensitive {
			continue
		}
		if src == nil {
			src = append([]byte(nil), f.Bytes...)
		}
		r := a.Expr.Range()
		for i := r.Start.Byte; i < r.End.Byte && i < len(src); i++ {
			if src[i] != '\n' && src[i] != '\r' {
				src[i] = '*'
			}
		}
	}
	if src != nil {
		f.Bytes = src
	}
}

// renderValue renders a value for `loadplan plan`.
func renderValue(v cty.Value) string {
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		return "null"
	}
	if v.Type() == cty.String && v.IsKnown() {
		return v.AsString()
	}
	if s, err := ctyString(v); err == nil {
		return s
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return fmt.Sprintf("(%s)", v.Type().FriendlyName())
	}
	return string(b)
}
