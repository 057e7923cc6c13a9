package httpstep

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/loadplan/loadplan/internal/h1"
	"golang.org/x/net/http2"
)

// The HTTP/2 path: a target whose server chose h2 through ALPN on the fast path is served, for
// this VU, by an h2conn (h2conn.go) on the connection the fast path negotiated, in the VU's
// goroutine. When that connection ends (GOAWAY, a server close, an error), the next request
// dials again through the fast path, which negotiates ALPN again and hands the new connection
// over: the dial and the handshake are traced as on HTTP/1.1.
//
// Measured reason for replacing net/http's HTTP/2 client here: its ClientConn starts a
// goroutine with four channels per request and hands every response over from its read loop's
// goroutine; behind http.Transport come a pool lookup per request and a silent resend of a
// refused request. On bench/plans/h2.hcl against bench/server's h2 listener (50 VUs, 5 s,
// requests the server counted over HTTP/2 per CPU-second of the loadplan process by rusage,
// twelve paired rounds in two series, alternating with the previous commit and h2load -c50 -m1
// -t2): 29.7k and 31.8k (medians of each series), 1.61 times the previous commit (1.52-1.72;
// the first, noisier series 1.54, 0.95-1.80) and 1.18 times h2load (1.11-1.37; first series
// 1.28, 0.93-1.39), where net/http's did 0.74 times h2load. k6, also on net/http's HTTP/2, did
// 9.1k over https on this machine class: this is 3.3 times that. BenchmarkHTTP2Iteration (the
// in-process server included): 57 -> 38 allocations and 5.96 -> 2.95 KB per iteration.
// What remains is mostly the read and write system calls and TLS (a CPU profile: 40 % of the
// process under read and write, ReadFrame's own work a few %).

// h2State is the VU's HTTP/2 connections, by target index.
type h2State struct {
	conns []atomic.Pointer[h2conn]
	stop  func() bool // unregisters the abort hook of the current activation
	req   h2req
	resp  h2resp
	hdr   http.Header // the response header, reused (lean: Set-Cookie, Location, Content-Encoding)
}

// bindH2 arms the abort hook for one activation: the hard context's end cuts the request in
// flight (send names it interrupted).
func (h *httpState) bindH2(hard context.Context) {
	s := &h.h2
	if s.stop != nil {
		s.stop()
	}
	s.stop = context.AfterFunc(hard, func() {
		for i := range s.conns {
			if c := s.conns[i].Load(); c != nil {
				c.abort()
			}
		}
	})
}

// closeH2 closes the VU's HTTP/2 connections (a user leaving).
func (h *httpState) closeH2() {
	s := &h.h2
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
	for i := range s.conns {
		if c := s.conns[i].Swap(nil); c != nil {
			c.conn.Close()
		}
	}
}

// useH2 reports whether a request to u on target i takes the VU's own HTTP/2 client: the
// target's server chose h2 and the URL is one the fast path would take.
func (h *httpState) useH2(i int, u *url.URL) bool {
	f := &h.fast
	return f.h2 != nil && f.h2[i] && u.Scheme == "https" && u.User == nil && !fastDisabled.Load()
}

