package plan

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

var checkSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "status"}, {Name: "headers"}, {Name: "header_matches"}, {Name: "body_contains"},
		{Name: "body_matches"}, {Name: "json"}, {Name: "max_duration"},
	},
}

var captureSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "json"}, {Name: "header"}, {Name: "regex"}, {Name: "cookie"}, {Name: "required"}},
}

// checks decodes a check block; each attribute (and each key of a map attribute) is one Check.
func (l *loader) checks(b *hcl.Block, sc *scope) []*Check {
	content, diags := b.Body.Content(checkSchema)
	l.add(diags)
	if len(content.Attributes) == 0 && !diags.HasErrors() {
		l.errorAt(b.DefRange, "Empty check", "A check block needs at least one condition, e.g. status = 200 or body_contains = \"ok\".")
		return nil
	}
	var out []*Check
	for _, a := range sortedAttrs(content.Attributes) {
		pos := posOf(a.Range)
		switch a.Name {
		case "status":
			if c := l.statusCheck(a, sc); c != nil {
				c.Pos = pos
				out = append(out, c)
			}
		case "headers", "header_matches":
			m, secret, ok := l.strMapMarked(a, sc)
			if !ok {
				continue
			}
			for _, k := range sortedKeys(m) {
				c := &Check{Kind: CheckHeaderEquals, Header: k, Value: m[k], Pos: pos,
					Name: fmt.Sprintf("header %s == %s", k, shown(m[k], secret[k]))}
				if a.Name == "header_matches" {
					c.Kind, c.Value, c.Name = CheckHeaderMatches, "", fmt.Sprintf("header %s =~ %s", k, shown(m[k], secret[k]))
					if c.Regexp = l.regexp(a, m[k], secret[k]); c.Regexp == nil {
						continue
					}
				}
				out = append(out, c)
			}
		case "body_contains":
			v, ok := l.constantKeep(a, sc)
			if !ok {
				continue
			}
			secret := markedIndexes(v)
			v, _ = v.UnmarkDeep()
			var list []string
			if v.Type() == cty.String {
				list = []string{v.AsString()}
			} else if lv, ok := l.convertTo(a, v, cty.List(cty.String), `Write a string or a list of strings.`); ok {
				for _, e := range lv.AsValueSlice() {
					list = append(list, e.AsString())
				}
			}
			for i, s := range list {
				out = append(out, &Check{Kind: CheckBodyContains, Value: s, Pos: pos,
					Name: "body contains " + quoted(s, i < len(secret) && secret[i])})
			}
		case "body_matches":
			if s, sensitive, ok := l.strMarked(a, sc); ok {
				if re := l.regexp(a, s, sensitive); re != nil {
					out = append(out, &Check{Kind: CheckBodyMatches, Regexp: re, Pos: pos, Name: "body =~ " + shown(s, sensitive)})
				}
			}
		case "json":
			out = append(out, l.jsonChecks(a, sc)...)
		case "max_duration":
			if d, sensitive, ok := l.durationMarked(a, sc); ok {
				out = append(out, &Check{Kind: CheckMaxDuration, Duration: d, Pos: pos, Name: "duration <= " + shown(d.String(), sensitive)})
			}
		}
	}
	return out
}

// regexp compiles s. The error of a secret pattern says what is wrong (syntax.Error's code),
// never the fragment of the pattern Go's message quotes.
func (l *loader) regexp(a *hcl.Attribute, s string, sensitive bool) *regexp.Regexp {
	re, err := regexp.Compile(s)
	if err != nil && sensitive {
		why := "not a valid pattern"
		var se *syntax.Error
		if errors.As(err, &se) {
			why = string(se.Code)
		}
		l.errorAt(a.Expr.Range(), "Invalid regular expression", "%s: %s: %s. The syntax is Go's (RE2); escape backslashes in HCL strings (\"\\\\d+\").", a.Name, Hidden, why)
		return nil
	}
	if err != nil {
		l.errorAt(a.Expr.Range(), "Invalid regular expression", "%s: %v. The syntax is Go's (RE2); escape backslashes in HCL strings (\"\\\\d+\").", a.Name, err)
		return nil
	}
	return re
}

