// Package httpstep is the http step kind (step.Kind): one request with its redirects, each hop
// a counted request, then checks and captures. A VU's state (client.go) is what a browser would
// keep: one client and keep-alive connections per target, one cookie jar, the request trace and
// reusable buffers, so that a request costs no allocation of its own (executor/alloc_test.go).
// http:// and https:// requests take the HTTP/1.1 fast path (fasthttp.go, internal/h1, TLS under
// it); a target whose server chooses HTTP/2 through ALPN goes, for that VU, to its own HTTP/2
// client on the negotiated connection (h2.go, h2conn.go: x/net/http2's frames, one stream at a
// time, no resend); URLs with user info keep net/http, and so does a target behind a proxy
// (plan.Target.Proxy, netopts.go): net/http's transport speaks forward and CONNECT and then
// HTTP/2 through ALPN, and a proxied run measures the proxy more than the client, so the fast
// client stays without a proxy's code on its path.
//
// Accounting: a request that left the machine is one http_reqs sample, answered or not; a
// request attempted is one http_req_failed sample; a failure is one errors sample with its cause
// (do.go). Connection outcomes go to the VU (step.VU.ConnResult) for its backoff.
package httpstep

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// httpStep is a compiled plan.HTTPStep: everything constant is built once here so that the hot
// path only copies it.
type httpStep struct {
	ps      *plan.HTTPStep
	tags    *metrics.Tags
	method  string
	target  int
	timeout time.Duration

	urlConst *url.URL // the whole URL with its query when constant; nil otherwise
	query    []plan.KV

	constHdr http.Header // constant headers: the target's, overridden by the step's
	dynHdr   []plan.KV   // per-iteration headers, applied after constHdr

	bodyConst []byte // constant body (body, json or form); nil when none or dynamic
	bodyT     *plan.Template
	jsonT     *plan.Template
	form      []plan.KV
	hasBody   bool

	checks   []*check
	needBody bool
	// needHeader: a check or capture reads response headers, so the fast path builds the
	// header map; otherwise it reads heads lean (h1.Request.Lean), keeping only Set-Cookie and
	// Location, which the jar and redirects use whatever the checks read.
	needHeader bool
	debug      step.HTTPDebugger // --http-debug; nil for none

	// Network settings of the step's target (netopts.go): proxied requests skip the fast path,
	// gzip sends Accept-Encoding: gzip and decodes bodies for checks, expected are the statuses
	// that do not fail http_req_failed (nil: 200-399).
	proxied  bool
	gzip     bool
	expected [][2]int

	// trace is the step's tracing (step.TraceConf, startTrace in do.go); nil when its requests carry no trace context.
	trace *step.TraceConf
}

// Kind is the http step kind: one request, its redirects, checks and captures.
var Kind = step.Kind{Compile: compile, NewState: newState}

func compile(s *plan.Step, env *step.Env) (step.Compiled, error) {
	ps := s.HTTP
	if ps == nil {
		return step.Compiled{}, fmt.Errorf("http step without its block")
	}
	hs, err := compileHTTP(ps, env)
	if err != nil {
		return step.Compiled{}, fmt.Errorf("http %s: %w", ps.Name, err)
	}
	return step.Compiled{Step: hs, Tags: hs.tags, Think: ps.ThinkTime}, nil
}

// Run runs the step for the VU's current iteration (do).
func (hs *httpStep) Run(ctx context.Context, _ step.VU, state step.State) error {
	return state.(*httpState).do(ctx, hs)
}

