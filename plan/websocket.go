package plan

import (
	"encoding/base64"
	"time"

	"github.com/hashicorp/hcl/v2"
)

var wsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "url"}, {Name: "path"}, {Name: "headers"}, {Name: "query"}, {Name: "subprotocols"},
		{Name: "timeout"}, {Name: "max_message_size"}, {Name: "compression"}, {Name: "session"},
		{Name: "target"}, {Name: "name"}, {Name: "when"}, // when: read by step
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "reconnect"},
		{Type: "on_message", LabelNames: []string{"name"}},
		{Type: "send", LabelNames: []string{"name"}},
		{Type: "expect", LabelNames: []string{"name"}},
		{Type: "receive", LabelNames: []string{"name"}},
		{Type: "ping", LabelNames: []string{"name"}},
		{Type: "sleep"},
		{Type: "close"},
	},
}

var reconnectSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "max_attempts"}, {Name: "backoff"}, {Name: "initial"}, {Name: "max"}},
}

var onMessageSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{{Type: "match"}, {Type: "reply"}},
}

// Defaults of a websocket block.
const (
	DefaultWSTimeout        = 10 * time.Second
	DefaultMaxMessageSize   = 1 << 20
	DefaultExpectWithin     = 10 * time.Second
	DefaultReconnectInitial = 100 * time.Millisecond
	DefaultReconnectMax     = 5 * time.Second
	DefaultReconnectTries   = 3
)

var sessionModes = []string{string(PerIteration), string(Persistent)}

func (l *loader) wsBlock(c *stepCtx, b *hcl.Block) *WebSocketStep {
	name := b.Labels[0]
	c.names.declare(l, name, labelRange(b))
	content, diags := b.Body.Content(wsSchema)
	l.add(diags)
	ws := &WebSocketStep{Name: name, Timeout: DefaultWSTimeout, MaxMessageSize: DefaultMaxMessageSize,
		Session: PerIteration, Pos: posOf(b.DefRange)}
	ws.Target = l.stepTarget(c, content)
	sc := c.scope("a websocket block")
	cs := &scope{src: c.src, what: "this setting of a websocket block"}
	ws.URL = l.stepURL(c, content, ws.Target, sc, b, true)
	ws.URLTag = urlTag(ws.URL.Display())
	if a := content.Attributes["name"]; a != nil {
		if s, sensitive, ok := l.strMarked(a, cs); ok {
			ws.URLTag = shown(s, sensitive)
		}
	}
	if a := content.Attributes["headers"]; a != nil {
		ws.Headers = l.kvs(a, sc)
	}
	if a := content.Attributes["query"]; a != nil {
		ws.Query = l.kvs(a, sc)
	}
	if a := content.Attributes["subprotocols"]; a != nil {
		ws.Subprotocols, _ = l.strList(a, cs)
	}
	if a := content.Attributes["timeout"]; a != nil {
		if d, ok := l.duration(a, cs); ok {
			if d == 0 {
				l.errorAt(a.Expr.Range(), "Invalid timeout", "A connect timeout of 0 would fail every connection; write e.g. \"10s\".")
			} else {
				ws.Timeout = d
			}
		}
	}
	if a := content.Attributes["max_message_size"]; a != nil {
		if n, ok := l.integer(a, cs, 1); ok {
			ws.MaxMessageSize = int64(n)
		}
	}
	if a := content.Attributes["compression"]; a != nil {
		ws.Compression, _ = l.boolean(a, cs)
	}
	if a := content.Attributes["session"]; a != nil {
		if s, sensitive, ok := l.strMarked(a, cs); ok {
			if !contains(sessionModes, s) {
				l.errorAt(a.Expr.Range(), "Unknown session mode", "%s is not a session mode.%s", quoted(s, sensitive), hintFor(s, sensitive, sessionModes))
			} else {
				ws.Session = SessionMode(s)
			}
		}
	}
	ws.Tags = l.tagsFor(c, name, ws.Target, "WS", ws.URLTag, "ws")
	stepNames := newNames("websocket step")
	counts := map[string]int{}
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "reconnect":
			if ws.Reconnect != nil {
				l.errorAt(blk.DefRange, "Duplicate reconnect block", "A websocket block has at most one reconnect policy.")
				continue
			}
			ws.Reconnect = l.reconnect(blk, cs)
		case "on_message":
			if r := l.onMessage(c, blk); r != nil {
				ws.OnMessage = append(ws.OnMessage, r)
			}
		default:
			stepName := blk.Type
			if len(blk.Labels) > 0 {
				stepName = blk.Labels[0]
				stepNames.declare(l, stepName, labelRange(blk))
			} else if counts[blk.Type]++; counts[blk.Type] > 1 {
				stepName = blk.Type + itoa(counts[blk.Type])
			}
			st := l.wsStep(c, blk, stepName)
			if st == nil {
				continue
			}
			st.Tags = l.tagsFor(c, name+"."+stepName, ws.Target, "WS", ws.URLTag, "ws")
			ws.Steps = append(ws.Steps, st)
		}
	}
	return ws
}

