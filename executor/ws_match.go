package executor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/plan"
)

// wsFrame is one data frame read from a connection. The JSON form is parsed at most once, on
// first use, by whichever goroutine owns the frame at that moment.
type wsFrame struct {
	typ    websocket.MessageType
	data   []byte
	at     time.Time // when the reader goroutine got it
	parsed any
	pstate uint8 // 0 not parsed yet, 1 valid JSON, 2 malformed
}

// json returns the frame's decoded JSON value, and false when it is not valid JSON.
func (f *wsFrame) json() (any, bool) {
	if f.pstate == 0 {
		f.pstate = 2
		if json.Unmarshal(f.data, &f.parsed) == nil {
			f.pstate = 1
		}
	}
	return f.parsed, f.pstate == 1
}

// wsMatcher is a plan.FrameMatch with its templates evaluated for one step (or one rendering of
// an auto-reply rule). Every criterion that is set must hold; a matcher with none matches any frame.
type wsMatcher struct {
	wantJSON  any
	hasJSON   bool
	equals    string
	hasEquals bool
	re        *regexp.Regexp
	binary    []byte
}

// newWSMatcher evaluates fm's templates with rt.
func newWSMatcher(fm *plan.FrameMatch, rt *plan.Runtime) (*wsMatcher, error) {
	m := &wsMatcher{}
	if fm == nil {
		return m, nil
	}
	if fm.JSON != nil {
		v, err := fm.JSON.Interface(rt)
		if err != nil {
			return nil, fmt.Errorf("json: %w", err)
		}
		m.wantJSON, m.hasJSON = v, true
	}
	if fm.Equals != nil {
		s, err := fm.Equals.String(rt)
		if err != nil {
			return nil, fmt.Errorf("equals: %w", err)
		}
		m.equals, m.hasEquals = s, true
	}
	m.re, m.binary = fm.Regexp, fm.Binary
	return m, nil
}

// match reports whether f matches, and whether f had to be JSON for it and was not.
func (m *wsMatcher) match(f *wsFrame) (ok, malformed bool) {
	if m.binary != nil && !bytes.Equal(f.data, m.binary) {
		return false, false
	}
	if m.hasEquals && string(f.data) != m.equals {
		return false, false
	}
	if m.re != nil && !m.re.Match(f.data) {
		return false, false
	}
	if m.hasJSON {
		v, valid := f.json()
		if !valid {
			return false, true
		}
		if !wsSubset(m.wantJSON, v) {
			return false, false
		}
	}
	return true, false
}

// wsSubset reports whether got contains want: objects by key (extra keys in got are fine), arrays
// element by element with equal length, scalars by equality.
func wsSubset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !wsSubset(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !wsSubset(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return want == got
}

// wsJSONText renders a decoded JSON value as a capture's text: strings as they are, everything
// else as JSON.
func wsJSONText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// wsCapture stores the captures of an expect step from its matched frame into rt.Captures. A
// required capture that finds nothing is an error.
func wsCapture(caps []*plan.Capture, f *wsFrame, rt *plan.Runtime) error {
	for _, c := range caps {
		var (
			val string
			ok  bool
		)
		switch c.Kind {
		case plan.CaptureJSON:
			if v, valid := f.json(); valid {
				var x any
				if x, ok = jsonPath(v, c.Path); ok {
					val = wsJSONText(x)
				}
			}
		case plan.CaptureRegex:
			if c.Regexp != nil {
				if sm := c.Regexp.FindSubmatch(f.data); sm != nil {
					ok = true
					val = string(sm[0])
					if len(sm) > 1 {
						val = string(sm[1])
					}
				}
			}
		default:
			return fmt.Errorf("capture %q: only json and regex captures apply to WebSocket frames", c.Name)
		}
		if !ok {
			if c.Required {
				return fmt.Errorf("capture %q found nothing in the matched frame", c.Name)
			}
			continue
		}
		if rt.Captures == nil {
			rt.Captures = make(map[string]string)
		}
		rt.Captures[c.Name] = val
	}
	return nil
}

// wsMessage renders a send step's or auto-reply's message into a frame type and payload.
func wsMessage(m *plan.Message, rt *plan.Runtime, buf []byte) (websocket.MessageType, []byte, error) {
	switch {
	case m == nil:
		return 0, nil, fmt.Errorf("nothing to send")
	case m.Binary != nil:
		return websocket.MessageBinary, m.Binary, nil
	case m.Text != nil:
		b, err := m.Text.AppendString(buf[:0], rt)
		return websocket.MessageText, b, err
	case m.JSON != nil:
		b, err := m.JSON.JSON(rt)
		return websocket.MessageText, b, err
	}
	return 0, nil, fmt.Errorf("nothing to send")
}
