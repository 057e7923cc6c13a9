package executor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/loadplan/loadplan/plan"
)

// check is a compiled plan.Check; the expected JSON value is decoded once.
type check struct {
	pc   *plan.Check
	want any
}

func compileCheck(c *plan.Check) (*check, error) {
	ck := &check{pc: c}
	if c.Kind == plan.CheckJSONEquals {
		d := json.NewDecoder(strings.NewReader(c.JSONValue))
		d.UseNumber()
		if err := d.Decode(&ck.want); err != nil {
			return nil, fmt.Errorf("check %s: expected value %q is not JSON: %w", c.Name, c.JSONValue, err)
		}
	}
	if (c.Kind == plan.CheckHeaderMatches || c.Kind == plan.CheckBodyMatches) && c.Regexp == nil {
		return nil, fmt.Errorf("check %s: no regular expression", c.Name)
	}
	return ck, nil
}

// eval tests one response.
func (c *check) eval(r *response, doc *jsonDoc) bool {
	pc := c.pc
	switch pc.Kind {
	case plan.CheckStatus:
		for _, s := range pc.Statuses {
			if r.status == s {
				return true
			}
		}
		for _, rg := range pc.StatusRanges {
			if r.status >= rg[0] && r.status <= rg[1] {
				return true
			}
		}
		return false
	case plan.CheckHeaderEquals:
		return r.header.Get(pc.Header) == pc.Value
	case plan.CheckHeaderMatches:
		return pc.Regexp.MatchString(r.header.Get(pc.Header))
	case plan.CheckBodyContains:
		return bytes.Contains(r.body, []byte(pc.Value))
	case plan.CheckBodyMatches:
		return pc.Regexp.Match(r.body)
	case plan.CheckJSONEquals:
		root, ok := doc.get(r.body)
		if !ok {
			return false
		}
		got, ok := jsonPath(root, pc.Path)
		return ok && jsonEqual(got, c.want)
	case plan.CheckMaxDuration:
		return r.service <= pc.Duration
	}
	return false
}

// jsonDoc parses a body as JSON at most once, on first use.
type jsonDoc struct {
	done bool
	ok   bool
	v    any
}

func (d *jsonDoc) get(body []byte) (any, bool) {
	if !d.done {
		d.done = true
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		d.ok = dec.Decode(&d.v) == nil
	}
	return d.v, d.ok
}

// bracketsToDots turns "items[0]" into "items.0".
var bracketsToDots = strings.NewReplacer("[", ".", "]", "")

// jsonPath walks a dot-separated path ("data.items.0.id", also "$.data.items[0].id") through
// decoded JSON.
func jsonPath(v any, path string) (any, bool) {
	path = strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
	if path == "" {
		return v, true
	}
	path = bracketsToDots.Replace(path)
	for _, key := range strings.Split(path, ".") {
		if key == "" {
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[key]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// jsonEqual compares decoded JSON values; numbers compare by value.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		fx, e1 := x.Float64()
		fy, e2 := y.Float64()
		return e1 == nil && e2 == nil && fx == fy
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			if yv, ok := y[k]; !ok || !jsonEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// jsonText renders a decoded JSON value as capture text: strings raw, numbers as written,
// objects and arrays as JSON.
func jsonText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// captureValue extracts a capture from a body (HTTP response or WebSocket frame) for the json and
// regex kinds; doc caches the parsed JSON. Header and cookie kinds return false here.
func captureValue(c *plan.Capture, body []byte, doc *jsonDoc) (string, bool) {
	switch c.Kind {
	case plan.CaptureJSON:
		root, ok := doc.get(body)
		if !ok {
			return "", false
		}
		v, ok := jsonPath(root, c.Path)
		if !ok || v == nil {
			return "", false
		}
		return jsonText(v), true
	case plan.CaptureRegex:
		if c.Regexp == nil {
			return "", false
		}
		m := c.Regexp.FindSubmatch(body)
		if m == nil {
			return "", false
		}
		if len(m) > 1 {
			return string(m[1]), true
		}
		return string(m[0]), true
	}
	return "", false
}

// captureHTTP extracts a capture from an HTTP response; cookies fall back to the VU's jar.
func (v *vu) captureHTTP(c *plan.Capture, r *response, doc *jsonDoc, u *url.URL) (string, bool) {
	switch c.Kind {
	case plan.CaptureHeader:
		vals := r.header.Values(c.Path)
		if len(vals) == 0 {
			return "", false
		}
		return vals[0], true
	case plan.CaptureCookie:
		for _, ck := range r.cookies {
			if ck.Name == c.Path {
				return ck.Value, true
			}
		}
		for _, ck := range v.http.jar.Cookies(u) {
			if ck.Name == c.Path {
				return ck.Value, true
			}
		}
		return "", false
	}
	return captureValue(c, r.body, doc)
}