// statusCheck reads status = 200 | [200, 201] | "2xx" | "200-299" | ["2xx", 304].
func (l *loader) statusCheck(a *hcl.Attribute, sc *scope) *Check {
	v, ok := l.constantKeep(a, sc)
	if !ok {
		return nil
	}
	secret := markedIndexes(v)
	v, _ = v.UnmarkDeep()
	var items []cty.Value
	if v.Type().IsListType() || v.Type().IsTupleType() || v.Type().IsSetType() {
		items = v.AsValueSlice()
	} else {
		items = []cty.Value{v}
	}
	c := &Check{Kind: CheckStatus}
	var names []string // as the check's name shows them
	for i, it := range items {
		sensitive := i < len(secret) && secret[i]
		s, err := ctyString(it)
		if err != nil || it.IsNull() {
			l.errorAt(a.Expr.Range(), "Invalid status", `Write a status code, a class or a range: 200, [200, 201], "2xx" or "200-299".`)
			return nil
		}
		lo, hi, ok := parseStatus(s)
		if !ok {
			l.errorAt(a.Expr.Range(), "Invalid status",
				"%s is not a status. Write a code from 100 to 599 (200), a class (\"2xx\") or a range (\"200-299\").", quoted(s, sensitive))
			return nil
		}
		if lo == hi {
			c.Statuses = append(c.Statuses, lo)
		} else {
			c.StatusRanges = append(c.StatusRanges, [2]int{lo, hi})
		}
		names = append(names, shown(s, sensitive))
	}
	if len(names) == 0 {
		l.errorAt(a.Expr.Range(), "Invalid status", "The list of statuses is empty; give at least one.")
		return nil
	}
	if len(names) == 1 && len(c.Statuses) == 1 {
		c.Name = "status == " + names[0]
	} else if len(names) == 1 {
		c.Name = "status in " + names[0]
	} else {
		c.Name = "status in (" + strings.Join(names, ", ") + ")"
	}
	return c
}

// parseStatus parses "200", "2xx" or "200-299" into an inclusive range.
func parseStatus(s string) (int, int, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 3 && strings.HasSuffix(strings.ToLower(s), "xx") && s[0] >= '1' && s[0] <= '5' {
		d := int(s[0]-'0') * 100
		return d, d + 99, true
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil || a < 100 || b > 599 || a > b {
			return 0, 0, false
		}
		return a, b, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, false
	}
	return n, n, true
}

// jsonChecks reads json = { "a.b" = value }: the value at each path must equal the given one.
func (l *loader) jsonChecks(a *hcl.Attribute, sc *scope) []*Check {
	v, ok := l.constantKeep(a, sc)
	if !ok {
		return nil
	}
	secret := markedKeys(v)
	v, _ = v.UnmarkDeep()
	if !v.Type().IsObjectType() && !v.Type().IsMapType() {
		l.errorAt(a.Expr.Range(), "Invalid json check", `json is an object of paths and expected values, e.g. json = { "status" = "ok", "items.0.id" = 1 }.`)
		return nil
	}
	var out []*Check
	m := v.AsValueMap()
	for _, path := range sortedKeys(m) {
		ev := m[path]
		b, err := ctyjson.Marshal(ev, ev.Type())
		if err != nil {
			l.errorAt(a.Expr.Range(), "Invalid json check", "The expected value of %q cannot be written as JSON: %v.", path, err)
			continue
		}
		out = append(out, &Check{Kind: CheckJSONEquals, Path: path, JSONValue: string(b), Pos: posOf(a.Range),
			Name: fmt.Sprintf("json %s == %s", path, shown(string(b), secret[path]))})
	}
	return out
}

// capture decodes a capture block. frame says it reads a WebSocket frame (json or regex only).
func (l *loader) capture(b *hcl.Block, sc *scope, frame bool) *Capture {
	content, diags := b.Body.Content(captureSchema)
	l.add(diags)
	c := &Capture{Name: b.Labels[0], Required: true, Pos: posOf(b.DefRange)}
	var kinds []string
	for _, k := range []string{"json", "header", "regex", "cookie"} {
		if content.Attributes[k] != nil {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) != 1 {
		detail := `Give exactly one source: json = "path.to.value", header = "Name", regex = "id=(\\d+)" or cookie = "name".`
		if frame {
			detail = `Give exactly one source for a frame: json = "path.to.value" or regex = "id=(\\d+)".`
		}
		l.errorAt(b.DefRange, "Invalid capture", "%s", detail)
		return nil
	}
	a := content.Attributes[kinds[0]]
	if frame && (kinds[0] == "header" || kinds[0] == "cookie") {
		l.errorAt(a.NameRange, "Invalid capture", "A WebSocket frame has no %ss; capture with json or regex.", kinds[0])
		return nil
	}
	s, sensitive, ok := l.strMarked(a, sc)
	if !ok {
		return nil
	}
	switch kinds[0] {
	case "json":
		c.Kind, c.Path = CaptureJSON, s
	case "header":
		c.Kind, c.Path = CaptureHeader, s
	case "cookie":
		c.Kind, c.Path = CaptureCookie, s
	case "regex":
		c.Kind = CaptureRegex
		if c.Regexp = l.regexp(a, s, sensitive); c.Regexp == nil {
			return nil
		}
	}
	if s == "" && c.Kind != CaptureRegex {
		l.errorAt(a.Expr.Range(), "Invalid capture", "%s must name what to capture.", kinds[0])
		return nil
	}
	if ra := content.Attributes["required"]; ra != nil {
		c.Required, _ = l.boolean(ra, sc)
	}
	return c
}