func compileHTTP(ps *plan.HTTPStep, env *step.Env) (*httpStep, error) {
	hs := &httpStep{ps: ps, tags: ps.Tags, method: ps.Method, timeout: ps.Timeout, debug: env.Debug}
	hs.needBody = env.Debug != nil && env.Debug.Bodies()
	hs.needHeader = env.Debug != nil // the fast path then keeps every response header for the debugger
	if hs.method == "" {
		hs.method = http.MethodGet
	}
	if hs.tags == nil {
		tn := ""
		if ps.Target != nil {
			tn = ps.Target.Name
		}
		hs.tags = &metrics.Tags{Scenario: env.Scenario, Step: ps.Name, Target: tn, Method: hs.method, URL: ps.URLTag, Group: "http"}
	}
	if ps.URL == nil {
		return nil, fmt.Errorf("no url")
	}
	hs.target = env.Targets.Index(ps.Target)
	if hs.timeout <= 0 {
		hs.timeout = env.Targets.Target(hs.target).Timeout
	}
	constQuery := true
	for _, kv := range ps.Query {
		constQuery = constQuery && kv.Value.IsConstant()
	}
	hs.query = ps.Query
	if ps.URL.IsConstant() {
		raw, err := ps.URL.String(nil)
		if err != nil {
			return nil, err
		}
		env.Targets.AddHost(preflightURL(raw, env.Targets.Target(hs.target)))
		if constQuery {
			raw = string(appendQuery([]byte(raw), ps.Query, nil))
			u, err := url.Parse(raw)
			if err != nil {
				return nil, fmt.Errorf("url %q: %w", raw, err)
			}
			if u.Scheme != "http" && u.Scheme != "https" {
				return nil, fmt.Errorf("url %q: want an http:// or https:// URL", raw)
			}
			hs.urlConst, hs.query = u, nil
		}
	} else if ps.Target != nil {
		env.Targets.AddHost(preflightURL(ps.Target.BaseURL, env.Targets.Target(hs.target)))
	}
	// Headers: the target's first, the step's override them by canonical name.
	var all []plan.KV
	if ps.Target != nil {
		all = append(all, ps.Target.Headers...)
	}
	all = append(all, ps.Headers...)
	final := map[string]int{}
	var order []plan.KV
	for _, kv := range all {
		k := http.CanonicalHeaderKey(kv.Name)
		if i, ok := final[k]; ok {
			order[i] = plan.KV{Name: k, Value: kv.Value}
			continue
		}
		final[k] = len(order)
		order = append(order, plan.KV{Name: k, Value: kv.Value})
	}
	hs.trace = step.CompileTrace(plan.EffectiveTracing(env.Tracing, ps.Target), env.Run, env.Scenario, ps.Name, all)
	hs.constHdr = http.Header{}
	for _, kv := range order {
		if kv.Value.IsConstant() {
			s, err := kv.Value.String(nil)
			if err != nil {
				return nil, fmt.Errorf("header %s: %w", kv.Name, err)
			}
			hs.constHdr[kv.Name] = []string{s}
		} else {
			hs.dynHdr = append(hs.dynHdr, kv)
		}
	}
	ctype := ""
	switch {
	case ps.JSON != nil:
		hs.hasBody, ctype = true, "application/json"
		if ps.JSON.IsConstant() {
			b, err := ps.JSON.JSON(nil)
			if err != nil {
				return nil, fmt.Errorf("json: %w", err)
			}
			hs.bodyConst = b
		} else {
			hs.jsonT = ps.JSON
		}
	case len(ps.Form) > 0:
		hs.hasBody, ctype = true, "application/x-www-form-urlencoded"
		constForm := true
		for _, kv := range ps.Form {
			constForm = constForm && kv.Value.IsConstant()
		}
		if constForm {
			b := appendQuery(nil, ps.Form, nil)
			hs.bodyConst = b[1:]
		} else {
			hs.form = ps.Form
		}
	case ps.Body != nil:
		hs.hasBody = true
		if ps.Body.IsConstant() {
			s, err := ps.Body.String(nil)
			if err != nil {
				return nil, fmt.Errorf("body: %w", err)
			}
			hs.bodyConst = []byte(s)
		} else {
			hs.bodyT = ps.Body
		}
	}
	if _, set := final["Content-Type"]; ctype != "" && !set {
		hs.constHdr["Content-Type"] = []string{ctype}
	}
	for _, c := range ps.Checks {
		ck, err := compileCheck(c)
		if err != nil {
			return nil, err
		}
		hs.checks = append(hs.checks, ck)
		hs.needBody = hs.needBody || c.Kind == plan.CheckBodyContains || c.Kind == plan.CheckBodyMatches || c.Kind == plan.CheckJSONEquals
		hs.needHeader = hs.needHeader || c.Kind == plan.CheckHeaderEquals || c.Kind == plan.CheckHeaderMatches
	}
	for _, c := range ps.Captures {
		hs.needBody = hs.needBody || c.Kind == plan.CaptureJSON || c.Kind == plan.CaptureRegex
		hs.needHeader = hs.needHeader || c.Kind == plan.CaptureHeader
	}
	compileNet(hs, ps, env.Targets.Target(hs.target))
	return hs, nil
}

