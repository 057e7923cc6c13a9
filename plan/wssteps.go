package plan

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var messageSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "text"}, {Name: "json"}, {Name: "binary"}},
}

var matchSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "json"}, {Name: "equals"}, {Name: "regex"}, {Name: "binary"}},
}

// wsStepSchemas are the attributes of each websocket step besides those of its message or match.
var wsStepSchemas = map[string]*hcl.BodySchema{
	"send": {Attributes: append([]hcl.AttributeSchema{{Name: "repeat"}, {Name: "interval"}}, messageSchema.Attributes...)},
	"expect": {
		Attributes: append([]hcl.AttributeSchema{{Name: "count"}, {Name: "within"}, {Name: "strict"}}, matchSchema.Attributes...),
		Blocks:     []hcl.BlockHeaderSchema{{Type: "capture", LabelNames: []string{"name"}}},
	},
	"receive": {Attributes: []hcl.AttributeSchema{{Name: "duration", Required: true}, {Name: "expect_rate"}}},
	"sleep":   {Attributes: []hcl.AttributeSchema{{Name: "duration", Required: true}}},
	"ping":    {Attributes: []hcl.AttributeSchema{{Name: "within"}}},
	"close":   {Attributes: []hcl.AttributeSchema{{Name: "code"}, {Name: "expect_code"}}},
}

var wsStepKinds = map[string]WSActionKind{
	"send": WSSend, "expect": WSExpect, "receive": WSReceive, "sleep": WSSleep, "ping": WSPing, "close": WSClose,
}

func (l *loader) wsStep(c *stepCtx, b *hcl.Block, name string) *WSAction {
	content, diags := b.Body.Content(wsStepSchemas[b.Type])
	if b.Type == "expect" {
		hintFrameMatch(diags, b.Body)
	}
	l.add(diags)
	st := &WSAction{Kind: wsStepKinds[b.Type], Name: name, Pos: posOf(b.DefRange)}
	sc := c.scope("a websocket " + b.Type + " step")
	cs := &scope{src: c.src, what: "this setting of a websocket step"}
	attr := content.Attributes
	switch b.Type {
	case "send":
		st.Send = l.message(content, sc, b.DefRange)
		st.Repeat = 1
		if a := attr["repeat"]; a != nil {
			st.Repeat, _ = l.integer(a, cs, 1)
		}
		if a := attr["interval"]; a != nil {
			st.Interval, _ = l.duration(a, cs)
		}
	case "expect":
		st.Match = l.frameMatch(nil, sc, b.DefRange, false, content)
		st.Count, st.Within = 1, DefaultExpectWithin
		if a := attr["count"]; a != nil {
			st.Count, _ = l.integer(a, cs, 1)
		}
		if a := attr["within"]; a != nil {
			if d, ok := l.duration(a, cs); ok {
				if d == 0 {
					l.errorAt(a.Expr.Range(), "Expect that never ends",
						"within = \"0s\" leaves this expect without a timeout, so it could wait forever. Give a timeout such as \"5s\", or leave within out for the default of 10s.")
				} else {
					st.Within = d
				}
			}
		}
		if a := attr["strict"]; a != nil {
			st.Strict, _ = l.boolean(a, cs)
		}
		for _, blk := range content.Blocks {
			if cp := l.capture(blk, cs, true); cp != nil {
				st.Captures = append(st.Captures, cp)
			}
		}
		for _, cp := range st.Captures {
			c.defined[cp.Name] = true
		}
	case "receive":
		if a := attr["duration"]; a != nil {
			if d, ok := l.duration(a, cs); ok {
				if d == 0 {
					l.errorAt(a.Expr.Range(), "Invalid duration", "A receive step reads for a duration longer than 0, e.g. \"5s\".")
				}
				st.Duration = d
			}
		}
		if a := attr["expect_rate"]; a != nil {
			if f, ok := l.number(a, cs); ok {
				if f < 0 {
					l.errorAt(a.Expr.Range(), "Value out of range", "expect_rate is a number of frames per second, 0 or more.")
				}
				st.ExpectRate = f
			}
		}
	case "sleep":
		if a := attr["duration"]; a != nil {
			st.Duration, _ = l.duration(a, cs)
		}
	case "ping":
		st.Within = DefaultExpectWithin
		if a := attr["within"]; a != nil {
			if d, ok := l.duration(a, cs); ok && d > 0 {
				st.Within = d
			} else if ok {
				l.errorAt(a.Expr.Range(), "Invalid timeout", "A ping needs a timeout longer than 0, e.g. \"5s\".")
			}
		}
	case "close":
		st.CloseCode = 1000
		if a := attr["code"]; a != nil {
			if n, ok := l.integer(a, cs, 1000); ok {
				if n > 4999 {
					l.errorAt(a.Expr.Range(), "Invalid close code", "A close code is from 1000 to 4999 (1000 is a normal closure).")
				}
				st.CloseCode = n
			}
		}
		if a := attr["expect_code"]; a != nil {
			if n, ok := l.integer(a, cs, 1000); ok {
				st.ExpectCode = n
			}
		}
	}
	return st
}

