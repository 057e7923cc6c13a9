package wsstep

import (
	"encoding/binary"
	"net/http"
	"net/url"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/plan"
)

// handshakeExchange is one handshake for --http-debug: the request as sent (the transport's
// request, upgrade headers included, when a response came; the plan's headers otherwise) and
// the response, or the error when none came.
func handshakeExchange(st *plan.WebSocketStep, rawURL string, h http.Header, resp *http.Response, err error) *step.HTTPExchange {
	x := &step.HTTPExchange{Method: http.MethodGet, Header: h}
	if st.Tags != nil {
		x.Scenario, x.Step = st.Tags.Scenario, st.Tags.Step
	}
	if x.URL, _ = url.Parse(rawURL); x.URL == nil {
		x.URL = &url.URL{Opaque: "(unparsable URL)"} // the template's error is the Err below
	}
	if resp == nil {
		x.Err = err
		return x
	}
	if resp.Request != nil {
		x.Header = resp.Request.Header
	}
	x.Status, x.RespHeader = resp.StatusCode, resp.Header
	return x
}

// debugSock shows every message a connection sends and receives to a WSDebugger
// (--http-debug=full); it changes nothing on the wire.
type debugSock struct {
	wsSock
	d    step.WSDebugger
	tags [2]string // scenario, step
}

// debugMessages wraps sock for --http-debug=full; without it, sock as is (no cost per frame).
func debugMessages(d step.HTTPDebugger, st *plan.WebSocketStep, sock wsSock) wsSock {
	wd, ok := d.(step.WSDebugger)
	if !ok || !wd.Bodies() {
		return sock
	}
	ds := &debugSock{wsSock: sock, d: wd}
	if st.Tags != nil {
		ds.tags = [2]string{st.Tags.Scenario, st.Tags.Step}
	}
	return ds
}

func (s *debugSock) readMessage(buf []byte) (websocket.MessageType, []byte, error) {
	typ, p, err := s.wsSock.readMessage(buf)
	if err == nil {
		s.d.WSMessage(&step.WSMessage{Scenario: s.tags[0], Step: s.tags[1], Binary: typ == websocket.MessageBinary, Data: p})
	}
	return typ, p, err
}

func (s *debugSock) write(typ websocket.MessageType, p []byte) error {
	err := s.wsSock.write(typ, p)
	if err != nil {
		return err
	}
	m := &step.WSMessage{Scenario: s.tags[0], Step: s.tags[1], Sent: true, Binary: typ == websocket.MessageBinary, Data: p}
	if typ == wsOpClose {
		m.Binary, m.Data = false, nil
		if len(p) >= 2 {
			m.Close = int(binary.BigEndian.Uint16(p))
		}
	}
	s.d.WSMessage(m)
	return nil
}