func (l *loader) reconnect(b *hcl.Block, sc *scope) *Reconnect {
	content, diags := b.Body.Content(reconnectSchema)
	l.add(diags)
	r := &Reconnect{MaxAttempts: DefaultReconnectTries, Backoff: "exponential", Initial: DefaultReconnectInitial, Max: DefaultReconnectMax}
	if a := content.Attributes["max_attempts"]; a != nil {
		r.MaxAttempts, _ = l.integer(a, sc, 1)
	}
	if a := content.Attributes["backoff"]; a != nil {
		if s, sensitive, ok := l.strMarked(a, sc); ok {
			if s != "exponential" && s != "constant" {
				l.errorAt(a.Expr.Range(), "Unknown backoff", "%s is not a backoff.%s", quoted(s, sensitive), hintFor(s, sensitive, []string{"exponential", "constant"}))
			} else {
				r.Backoff = s
			}
		}
	}
	initialSecret := false
	if a := content.Attributes["initial"]; a != nil {
		r.Initial, initialSecret, _ = l.durationMarked(a, sc)
	}
	if a := content.Attributes["max"]; a != nil {
		if d, sensitive, ok := l.durationMarked(a, sc); ok {
			if d < r.Initial {
				l.errorAt(a.Expr.Range(), "Invalid backoff bound", "max (%s) is below initial (%s); raise max or lower initial.",
					shown(d.String(), sensitive), shown(r.Initial.String(), initialSecret))
			}
			r.Max = d
		}
	}
	return r
}

func (l *loader) onMessage(c *stepCtx, b *hcl.Block) *AutoReply {
	content, diags := b.Body.Content(onMessageSchema)
	l.add(diags)
	r := &AutoReply{Name: b.Labels[0], Pos: posOf(b.DefRange)}
	sc := c.scope("an on_message rule")
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "match":
			if r.Match != nil {
				l.errorAt(blk.DefRange, "Duplicate match block", "An on_message rule has one match block.")
				continue
			}
			r.Match = l.frameMatch(blk.Body, sc, blk.DefRange, true)
		case "reply":
			if r.Reply != nil {
				l.errorAt(blk.DefRange, "Duplicate reply block", "An on_message rule has one reply block.")
				continue
			}
			bc, diags := blk.Body.Content(messageSchema)
			l.add(diags)
			r.Reply = l.message(bc, sc, blk.DefRange)
		}
	}
	if r.Match == nil || r.Reply == nil {
		if !diags.HasErrors() {
			l.errorAt(b.DefRange, "Incomplete on_message rule",
				`An on_message rule needs both blocks: match { json = { type = "heartbeat" } } and reply { json = { type = "pong" } }.`)
		}
		return nil
	}
	return r
}

// decodeBase64 reads a binary attribute written in base64.
func (l *loader) decodeBase64(a *hcl.Attribute, sc *scope) ([]byte, bool) {
	s, ok := l.str(a, sc)
	if !ok {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		l.errorAt(a.Expr.Range(), "Invalid base64", "binary is written in standard base64, e.g. \"AAEC\" (use base64encode(...) for text): %v.", err)
		return nil, false
	}
	return b, true
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 {
		return digits[n : n+1]
	}
	return itoa(n/10) + digits[n%10:n%10+1]
}