// appendQuery appends kvs as an encoded query to dst ('?' or '&' first). A nil rt means every
// value is constant.
func appendQuery(dst []byte, kvs []plan.KV, rt *plan.Runtime) []byte {
	for _, kv := range kvs {
		if bytes.IndexByte(dst, '?') >= 0 {
			dst = append(dst, '&')
		} else {
			dst = append(dst, '?')
		}
		s, _ := kv.Value.String(rt)
		dst = append(dst, url.QueryEscape(kv.Name)...)
		dst = append(dst, '=')
		dst = append(dst, url.QueryEscape(s)...)
	}
	return dst
}

// buildURL returns the URL of one request.
func (h *httpState) buildURL(hs *httpStep) (*url.URL, error) {
	if hs.urlConst != nil {
		// shared, read-only: a RoundTripper must not modify the request, and redirects make new URLs
		return hs.urlConst, nil
	}
	var err error
	h.urlBuf, err = hs.ps.URL.AppendString(h.urlBuf[:0], h.rt)
	if err != nil {
		return nil, err
	}
	for _, kv := range hs.query {
		if _, err := kv.Value.String(h.rt); err != nil {
			return nil, err
		}
	}
	h.urlBuf = appendQuery(h.urlBuf, hs.query, h.rt)
	u, err := url.Parse(string(h.urlBuf))
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url %s: want http or https", hs.ps.URL.Source)
	}
	return u, nil
}

// buildBody returns the request body of one request, nil when the step sends none.
func (h *httpState) buildBody(hs *httpStep) ([]byte, error) {
	switch {
	case !hs.hasBody:
		return nil, nil
	case hs.bodyConst != nil:
		return hs.bodyConst, nil
	case hs.jsonT != nil:
		return hs.jsonT.JSON(h.rt)
	case hs.form != nil:
		for _, kv := range hs.form {
			if _, err := kv.Value.String(h.rt); err != nil {
				return nil, err
			}
		}
		return appendQuery(nil, hs.form, h.rt)[1:], nil
	case hs.bodyT != nil:
		s, err := hs.bodyT.String(h.rt)
		return []byte(s), err
	}
	return []byte{}, nil
}

// fillHeader refills the VU's header map for one request: constant values are shared (net/http
// replaces, never mutates, a value slice), dynamic ones are evaluated.
func (h *httpState) fillHeader(hs *httpStep) error {
	hdr := h.hdr
	clear(hdr)
	for k, vs := range hs.constHdr {
		hdr[k] = vs
	}
	for _, kv := range hs.dynHdr {
		s, err := kv.Value.String(h.rt)
		if err != nil {
			return err
		}
		hdr[kv.Name] = []string{s}
	}
	return nil
}

// newRequest builds one request on ctx.
func newRequest(ctx context.Context, method string, u *url.URL, hdr http.Header, body []byte) (*http.Request, error) {
	// Built by hand: NewRequestWithContext would parse a URL and make a header map per request.
	req := (&http.Request{Method: method, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		URL: u, Host: u.Host, Header: hdr}).WithContext(ctx)
	if h := hdr["Host"]; len(h) > 0 {
		req.Host = h[0] // net/http ignores a Host header; the plan's value goes here
	}
	if body != nil {
		req.ContentLength = int64(len(body))
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		if len(body) == 0 {
			req.Body = http.NoBody
		}
	}
	return req, nil
}

// templateError turns a template failure into an iteration-ending error with a short label.
func templateError(what string, err error) error {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return &step.Error{Label: "template " + what + ": " + msg}
}
