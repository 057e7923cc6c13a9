package importer

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// request is one recorded or pasted HTTP request, before it becomes a step.
type request struct {
	method   string
	url      string
	headers  [][2]string // in order, as given
	body     string
	hasBody  bool
	basic    bool          // credentials given apart (curl -u): sent as Basic from a secret
	follow   *bool         // follow redirects; nil keeps the plan's default
	status   string        // HCL expression of the check's status
	think    time.Duration // pause after the step (HAR gaps)
	comments []string
}

// noiseHeaders are what a browser or curl adds by itself; a replay sends its own or none.
var noiseHeaders = map[string]bool{
	"accept-encoding": true, "accept-language": true, "cache-control": true, "connection": true,
	"content-length": true, "dnt": true, "host": true, "if-modified-since": true, "if-none-match": true,
	"origin": true, "pragma": true, "priority": true, "referer": true, "te": true,
	"upgrade-insecure-requests": true, "user-agent": true, "sec-gpc": true, "keep-alive": true,
	"sec-websocket-key": true, "sec-websocket-version": true, "sec-websocket-extensions": true,
	"upgrade": true, "purpose": true, "x-requested-with": false,
}

// isNoise reports whether a header is browser noise (including every sec-ch-* and sec-fetch-*).
func isNoise(name string) bool {
	n := strings.ToLower(name)
	return noiseHeaders[n] || strings.HasPrefix(n, "sec-ch-") || strings.HasPrefix(n, "sec-fetch-") || strings.HasPrefix(n, ":")
}

// isSecretHeader reports whether a header carries a credential: it becomes an env() local.
func isSecretHeader(name string) bool {
	n := strings.ToLower(name)
	if n == "authorization" || n == "proxy-authorization" || n == "cookie" {
		return true
	}
	for _, w := range []string{"token", "key", "secret", "auth", "session", "csrf", "xsrf", "password"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// converter turns requests into steps of one scenario, collecting targets and secret locals.
type converter struct {
	doc     *planDoc
	targets map[string]string // origin -> target name
	locals  map[string]bool
	steps   map[string]bool
	cookies bool // keep Cookie headers (as secrets); false leaves cookies to the jar
}

func newConverter(d *planDoc, cookies bool) *converter {
	return &converter{doc: d, targets: map[string]string{}, locals: map[string]bool{}, steps: map[string]bool{}, cookies: cookies}
}

// target returns the target of an origin: the first is "api" with variable "host", others are
// named after their host.
func (c *converter) target(u *url.URL) string {
	origin := u.Scheme + "://" + u.Host
	if u.Scheme == "ws" || u.Scheme == "wss" {
		origin = map[string]string{"ws": "http", "wss": "https"}[u.Scheme] + "://" + u.Host
	}
	if t, ok := c.targets[origin]; ok {
		return t
	}
	name := "api"
	expr := "var.host"
	if len(c.targets) == 0 {
		c.doc.variables = append(c.doc.variables, variable{name: "host", def: origin, description: "Base URL of the service under test (where it was recorded)."})
	} else {
		name = ident(u.Hostname())
		for _, t := range c.targets {
			if t == name {
				name = fmt.Sprintf("%s_%d", name, len(c.targets)+1)
			}
		}
		expr = quote(origin)
	}
	c.targets[origin] = name
	c.doc.targets = append(c.doc.targets, target{name: name, baseURL: expr})
	return name
}

// secret returns an expression that reads a credential from the environment, registering the
// local on first use. The value itself is never written.
func (c *converter) secret(name, what string) string {
	id := ident(name)
	if !c.locals[id] {
		c.locals[id] = true
		env := "LOADPLAN_" + strings.ToUpper(id)
		c.doc.locals = append(c.doc.locals, local{id, fmt.Sprintf("env(%s, \"\")", quote(env)), fmt.Sprintf("%s: set %s (the recorded value is not copied)", what, env)})
	}
	return "local." + id
}

// step converts one request.
func (c *converter) step(r request) (step, error) {
	u, err := url.Parse(r.url)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss") {
		return step{}, fmt.Errorf("%q is not an absolute http(s) URL", r.url)
	}
	st := step{method: strings.ToUpper(r.method), comments: r.comments}
	if st.method == "" {
		st.method = "GET"
	}
	if t := c.target(u); t != "api" {
		st.target = t
	}
	last := "root"
	for _, seg := range strings.Split(u.Path, "/") {
		if seg != "" {
			last = seg
		}
	}
	st.name = uniqueName(c.steps, ident(strings.ToLower(st.method)+"_"+last))
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	st.path = quote(path)
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		simple := err == nil
		keys := make([]string, 0, len(q))
		for k, v := range q {
			simple = simple && len(v) == 1
			keys = append(keys, k)
		}
		if simple {
			sort.Strings(keys)
			for _, k := range keys {
				st.query = append(st.query, kv{k, quote(q[k][0])})
			}
		} else {
			st.path = quote(path + "?" + u.RawQuery)
		}
	}
	contentType := ""
	for _, h := range r.headers {
		if strings.EqualFold(h[0], "content-type") {
			contentType = h[1]
		}
	}
	if r.hasBody {
		st.bodyAttr, st.bodyExpr = bodyOf(r.body, contentType)
	}
	for _, h := range r.headers {
		name, val := h[0], h[1]
		lower := strings.ToLower(name)
		switch {
		case lower == "content-type" && (!r.hasBody || st.bodyAttr != "body"):
			continue // json and form set it themselves; without a body it means nothing
		case isNoise(name), lower == "cookie" && !c.cookies:
			continue
		}
		if isSecretHeader(name) {
			if scheme, _, ok := strings.Cut(val, " "); ok && lower == "authorization" && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "Basic")) {
				ref := c.secret(strings.ToLower(scheme)+"_"+map[bool]string{true: "token", false: "credentials"}[strings.EqualFold(scheme, "Bearer")], "the recorded "+name+" header")
				st.headers = append(st.headers, kv{name, fmt.Sprintf("\"%s ${%s}\"", scheme, ref)})
			} else {
				st.headers = append(st.headers, kv{name, c.secret(name, "the recorded "+name+" header")})
			}
			continue
		}
		st.headers = append(st.headers, kv{name, quote(val)})
	}
	if r.basic {
		st.headers = append(st.headers, kv{"Authorization", fmt.Sprintf("\"Basic ${base64encode(%s)}\"", c.secret("basic_credentials", "the user:password given with -u"))})
	}
	if r.follow != nil {
		st.extra = append(st.extra, kv{"follow_redirects", fmt.Sprint(*r.follow)})
	}
	st.status = r.status
	if r.think > 0 {
		st.think = r.think.Round(time.Millisecond).String()
	}
	return st, nil
}

// bodyOf picks json, form or body for a request body of a content type.
func bodyOf(body, contentType string) (string, string) {
	ct := strings.ToLower(contentType)
	if strings.HasPrefix(ct, "application/json") || strings.HasSuffix(strings.Split(ct, ";")[0], "+json") {
		var v any
		if json.Unmarshal([]byte(body), &v) == nil {
			return "json", value(v)
		}
	}
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		if q, err := url.ParseQuery(body); err == nil && len(q) > 0 {
			form := map[string]any{}
			simple := true
			for _, pair := range strings.Split(body, "&") {
				simple = simple && strings.Contains(pair, "=") // "plain text" is no form
			}
			for k, v := range q {
				simple = simple && len(v) == 1
				form[k] = v[0]
			}
			if simple { // the pairs are sent in name order: the same form to any server
				return "form", value(form)
			}
		}
	}
	return "body", quote(body)
}
