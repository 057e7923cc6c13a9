package plan

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

var httpSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "method"}, {Name: "url"}, {Name: "path"}, {Name: "query"}, {Name: "headers"},
		{Name: "body"}, {Name: "json"}, {Name: "form"}, {Name: "timeout"}, {Name: "follow_redirects"},
		{Name: "max_redirects"}, {Name: "name"}, {Name: "think_time"}, {Name: "fail_on_check"}, {Name: "target"},
		{Name: "expected_status"},
		{Name: "when"}, // read by step, before the step's own captures
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "check"}, {Type: "capture", LabelNames: []string{"name"}}},
}

var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// Defaults of an http step.
const (
	DefaultMaxRedirects = 10
)

func (l *loader) httpStep(c *stepCtx, b *hcl.Block) *HTTPStep {
	name := b.Labels[0]
	c.names.declare(l, name, labelRange(b))
	content, diags := b.Body.Content(httpSchema)
	l.add(diags)
	st := &HTTPStep{Name: name, Method: "GET", FollowRedirects: true, MaxRedirects: DefaultMaxRedirects,
		Pos: posOf(b.DefRange)}
	st.Target = l.stepTarget(c, content)
	st.Timeout = DefaultTimeout
	if st.Target != nil {
		st.Timeout = st.Target.Timeout
	}
	sc := c.scope("an http step")
	cs := &scope{src: c.src, what: "this setting of an http step"}
	if a := content.Attributes["method"]; a != nil {
		if m, sensitive, ok := l.strMarked(a, cs); ok {
			m = strings.ToUpper(m)
			if !contains(httpMethods, m) {
				l.errorAt(a.Expr.Range(), "Unknown HTTP method", "%s is not an HTTP method.%s", quoted(m, sensitive), hintFor(m, sensitive, httpMethods))
			} else {
				st.Method = m
			}
		}
	}
	st.URL = l.stepURL(c, content, st.Target, sc, b, false)
	if a := content.Attributes["query"]; a != nil {
		st.Query = l.kvs(a, sc)
	}
	if a := content.Attributes["headers"]; a != nil {
		st.Headers = l.kvs(a, sc)
	}
	var bodyAttrs []string
	for _, n := range []string{"body", "json", "form"} {
		if content.Attributes[n] != nil {
			bodyAttrs = append(bodyAttrs, n)
		}
	}
	if len(bodyAttrs) > 1 {
		a := content.Attributes[bodyAttrs[1]]
		l.errorAt(a.NameRange, "Conflicting request bodies",
			"An http step sends one body: keep one of %s.", quoteList(bodyAttrs))
	}
	if a := content.Attributes["body"]; a != nil {
		st.Body = l.template(a.Expr, sc, true)
	}
	if a := content.Attributes["json"]; a != nil {
		st.JSON = l.template(a.Expr, sc, false)
	}
	if a := content.Attributes["form"]; a != nil {
		st.Form = l.kvs(a, sc)
	}
	if a := content.Attributes["timeout"]; a != nil {
		if d, ok := l.duration(a, cs); ok {
			if d == 0 {
				l.errorAt(a.Expr.Range(), "Invalid timeout", "A timeout of 0 would fail every request; write e.g. \"10s\".")
			} else {
				st.Timeout = d
			}
		}
	}
	if a := content.Attributes["follow_redirects"]; a != nil {
		st.FollowRedirects, _ = l.boolean(a, cs)
	}
	if a := content.Attributes["max_redirects"]; a != nil {
		st.MaxRedirects, _ = l.integer(a, cs, 0)
	}
	if a := content.Attributes["fail_on_check"]; a != nil {
		st.FailOnCheck, _ = l.boolean(a, cs)
	}
	if a := content.Attributes["expected_status"]; a != nil {
		st.ExpectedStatus = l.expectedStatus(a, cs)
	}
	if a := content.Attributes["think_time"]; a != nil {
		if tt, ok := l.thinkTime(a, cs); ok {
			st.ThinkTime = &tt
		}
	}
	st.URLTag = urlTag(st.URL.Display())
	if a := content.Attributes["name"]; a != nil {
		if s, sensitive, ok := l.strMarked(a, cs); ok {
			st.URLTag = shown(s, sensitive)
		}
	}
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "check":
			st.Checks = append(st.Checks, l.checks(blk, cs)...)
		case "capture":
			if cp := l.capture(blk, cs, false); cp != nil {
				st.Captures = append(st.Captures, cp)
			}
		}
	}
	// Captures become visible to the steps after this one.
	for _, cp := range st.Captures {
		c.defined[cp.Name] = true
	}
	uniqueHiddenNames(st.Checks)
	st.Tags = l.tagsFor(c, name, st.Target, st.Method, st.URLTag, "http")
	return st
}