// message decodes text | json | binary (exactly one). A constant json value is encoded now.
func (l *loader) message(content *hcl.BodyContent, sc *scope, rng hcl.Range) *Message {
	var set []*hcl.Attribute
	for _, k := range []string{"text", "json", "binary"} {
		if a := content.Attributes[k]; a != nil {
			set = append(set, a)
		}
	}
	if len(set) != 1 {
		if len(set) > 1 {
			rng = set[1].NameRange
		}
		l.errorAt(rng, "Invalid message", `Give exactly one of text = "...", json = { ... } or binary = "BASE64".`)
		return nil
	}
	m := &Message{}
	a := set[0]
	switch a.Name {
	case "text":
		m.Text = l.template(a.Expr, sc, true)
	case "json":
		t := l.template(a.Expr, sc, false)
		if t == nil {
			return nil
		}
		if !t.IsConstant() {
			m.JSON = t
			break
		}
		b, err := t.JSON(nil)
		if err != nil {
			l.errorAt(a.Expr.Range(), "Invalid json", "The value cannot be written as JSON: %v.", err)
			return nil
		}
		enc := constantTemplate(t.Source, cty.StringVal(string(b)))
		enc.sensitive = t.sensitive
		m.Text = enc
	case "binary":
		m.Binary, _ = l.decodeBase64(a, &scope{src: sc.src, what: "binary"})
	}
	return m
}

// frameMatch decodes json | equals | regex | binary. Either body (a match block) or content (the
// attributes of an expect step) is given. All empty matches any frame.
func (l *loader) frameMatch(body hcl.Body, sc *scope, rng hcl.Range, needOne bool, content ...*hcl.BodyContent) *FrameMatch {
	var attrs hcl.Attributes
	if body != nil {
		bc, diags := body.Content(matchSchema)
		hintFrameMatch(diags, body)
		l.add(diags)
		attrs = bc.Attributes
	} else {
		attrs = content[0].Attributes
	}
	m := &FrameMatch{}
	n := 0
	if a := attrs["json"]; a != nil {
		n++
		if t := l.template(a.Expr, sc, false); t != nil {
			if v, ok := l.probe(a.Expr, sc); ok && !v.Type().IsObjectType() && !v.Type().IsMapType() {
				l.errorAt(a.Expr.Range(), "Invalid json match",
					`json matches a subset of a JSON object: write an object, e.g. json = { type = "data" }.`)
			}
			m.JSON = t
		}
	}
	if a := attrs["equals"]; a != nil {
		n++
		m.Equals = l.template(a.Expr, sc, true)
	}
	if a := attrs["regex"]; a != nil {
		n++
		if s, sensitive, ok := l.strMarked(a, sc); ok {
			m.Regexp = l.regexp(a, s, sensitive)
		}
	}
	if a := attrs["binary"]; a != nil {
		n++
		m.Binary, _ = l.decodeBase64(a, sc)
	}
	if needOne && n == 0 {
		l.errorAt(rng, "Empty match", `A match block needs json, equals, regex or binary, e.g. json = { type = "heartbeat" }.`)
		return nil
	}
	return m
}
