package httpstep

import (
	"bytes"
	"fmt"
	"net/url"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/internal/jsonpath"
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
		want, err := jsonpath.Decode([]byte(c.JSONValue))
		if err != nil {
			return nil, fmt.Errorf("check %s: expected value %q is not JSON: %w", c.Name, c.JSONValue, err)
		}
		ck.want = want
	}
	if (c.Kind == plan.CheckHeaderMatches || c.Kind == plan.CheckBodyMatches) && c.Regexp == nil {
		return nil, fmt.Errorf("check %s: no regular expression", c.Name)
	}
	return ck, nil
}

// eval tests one response.
func (c *check) eval(r *response, doc *jsonpath.Doc) bool {
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
		root, ok := doc.Get(r.body)
		if !ok {
			return false
		}
		got, ok := jsonpath.Lookup(root, pc.Path)
		return ok && jsonpath.Equal(got, c.want)
	case plan.CheckMaxDuration:
		return r.service <= pc.Duration
	}
	return false
}

// captureHTTP extracts a capture from an HTTP response; cookies fall back to the VU's jar.
func (h *httpState) captureHTTP(c *plan.Capture, r *response, doc *jsonpath.Doc, u *url.URL) (string, bool) {
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
		for _, ck := range h.jar.Cookies(u) {
			if ck.Name == c.Path {
				return ck.Value, true
			}
		}
		return "", false
	}
	return step.Capture(c, r.body, doc)
}