// stepURL compiles a step's url or path. ws converts http(s) schemes to ws(s).
func (l *loader) stepURL(c *stepCtx, content *hcl.BodyContent, t *Target, sc *scope, b *hcl.Block, ws bool) *Template {
	ua, pa := content.Attributes["url"], content.Attributes["path"]
	switch {
	case ua != nil && pa != nil:
		l.errorAt(pa.NameRange, "Conflicting url and path", "Give either url (absolute) or path (joined to the target's base_url), not both.")
		return nil
	case ua == nil && pa == nil:
		l.errorAt(b.DefRange, "Missing url or path",
			"%s needs path = \"/...\" (joined to the target's base_url) or an absolute url = \"http://...\".", what(b))
		return nil
	case ua != nil:
		t := l.template(ua.Expr, sc, true)
		if t == nil {
			return nil
		}
		if t.IsConstant() && t.strOK && !strings.Contains(t.str, "://") {
			l.errorAt(ua.Expr.Range(), "URL is not absolute",
				"%s has no scheme. Write an absolute URL such as \"http://host:port/path\", or use path for a path on the target.", quoted(t.str, t.sensitive))
			return nil
		}
		t.Source = innerSource(ua.Expr, sc.src.src)
		if ws {
			wsScheme(t)
		}
		return t
	}
	if t == nil {
		if c.noTarget {
			l.checkRefs(pa.Expr, sc) // the target is reported already; the path's own references still are checked
			return nil
		}
		l.errorAt(pa.NameRange, "No target for path",
			"path is joined to a target's base_url, but this scenario has no target. Add target = target.NAME to the scenario, or use an absolute url.")
		return nil
	}
	if t.BaseURL == "" {
		l.checkRefs(pa.Expr, sc)
		return nil // the target's problem is reported at the target
	}
	base := strings.TrimRight(t.BaseURL, "/")
	if ws {
		base = wsSchemeString(base)
	}
	display := base
	if l.sensitiveTargets[t.Name] {
		display = "${target." + t.Name + "}"
	}
	if !l.checkRefs(pa.Expr, sc) {
		return nil
	}
	if _, ok := l.probe(pa.Expr, sc); !ok {
		return nil
	}
	expr := joinExpr(base, pa.Expr)
	tpl, diags := CompileTemplate(expr, sc.src.src, sc.src.ctx, l.feeders)
	l.add(diags)
	if tpl == nil {
		return nil
	}
	if tpl.IsConstant() {
		if !tpl.strOK {
			l.errorAt(pa.Expr.Range(), "Incorrect value type", "path must be text, e.g. \"/api/health\".")
			return nil
		}
		if !strings.HasPrefix(tpl.str[len(base):], "/") && tpl.str != base {
			l.errorAt(pa.Expr.Range(), "Invalid path", "A path starts with \"/\": write %s.", quoted("/"+tpl.str[len(base):], tpl.sensitive))
			return nil
		}
		if l.sensitiveTargets[t.Name] {
			tpl.sensitive = true
		}
	}
	tpl.Source = display + innerSource(pa.Expr, sc.src.src)
	return tpl
}

// urlTag is the url/name tag of a step without a name tag: its URL template as displayed (a
// target's base_url joined with the path, or the absolute url), without scheme, host and port —
// or a sensitive target's ${target.NAME} placeholder — so that a step keeps its series when the
// target moves (every `apply --demo` listens on a new port, a CI job's target is a new
// container), and summary, CSV, InfluxDB and Prometheus show the same tag. The base_url's own
// path, the path's template parts and a query in the URL stay. A URL whose host is an
// expression ("${var.base}/x") shows no host already and is left as it is.
func urlTag(display string) string {
	rest := display
	if strings.HasPrefix(rest, "${target.") {
		rest = rest[strings.IndexByte(rest, '}')+1:]
	} else {
		i := strings.Index(rest, "://")
		if i <= 0 || !isScheme(rest[:i]) {
			return display
		}
		rest = rest[i+len("://"):]
		rest = rest[authorityEnd(rest):]
	}
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	return rest
}

// isScheme reports whether s is a URL scheme (RFC 3986: a letter, then letters, digits, + - .).
func isScheme(s string) bool {
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// authorityEnd returns where the host[:port] at the start of s ends: at the first /, ? or #
// outside a ${...} template part (a host may be an expression), else at the end.
func authorityEnd(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
			i++
		case s[i] == '}' && depth > 0:
			depth--
		case depth == 0 && (s[i] == '/' || s[i] == '?' || s[i] == '#'):
			return i
		}
	}
	return len(s)
}

// joinExpr builds the expression base + path without re-parsing: a template whose first part is
// the base URL literal.
func joinExpr(base string, path hcl.Expression) hcl.Expression {
	lit := &hclsyntax.LiteralValueExpr{Val: cty.StringVal(base), SrcRange: path.Range()}
	var parts []hclsyntax.Expression
	switch e := path.(type) {
	case *hclsyntax.TemplateExpr:
		parts = append([]hclsyntax.Expression{lit}, e.Parts...)
	case *hclsyntax.TemplateWrapExpr:
		parts = []hclsyntax.Expression{lit, e.Wrapped}
	case hclsyntax.Expression:
		parts = []hclsyntax.Expression{lit, e}
	default:
		return path
	}
	return &hclsyntax.TemplateExpr{Parts: parts, SrcRange: path.Range()}
}

// innerSource returns a quoted template's text without its quotes, else the expression's source.
func innerSource(e hcl.Expression, src []byte) string {
	s := string(e.Range().SliceBytes(src))
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return "${" + s + "}"
}

// wsSchemeString converts http:// to ws:// and https:// to wss://.
func wsSchemeString(s string) string {
	switch {
	case strings.HasPrefix(s, "http://"):
		return "ws://" + s[len("http://"):]
	case strings.HasPrefix(s, "https://"):
		return "wss://" + s[len("https://"):]
	}
	return s
}

// wsScheme converts the scheme of a template whose text starts with a literal URL.
func wsScheme(t *Template) {
	switch {
	case t.constant && t.strOK:
		t.str = wsSchemeString(t.str)
		t.value = cty.StringVal(t.str)
	case len(t.parts) > 0 && t.parts[0].kind == litPart:
		t.parts[0].lit = wsSchemeString(t.parts[0].lit)
	}
	t.Source = wsSchemeString(t.Source)
}
