package importer

import (
	"encoding/csv"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// step builds the http step of one operation.
func (g *openapiGen) step(o operation, seen map[string]bool, captured map[string]string) step {
	name := o.op.OperationID
	if name == "" {
		name = strings.ToLower(o.method) + "_" + o.path
	}
	st := step{name: uniqueName(seen, ident(name)), method: o.method}
	if o.op.Summary != "" {
		st.comments = append(st.comments, oneLine(o.op.Summary))
	}
	params := map[string]*openapi3.Parameter{}
	var order []string
	for _, list := range []openapi3.Parameters{o.item.Parameters, o.op.Parameters} {
		for _, ref := range list {
			if ref == nil || ref.Value == nil {
				continue
			}
			k := ref.Value.In + ":" + ref.Value.Name
			if _, ok := params[k]; !ok {
				order = append(order, k)
			}
			params[k] = ref.Value // an operation's parameter overrides the path item's
		}
	}
	// Path: each {param} is a capture of an earlier create, an example, or a feeder column.
	path := strings.NewReplacer("\x00", "", "\x01", "").Replace(o.path) // the markers below
	templated := false
	for _, k := range order {
		p := params[k]
		if p.In != "path" {
			continue
		}
		var expr string
		parent := o.path[:max(0, strings.Index(o.path, "{"+p.Name+"}")-1)]
		if c, ok := captured[parent]; ok {
			expr, templated = "${capture."+c+"}", true
		} else if v, ok := paramExample(p); ok {
			expr = escapeTemplate(url.PathEscape(scalar(v)))
		} else if g.opts.Feeder != "" {
			expr, templated = "${data.params."+g.feederColumn(p)+"}", true
		} else {
			expr = escapeTemplate(url.PathEscape(scalar(instance(p.Schema))))
		}
		path = strings.ReplaceAll(path, "{"+p.Name+"}", "\x00"+expr+"\x01")
	}
	st.path = pathExpr(path)
	if templated {
		st.tagName = o.path
	}
	for _, k := range order {
		p := params[k]
		if p.In != "query" && p.In != "header" {
			continue
		}
		v, ok := paramExample(p)
		if !ok && !p.Required {
			continue // optional and without an example: left to the server's default
		}
		if !ok {
			v = instance(p.Schema)
		}
		if arr, isArr := v.([]any); isArr {
			if len(arr) == 0 {
				continue
			}
			v = arr[0]
		}
		if _, isObj := v.(map[string]any); isObj {
			continue
		}
		if p.In == "query" {
			st.query = append(st.query, kv{p.Name, value(v)})
		} else {
			st.headers = append(st.headers, kv{p.Name, quote(scalar(v))})
		}
	}
	g.security(o, &st)
	g.body(o, &st)
	st.status = successStatus(o.op)
	return st
}

// pathExpr quotes a path whose substituted parts (between \x00 and \x01) are already escaped.
func pathExpr(p string) string {
	var b strings.Builder
	b.WriteByte('"')
	for p != "" {
		i := strings.IndexByte(p, 0)
		if i < 0 {
			b.WriteString(escapeTemplate(p))
			break
		}
		j := strings.IndexByte(p[i:], 1) + i
		if j < i {
			b.WriteString(escapeTemplate(p))
			break
		}
		b.WriteString(escapeTemplate(p[:i]))
		b.WriteString(p[i+1 : j])
		p = p[j+1:]
	}
	b.WriteByte('"')
	return b.String()
}

// paramExample is the parameter's documented example, if any.
func paramExample(p *openapi3.Parameter) (any, bool) {
	if p.Example != nil {
		return p.Example, true
	}
	if v, ok := firstExample(p.Examples); ok {
		return v, true
	}
	if p.Schema == nil || p.Schema.Value == nil {
		return nil, false
	}
	if s := p.Schema.Value; s.Example != nil {
		return s.Example, true
	} else if len(s.Examples) > 0 {
		return s.Examples[0], true
	} else if p.In == "path" {
		return exampleOf(s) // a path needs a value: an enum's first or the default is a real one
	}
	return nil, false
}

// firstExample is the value of the first example by name.
func firstExample(ex openapi3.Examples) (any, bool) {
	names := make([]string, 0, len(ex))
	for n := range ex {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if ex[n] != nil && ex[n].Value != nil && ex[n].Value.Value != nil {
			return ex[n].Value.Value, true
		}
	}
	return nil, false
}

// scalar renders a JSON scalar as the text of a path segment or header.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// security adds the headers or query parameters of the operation's first security requirement.
func (g *openapiGen) security(o operation, st *step) {
	for _, n := range g.requirements(o) {
		l := g.secLocals[n]
		s := g.doc.Components.SecuritySchemes[n].Value
		ref := "local." + l.name
		switch {
		case s.Type == "http" && strings.EqualFold(s.Scheme, "basic"):
			st.headers = append(st.headers, kv{"Authorization", "\"Basic ${base64encode(" + ref + ")}\""})
		case s.Type == "apiKey" && s.In == "query":
			st.query = append(st.query, kv{s.Name, ref})
		case s.Type == "apiKey" && s.In == "header":
			st.headers = append(st.headers, kv{s.Name, ref})
		case s.Type == "apiKey":
			st.comments = append(st.comments, fmt.Sprintf("security %q sends an API key in a %s: set it yourself", n, s.In))
		default:
			if g.token != "" {
				ref = g.token
			}
			st.headers = append(st.headers, kv{"Authorization", "\"Bearer ${" + ref + "}\""})
		}
	}
}

// body sets the request body: JSON from the example or the schema, or a form.
func (g *openapiGen) body(o operation, st *step) {
	if o.op.RequestBody == nil || o.op.RequestBody.Value == nil {
		return
	}
	content := o.op.RequestBody.Value.Content
	for _, mt := range []string{"application/json", "application/x-www-form-urlencoded"} {
		m := content.Get(mt)
		if m == nil {
			continue
		}
		v := m.Example
		if v == nil {
			v, _ = firstExample(m.Examples)
		}
		if v == nil {
			v = instance(m.Schema)
		}
		if mt == "application/json" {
			st.bodyAttr, st.bodyExpr = "json", value(v)
			return
		}
		if obj, ok := v.(map[string]any); ok {
			st.bodyAttr, st.bodyExpr = "form", value(obj)
			return
		}
	}
	for mt := range content {
		st.comments = append(st.comments, fmt.Sprintf("the request body (%s) is not generated: add body = ...", mt))
		break
	}
}

// successStatus is the check of the documented success: the lowest 2xx code, or "2xx".
func successStatus(op *openapi3.Operation) string {
	best := ""
	for code := range op.Responses.Map() {
		if len(code) == 3 && code[0] == '2' && code[1] >= '0' && code[1] <= '9' && (best == "" || code < best) {
			best = code
		}
	}
	if best != "" {
		return best
	}
	return `"2xx"`
}

// suggestCapture adds a capture of the created resource's id when a later operation of the
// scenario addresses it by a path parameter under this operation's path.
func (g *openapiGen) suggestCapture(st *step, o operation, later []operation, captured map[string]string) {
	if o.method != "POST" || strings.Contains(o.path, "{") {
		return
	}
	resp := o.op.Responses.Map()[strings.Trim(st.status, `"`)]
	if resp == nil || resp.Value == nil || resp.Value.Content.Get("application/json") == nil {
		return
	}
	field := idField(resp.Value.Content.Get("application/json").Schema)
	if field == "" {
		return
	}
	prefix := strings.TrimRight(o.path, "/") + "/{"
	for _, l := range later {
		if !strings.HasPrefix(l.path, prefix) {
			continue
		}
		end := strings.IndexByte(l.path[len(prefix):], '}')
		if end < 0 {
			continue // a malformed template: no parameter to feed
		}
		name := ident(l.path[len(prefix) : len(prefix)+end])
		st.captures = append(st.captures, capture{name: name, json: field,
			comment: fmt.Sprintf("suggested: the created %s feeds %s", field, l.path)})
		captured[strings.TrimRight(o.path, "/")] = name
		return
	}
}

// feederColumn registers a path parameter as a column of the feeder stub.
func (g *openapiGen) feederColumn(p *openapi3.Parameter) string {
	col := ident(p.Name)
	if _, ok := g.feederCols[col]; !ok {
		g.feederCols[col] = scalar(instance(p.Schema))
		g.feederKeys = append(g.feederKeys, col)
	}
	return col
}

// feederCSV is the stub: a header of the columns and one row of values built from the schemas.
func (g *openapiGen) feederCSV() []byte {
	var b strings.Builder
	w := csv.NewWriter(&b)
	row := make([]string, len(g.feederKeys))
	for i, k := range g.feederKeys {
		row[i] = g.feederCols[k]
	}
	_ = w.Write(g.feederKeys)
	_ = w.Write(row)
	w.Flush()
	return []byte(b.String())
}

// tokenFields are the response fields a login answers with, FastAPI's OAuth2 first.
var tokenFields = []string{"access_token", "token", "id_token"}

// loginFor finds the login of a scenario's operations: when one of them needs a bearer token,
// the first POST of the document that needs no security and answers JSON with a token field.
// It returns the operation and the field.
func (g *openapiGen) loginFor(ops []operation) (operation, string, bool) {
	needs := false
	for _, o := range ops {
		for _, n := range g.requirements(o) {
			s := g.doc.Components.SecuritySchemes[n].Value
			if s.Type == "oauth2" || s.Type == "openIdConnect" || s.Type == "http" && strings.EqualFold(s.Scheme, "bearer") {
				needs = true
			}
		}
	}
	if !needs {
		return operation{}, "", false
	}
	for _, o := range g.ops {
		if o.method != "POST" || len(g.requirements(o)) > 0 {
			continue
		}
		resp := o.op.Responses.Map()[strings.Trim(successStatus(o.op), `"`)]
		if resp == nil || resp.Value == nil || resp.Value.Content.Get("application/json") == nil {
			continue
		}
		sch := resp.Value.Content.Get("application/json").Schema
		if sch == nil || sch.Value == nil {
			continue
		}
		for _, f := range tokenFields {
			if _, ok := sch.Value.Properties[f]; ok {
				return o, f, true
			}
		}
	}
	return operation{}, "", false
}

// requirements names the security schemes of the operation's first requirement that the
// document defines.
func (g *openapiGen) requirements(o operation) []string {
	reqs := g.doc.Security
	if o.op.Security != nil {
		reqs = *o.op.Security
	}
	if len(reqs) == 0 {
		return nil
	}
	var out []string
	for n := range reqs[0] {
		if _, ok := g.secLocals[n]; ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