// roundTripH2 makes one request on the VU's HTTP/2 connection to target hs.target, opening one
// (through the fast path's dial and ALPN) when there is none usable; results as roundTripStd's.
// Nothing is ever resent: one request, one stream, one outcome.
func (h *httpState) roundTripH2(hs *httpStep, method string, u *url.URL, body []byte) (res response, cause error, start, end int64, err error) {
	s := &h.h2
	if s.conns == nil {
		s.conns = make([]atomic.Pointer[h2conn], len(h.targets))
	}
	t := &h.times
	t.reset()
	start = mono()
	_, addr := h.fast.target(u)
	c := s.conns[hs.target].Load()
	if c != nil && (!c.usable(start) || c.addr != addr) {
		s.conns[hs.target].Store(nil)
		c.conn.Close()
		c = nil
	}
	var dialed *h1.Trace
	if c == nil {
		conn := h.takeHandoff(addr)
		if conn == nil {
			// A new connection, dialed and negotiated by the fast path as any https one.
			fres, ferr := h.roundTripFast(hs, method, u, body, start)
			h2e, ok := ferr.(*h1.H2Error)
			if !ok { // HTTP/1.1 this time, or no connection: that path's outcome
				h.fast.h2[hs.target] = false
				return fres, nil, start, fres.end, ferr
			}
			conn = h2e.Conn
			ft := h.fast.trace
			dialed = &ft
		}
		c = newH2conn(conn, addr)
		s.conns[hs.target].Store(c)
	} else {
		h.addCookies(u) // the fast path's dial above added them already
	}
	host := u.Host
	if hv := h.hdr["Host"]; len(hv) > 0 {
		host = hv[0]
	}
	uri, _ := h.fast.target(u)
	s.req = h2req{method: method, scheme: "https", authority: host, path: uri, header: h.hdr, body: body,
		deadline: monoBase.Add(time.Duration(start) + hs.timeout), keepBody: hs.needBody, fullHeader: hs.needHeader}
	if s.hdr == nil {
		s.hdr = make(http.Header, 4)
	}
	s.resp = h2resp{header: s.hdr, body: h.body[:0]}
	t.getConn.Store(start)
	if dialed != nil {
		h.keepDialPhases(dialed)
		t.gotConn.Store(mono())
	} else {
		t.gotConn.Store(start)
	}
	wrote, err := c.do(&s.req, &s.resp)
	end = mono()
	c.last = end
	if !wrote {
		t.gotConn.Store(0) // nothing left the machine: not a request
	}
	if s.resp.wrote != 0 {
		t.wrote.Store(s.resp.wrote)
	}
	if s.resp.firstByte != 0 {
		t.firstByte.Store(s.resp.firstByte)
	}
	h.body = s.resp.body[:0]
	if c.broken || c.isAborted() {
		s.conns[hs.target].CompareAndSwap(c, nil)
		c.conn.Close()
	}
	if err != nil {
		if errors.Is(err, errH2Aborted) {
			err = h1.ErrAborted
		} else if c.isTimeout(err) {
			cause = errStepTimeout
		}
		return res, cause, start, end, err
	}
	res.status, res.header, res.bodyLen = s.resp.status, s.resp.header, s.resp.bodyLen
	if hs.needBody {
		res.body = s.resp.body
	}
	if len(hs.ps.Captures) > 0 || len(s.resp.header["Set-Cookie"]) > 0 {
		res.cookies = h.storeCookies(u, s.resp.header)
	}
	res.end = end
	return res, nil, start, end, nil
}

// isTimeout reports whether err is the request's deadline passing.
func (c *h2conn) isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// readResponse reads frames until stream id's response ended: its HEADERS (after any 1xx),
// its DATA, its trailers. Connection frames on the way are handled (control).
func (c *h2conn) readResponse(id uint32, r *h2req, resp *h2resp) error {
	clear(resp.header)
	resp.status = 0
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return err
		}
		if f.Header().StreamID != id || f.Header().Type == http2.FrameRSTStream {
			if done, err := c.control(f, id); done || err != nil {
				return err
			}
			continue
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			if resp.firstByte == 0 {
				resp.firstByte = mono()
			}
			if resp.status == 0 {
				st, err := strconv.Atoi(f.PseudoValue("status"))
				if err != nil || st < 100 || st > 999 {
					return &h2Error{kind: "protocol error", code: http2.ErrCodeProtocol}
				}
				if st < 200 {
					continue // an interim response: the final one follows
				}
				resp.status = st
				for _, hf := range f.RegularFields() {
					k := http.CanonicalHeaderKey(hf.Name)
					if r.fullHeader || k == "Set-Cookie" || k == "Location" || k == "Content-Encoding" {
						resp.header[k] = append(resp.header[k], hf.Value)
					}
				}
			} // else trailers: nothing reads them
			if f.StreamEnded() {
				return nil
			}
		case *http2.DataFrame:
			if resp.status == 0 {
				return &h2Error{kind: "protocol error", code: http2.ErrCodeProtocol}
			}
			resp.bodyLen += int64(len(f.Data())) // padding is not body (Locust's content size)
			if r.keepBody {
				resp.body = append(resp.body, f.Data()...)
			}
			if err := c.giveBack(int64(f.Length), id); err != nil {
				return err
			}
			if f.StreamEnded() {
				return nil
			}
		default:
			if done, err := c.control(f, id); done || err != nil {
				return err
			}
		}
	}
}
