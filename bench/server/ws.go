package main

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"
)

// accept upgrades a request to a WebSocket session and counts it; done is to be deferred.
func (s *server) accept(w http.ResponseWriter, r *http.Request) (c *websocket.Conn, done func(), ok bool) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, nil, false
	}
	s.wg.Add(1)
	s.wsSessions.Add(1)
	s.wsActive.Add(1)
	return c, func() { s.wsActive.Add(-1); s.wg.Done() }, true
}

// serveWS accepts a session, sends a frame every interval and counts frames both ways until the
// client goes or the server shuts down.
func (s *server) serveWS(w http.ResponseWriter, r *http.Request) {
	c, done, ok := s.accept(w, r)
	if !ok {
		return
	}
	defer done()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() { // reader: counts frames, ends the session when the client closes
		defer cancel()
		for {
			_, _, err := c.Read(ctx)
			if err != nil {
				return
			}
			s.framesReceived.Add(1)
		}
	}()
	t := time.NewTicker(s.interval)
	defer t.Stop()
	buf := make([]byte, 0, 48)
	for seq := uint64(1); ; seq++ {
		select {
		case <-ctx.Done():
			c.CloseNow()
			return
		case <-s.done:
			c.Close(websocket.StatusGoingAway, "server shutting down")
			return
		case <-t.C:
		}
		buf = append(buf[:0], `{"type":"tick","seq":`...)
		buf = strconv.AppendUint(buf, seq, 10)
		buf = append(buf, '}')
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		err := c.Write(wctx, websocket.MessageText, buf)
		wcancel()
		if err != nil {
			c.CloseNow()
			return
		}
		s.framesSent.Add(1)
	}
}

// serveEcho accepts a session and writes every frame it reads back to the client, unchanged and
// of the same type, counting both (echo_received, echo_sent) until the client goes or the server
// shuts down. It is the target of the WebSocket round-trip case (send → expect per iteration).
func (s *server) serveEcho(w http.ResponseWriter, r *http.Request) {
	c, done, ok := s.accept(w, r)
	if !ok {
		return
	}
	defer done()
	s.echoSessions.Add(1)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() { // shutdown ends a session blocked in Read
		select {
		case <-s.done:
			c.Close(websocket.StatusGoingAway, "server shutting down")
		case <-ctx.Done():
		}
	}()
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			c.CloseNow()
			return
		}
		s.echoReceived.Add(1)
		if err := c.Write(ctx, typ, b); err != nil {
			c.CloseNow()
			return
		}
		s.echoSent.Add(1)
	}
}
