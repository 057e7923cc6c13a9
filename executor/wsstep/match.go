package wsstep

import (
	"bytes"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/internal/jsonpath"
	"github.com/loadplan/loadplan/plan"
)

// wsFrame is one data frame read from a connection. The JSON form is parsed at most once, on
// first use, by whichever goroutine owns the frame at that moment.
type wsFrame struct {
	typ  websocket.MessageType
	data []byte
	at   time.Time    // when the reader goroutine got it
	doc  jsonpath.Doc // the frame as JSON, decoded on first use
}

// json returns the frame's decoded JSON value, and false when it is not valid JSON.
func (f *wsFrame) json() (any, bool) { return f.doc.Get(f.data) }

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

// wsConstMatchers holds the matchers of frame matches that do not depend on the iteration,
// built once and shared by every VU (a wsMatcher is read-only once built): an expect step does
// not build its matcher per iteration.
var wsConstMatchers sync.Map // *plan.FrameMatch → *wsMatcher

// wsAnyFrame matches every frame.
var wsAnyFrame = &wsMatcher{}

// wsStepMatcher returns the matcher of fm for rt: the shared one when fm is constant.
func wsStepMatcher(fm *plan.FrameMatch, rt *plan.Runtime) (*wsMatcher, error) {
	if fm == nil {
		return wsAnyFrame, nil
	}
	if !wsConstMatch(fm) {
		return newWSMatcher(fm, rt)
	}
	if m, ok := wsConstMatchers.Load(fm); ok {
		return m.(*wsMatcher), nil
	}
	m, err := newWSMatcher(fm, rt)
	if err == nil {
		wsConstMatchers.Store(fm, m)
	}
	return m, err
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
		if !jsonpath.Subset(m.wantJSON, v) {
			return false, false
		}
	}
	return true, false
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
		case plan.CaptureJSON, plan.CaptureRegex:
			val, ok = step.Capture(c, f.data, &f.doc)
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
