// Package importer turns what a team already has — an OpenAPI document, "Copy as cURL" commands,
// a browser's HAR recording — into a loadplan plan: HCL text that passes `loadplan validate`, is
// `loadplan fmt`-clean and carries a header comment saying where it came from.
//
// The importers build a small model (planDoc: variables, locals, feeders, targets, scenarios of
// steps) and render it once, through hclwrite.Format, so that every importer writes the same
// shapes the plan language documents. Secrets found in the source (auth headers, API keys, basic
// credentials) never reach the generated text: they become locals read with env("…", ""), so the
// plan validates without them and takes them from the environment at run time.
package importer

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2/hclwrite"
)

// kv is one attribute of an object or block: a key and an HCL expression already rendered.
type kv struct {
	key, expr string
}

// capture is a suggested `capture` block of an http step.
type capture struct {
	name, json, comment string
}

// wsStep is one step of a websocket block: send or expect, with a text or JSON frame.
type wsStep struct {
	kind, name string // "send" | "expect"
	attr, expr string // "text" | "json", HCL expression
	within     string
}

// step is one http or websocket step.
type step struct {
	comments []string
	kind     string // "http" (default) | "websocket"
	name     string
	method   string
	path     string // HCL expression of the path (quoted template), or empty when url is set
	url      string // HCL expression of an absolute URL
	target   string // target name when the scenario has several targets
	tagName  string // the `name` attribute (url tag) when the path is templated
	query    []kv
	headers  []kv
	bodyAttr string // "json" | "body" | "form"
	bodyExpr string
	status   string // HCL expression for check { status = … }, empty for none
	captures []capture
	think    string
	extra    []kv // further attributes, e.g. follow_redirects
	ws       []wsStep
}

// scenario is one scenario of the generated plan.
type scenario struct {
	name   string
	target string
	setup  []step // run once per VU when it starts (Locust's on_start): a login
	steps  []step
}

// variable is a generated `variable` block (string type).
type variable struct {
	name, def, description string
}

// local is a generated local value with a comment.
type local struct {
	name, expr, comment string
}

// feeder is a generated `data` block; its CSV is returned beside the plan.
type feeder struct {
	name, csv string
}

// target is a generated `target` block.
type target struct {
	name, baseURL string // baseURL is an HCL expression
	headers       []kv
}

// planDoc is what an importer builds and render writes.
type planDoc struct {
	header    []string
	variables []variable
	locals    []local
	feeders   []feeder
	targets   []target
	scenarios []scenario
	footer    []string
}

// render writes the plan as canonical HCL (hclwrite.Format, what `loadplan fmt` does).
func (d *planDoc) render() []byte {
	var b strings.Builder
	for _, h := range d.header {
		b.WriteString(strings.TrimRight("# "+h, " ") + "\n")
	}
	b.WriteString("\n")
	for _, v := range d.variables {
		fmt.Fprintf(&b, "variable %s {\n  type = string\n  default = %s\n", quote(v.name), quote(v.def))
		if v.description != "" {
			fmt.Fprintf(&b, "  description = %s\n", quote(v.description))
		}
		b.WriteString("}\n\n")
	}
	if len(d.locals) > 0 {
		b.WriteString("locals {\n")
		for _, l := range d.locals {
			if l.comment != "" {
				fmt.Fprintf(&b, "  # %s\n", l.comment)
			}
			fmt.Fprintf(&b, "  %s = %s\n", l.name, l.expr)
		}
		b.WriteString("}\n\n")
	}
	for _, f := range d.feeders {
		fmt.Fprintf(&b, "data %s {\n  csv = %s\n  mode = \"sequential\"\n}\n\n", quote(f.name), quote(f.csv))
	}
	for _, t := range d.targets {
		fmt.Fprintf(&b, "target %s {\n  base_url = %s\n  timeout = \"10s\"\n", quote(t.name), t.baseURL)
		if len(t.headers) > 0 {
			fmt.Fprintf(&b, "  headers = %s\n", object(t.headers))
		}
		b.WriteString("}\n\n")
	}
	for _, s := range d.scenarios {
		fmt.Fprintf(&b, "scenario %s {\n  target = target.%s\n", quote(s.name), s.target)
		if len(s.setup) > 0 {
			b.WriteString("\n  setup {\n")
			for _, st := range s.setup {
				st.write(&b)
			}
			b.WriteString("  }\n")
		}
		for _, st := range s.steps {
			b.WriteString("\n")
			st.write(&b)
		}
		b.WriteString("}\n\n")
	}
	for _, f := range d.footer {
		b.WriteString(strings.TrimRight("# "+f, " ") + "\n")
	}
	return hclwrite.Format([]byte(strings.TrimRight(b.String(), "\n") + "\n"))
}

