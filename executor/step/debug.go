package step

import (
	"net/http"
	"net/url"
)

// HTTPDebugger receives every HTTP exchange of a run, for `loadplan apply --http-debug` (k6's
// flag): the request as loadplan sent it and the response it got, hop by hop. It is called on
// the VU's goroutine, after the response ended and before checks run; it must not keep the
// exchange's slices or maps, which the VU reuses. It only observes: the samples are the same
// with and without it.
type HTTPDebugger interface {
	// Bodies says whether response bodies are wanted (--http-debug=full): the steps then read
	// them whole even when no check needs them.
	Bodies() bool
	// Exchange is one request and its response (or its error).
	Exchange(x *HTTPExchange)
}

// HTTPExchange is one request and its response for an HTTPDebugger. Header values are as sent,
// secrets included: masking is the debugger's job.
type HTTPExchange struct {
	Scenario, Step string
	Method         string
	URL            *url.URL
	Header         http.Header // request headers (the jar's cookies are added by the client, not here)
	Body           []byte      // request body
	Status         int         // 0 when there was no response
	RespHeader     http.Header // every response header (a debugger makes the fast path keep them all)
	RespBody       []byte      // the response body when Bodies() (or a check) asked for it
	Err            error
}

// WSDebugger is an HTTPDebugger that also sees WebSocket messages. A WebSocket handshake goes to
// Exchange like any request (Method GET, the ws or wss URL, Status 101 when upgraded, Err when
// no response came); when Bodies(), every data message sent and received, and the close frame
// loadplan sends, goes to WSMessage. WSMessage is called from the VU goroutine, and from a
// connection's reader goroutine for the auto-replies it sends: concurrently. It must not keep
// m.Data.
type WSDebugger interface {
	HTTPDebugger
	WSMessage(m *WSMessage)
}

// WSMessage is one WebSocket message for a WSDebugger. Data is as sent or received, secrets
// included: masking is the debugger's job.
type WSMessage struct {
	Scenario, Step string
	Sent           bool   // loadplan sent it (else received)
	Binary         bool   // a binary message (else text)
	Close          int    // the close code of the close frame loadplan sent; 0 for data
	Data           []byte // the payload
}
