package demo

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// sineSample is channel ch of the oscilloscope at t seconds: sines of 1, 2, 3 and 4 Hz.
func sineSample(t float64, ch int) float64 {
	v := math.Sin(2 * math.Pi * float64(ch+1) * t)
	return math.Round(v*1e4) / 1e4
}

// tickFrame is one market price update.
type tickFrame struct {
	Type   string  `json:"type"`
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
	Seq    int     `json:"seq"`
}

// subFrame acknowledges a subscription change with the current subscription.
type subFrame struct {
	Type    string   `json:"type"`
	Symbols []string `json:"symbols"`
}

// market serves GET /api/market/ws: {"action":"subscribe","symbols":["AAPL"]} is acknowledged with
// {"type":"subscribed","symbols":[...]} and then every subscribed symbol ticks `?rate=` times a
// second (default 5). {"action":"unsubscribe",...} removes symbols. ?symbols=AAPL,MSFT subscribes
// on connect (the first frame is then the "subscribed" acknowledgement), which lets a
// reconnecting client resume its stream without sending anything.
//
// With ?heartbeat_ms=N the server sends {"type":"heartbeat"} every N ms and expects
// {"type":"pong"}; after two heartbeats in a row went unanswered it closes with 1008.
func (s *Server) market(w http.ResponseWriter, r *http.Request) {
	rate, ok1 := intParam(r, "rate", 5, 1, 1000)
	hbMS, ok2 := intParam(r, "heartbeat_ms", 0, 0, 3600000)
	if !ok1 || !ok2 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "rate must be 1..1000 and heartbeat_ms 0..3600000"})
		return
	}
	var subs []string
	if q := r.URL.Query().Get("symbols"); q != "" {
		for _, sym := range strings.Split(q, ",") {
			sym = strings.ToUpper(strings.TrimSpace(sym))
			if symbolIndex(sym) < 0 {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unknown symbol " + sym})
				return
			}
			if !slices.Contains(subs, sym) {
				subs = append(subs, sym)
			}
		}
	}
	wc, cancel := s.accept(w, r, routeMarket)
	if wc == nil {
		return
	}
	defer wc.finish(cancel)

	ticker := time.NewTicker(time.Second / time.Duration(rate))
	defer ticker.Stop()
	var heartbeat <-chan time.Time
	if hbMS > 0 {
		hb := time.NewTicker(time.Duration(hbMS) * time.Millisecond)
		defer hb.Stop()
		heartbeat = hb.C
	}
	if len(subs) > 0 && !wc.send(subFrame{"subscribed", subs}) {
		return
	}
	seq, outstanding, missed := 0, false, 0
	for {
		select {
		case <-s.ctx.Done():
			wc.close(websocket.StatusGoingAway, "server shutting down")
			return
		case now := <-ticker.C:
			for _, sym := range subs {
				seq++
				if !wc.send(tickFrame{"tick", sym, price(symbolIndex(sym), now), seq}) {
					return
				}
			}
		case <-heartbeat:
			if outstanding {
				missed++
				if missed >= 2 {
					s.counts.hbTimeouts.Add(1)
					wc.close(websocket.StatusPolicyViolation, "heartbeat timeout")
					return
				}
			}
			outstanding = true
			if !wc.send(map[string]string{"type": "heartbeat"}) {
				return
			}
		case b, ok := <-wc.in:
			if !ok {
				return
			}
			var msg struct {
				Type    string   `json:"type"`
				Action  string   `json:"action"`
				Symbols []string `json:"symbols"`
			}
			if err := json.Unmarshal(b, &msg); err != nil {
				if !wc.send(errorFrame{"error", "malformed JSON: " + err.Error()}) {
					return
				}
				continue
			}
			if msg.Type == "pong" {
				outstanding, missed = false, 0
				continue
			}
			var reply any
			switch msg.Action {
			case "subscribe", "unsubscribe":
				var bad []string
				for _, sym := range msg.Symbols {
					sym = strings.ToUpper(sym)
					switch {
					case symbolIndex(sym) < 0:
						bad = append(bad, sym)
					case msg.Action == "subscribe" && !slices.Contains(subs, sym):
						subs = append(subs, sym)
					case msg.Action == "unsubscribe":
						subs = slices.DeleteFunc(subs, func(x string) bool { return x == sym })
					}
				}
				if len(bad) > 0 && !wc.send(errorFrame{"error", "unknown symbols: " + strings.Join(bad, ",")}) {
					return
				}
				reply = subFrame{msg.Action + "d", append([]string{}, subs...)}
			default:
				reply = errorFrame{"error", "unknown action " + string(mustJSON(msg.Action)) + "; use subscribe or unsubscribe"}
			}
			if !wc.send(reply) {
				return
			}
		}
	}
}