// write renders one step inside a scenario.
func (st *step) write(b *strings.Builder) {
	for _, c := range st.comments {
		fmt.Fprintf(b, "  # %s\n", c)
	}
	kind := st.kind
	if kind == "" {
		kind = "http"
	}
	fmt.Fprintf(b, "  %s %s {\n", kind, quote(st.name))
	if st.method != "" && st.method != "GET" {
		fmt.Fprintf(b, "    method = %s\n", quote(st.method))
	}
	if st.url != "" {
		fmt.Fprintf(b, "    url = %s\n", st.url)
	} else {
		fmt.Fprintf(b, "    path = %s\n", st.path)
	}
	if st.target != "" {
		fmt.Fprintf(b, "    target = target.%s\n", st.target)
	}
	if st.tagName != "" {
		fmt.Fprintf(b, "    name = %s\n", quote(st.tagName))
	}
	if len(st.query) > 0 {
		fmt.Fprintf(b, "    query = %s\n", object(st.query))
	}
	if len(st.headers) > 0 {
		fmt.Fprintf(b, "    headers = %s\n", object(st.headers))
	}
	if st.bodyAttr != "" {
		fmt.Fprintf(b, "    %s = %s\n", st.bodyAttr, st.bodyExpr)
	}
	for _, e := range st.extra {
		fmt.Fprintf(b, "    %s = %s\n", e.key, e.expr)
	}
	if st.think != "" && kind == "http" {
		fmt.Fprintf(b, "    think_time = %s\n", quote(st.think))
	}
	if st.status != "" {
		fmt.Fprintf(b, "    check { status = %s }\n", st.status)
	}
	for _, c := range st.captures {
		if c.comment != "" {
			fmt.Fprintf(b, "    # %s\n", c.comment)
		}
		fmt.Fprintf(b, "    capture %s { json = %s }\n", quote(c.name), quote(c.json))
	}
	for _, w := range st.ws {
		fmt.Fprintf(b, "    %s %s {\n      %s = %s\n", w.kind, quote(w.name), w.attr, w.expr)
		if w.within != "" {
			fmt.Fprintf(b, "      within = %s\n", quote(w.within))
		}
		b.WriteString("    }\n")
	}
	if st.kind == "websocket" {
		b.WriteString("    close {}\n")
	}
	b.WriteString("  }\n")
	if st.think != "" && kind != "http" { // a websocket block has no think_time: a sleep step
		fmt.Fprintf(b, "  sleep {\n    duration = %s\n  }\n", quote(st.think))
	}
}

// quote renders s as an HCL string literal: escapes, and ${ / %{ doubled so nothing in s is
// taken for a template.
func quote(s string) string {
	return `"` + escapeTemplate(s) + `"`
}

// escapeTemplate escapes s for the inside of an HCL quoted template.
func escapeTemplate(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= 0x80 {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case (r == '$' || r == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(byte(r))
			b.WriteByte(byte(r))
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`) // not UTF-8: an HCL file cannot hold the byte
		case r < 0x20 || r == 0x7f || (r >= 0x80 && !unicode.IsPrint(r)):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isIdent reports whether s can be an unquoted HCL object key or identifier.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r) && r < 0x80:
		case i > 0 && (r == '-' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return s != "null" && s != "true" && s != "false"
}

// key renders an object key, quoted unless it is an identifier.
func key(s string) string {
	if isIdent(s) {
		return s
	}
	return quote(s)
}

// object renders an object constructor of already rendered expressions, on one line when short.
func object(items []kv) string {
	parts := make([]string, len(items))
	width := 0
	for i, it := range items {
		parts[i] = key(it.key) + " = " + it.expr
		width += len(parts[i]) + 2
	}
	if width <= 70 && !strings.Contains(strings.Join(parts, ""), "\n") {
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	return "{\n" + strings.Join(parts, "\n") + "\n}"
}

// value renders a JSON-like Go value (from encoding/json or YAML) as an HCL expression.
func value(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return quote(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return "null"
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = value(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		items := make([]kv, len(keys))
		for i, k := range keys {
			items[i] = kv{k, value(x[k])}
		}
		return object(items)
	}
	return quote(fmt.Sprint(v))
}

// ident turns s into a lower-case identifier (letters, digits, underscores), never empty.
func ident(s string) string {
	var b strings.Builder
	prevUnderscore := true
	for _, r := range strings.ToLower(s) {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			prevUnderscore = false
		} else if !prevUnderscore {
			b.WriteByte('_')
			prevUnderscore = true
		}
	}
	out := strings.Trim(b.String(), "_")
	if len(out) > 60 {
		out = strings.Trim(out[:60], "_")
	}
	if out == "" || unicode.IsDigit(rune(out[0])) {
		out = "s_" + out
	}
	return out
}

// uniqueName returns name, or name_2, name_3… when seen already has it; it records the result.
func uniqueName(seen map[string]bool, name string) string {
	out := name
	for n := 2; seen[out]; n++ {
		out = fmt.Sprintf("%s_%d", name, n)
	}
	seen[out] = true
	return out
}
