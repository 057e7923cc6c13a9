package demo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// symbols are the demo's stocks with a base price; quotes wander around it.
var symbols = []struct {
	Symbol string
	Base   float64
}{
	{"AAPL", 189.5}, {"MSFT", 411.2}, {"GOOG", 152.8}, {"AMZN", 178.3},
	{"TSLA", 201.7}, {"NVDA", 875.4}, {"META", 484.1}, {"NFLX", 612.9},
}

// symbolIndex returns the index of sym in symbols, or -1.
func symbolIndex(sym string) int {
	for i, s := range symbols {
		if s.Symbol == sym {
			return i
		}
	}
	return -1
}

// price is a cheap, stateless quote: a slow sine wave around the base price (a different phase
// per symbol) plus a little noise, rounded to cents.
func price(i int, now time.Time) float64 {
	t := float64(now.UnixMilli()) / 1000
	p := symbols[i].Base * (1 + 0.02*math.Sin(t/30+float64(i)) + 0.002*(rand.Float64()-0.5))
	return math.Round(p*100) / 100
}

// writeJSON writes v as a JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// health answers GET /api/health.
func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

type quote struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
	TS     int64   `json:"ts,omitempty"` // Unix milliseconds
}

// stocks answers GET /api/stocks with every symbol and its price.
func (s *Server) stocks(w http.ResponseWriter, _ *http.Request) {
	now := time.Now()
	out := make([]quote, len(symbols))
	for i, sym := range symbols {
		out[i] = quote{Symbol: sym.Symbol, Price: price(i, now)}
	}
	writeJSON(w, http.StatusOK, out)
}

// stock answers GET /api/stocks/{symbol}; unknown symbols are 404.
func (s *Server) stock(w http.ResponseWriter, r *http.Request) {
	sym := strings.ToUpper(r.PathValue("symbol"))
	i := symbolIndex(sym)
	if i < 0 {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "unknown symbol " + strconv.Quote(sym)})
		return
	}
	now := time.Now()
	writeJSON(w, http.StatusOK, quote{Symbol: sym, Price: price(i, now), TS: now.UnixMilli()})
}

// token returns a signed token for user: base64url(user) "." hex(hmac(user)).
func (s *Server) token(user string) string {
	m := hmac.New(sha256.New, s.secret[:])
	m.Write([]byte(user))
	return base64.RawURLEncoding.EncodeToString([]byte(user)) + "." + hex.EncodeToString(m.Sum(nil))
}

// userOf verifies a token and returns its user.
func (s *Server) userOf(tok string) (string, bool) {
	enc, _, ok := strings.Cut(tok, ".")
	if !ok {
		return "", false
	}
	user, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", false
	}
	if !hmac.Equal([]byte(s.token(string(user))), []byte(tok)) {
		return "", false
	}
	return string(user), true
}

// login answers POST /api/login {"user","password"} with {"token"}; 400 without a user. Any
// password is accepted: this is a demo.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var body struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON {\"user\", \"password\"}"})
		return
	}
	if body.User == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "user is required"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": s.token(body.User)})
}

// portfolio answers GET /api/portfolio for a bearer token from login; 401 otherwise.
func (s *Server) portfolio(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	user, valid := s.userOf(strings.TrimSpace(tok))
	if !ok || !valid {
		w.Header().Set("WWW-Authenticate", `Bearer realm="demo"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or invalid bearer token; POST /api/login first"})
		return
	}
	type position struct {
		Symbol string  `json:"symbol"`
		Shares int     `json:"shares"`
		Price  float64 `json:"price"`
	}
	// A user's holdings are derived from the name so they are stable across calls.
	seed := 0
	for _, c := range user {
		seed = seed*31 + int(c)
	}
	now := time.Now()
	var value float64
	pos := make([]position, 0, 3)
	for k := 0; k < 3; k++ {
		i := (seed + k*3) % len(symbols)
		if i < 0 {
			i += len(symbols)
		}
		p := position{Symbol: symbols[i].Symbol, Shares: 1 + (seed>>k)&15, Price: price(i, now)}
		value += float64(p.Shares) * p.Price
		pos = append(pos, p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": user, "positions": pos, "value": math.Round(value*100) / 100})
}

// intParam parses an integer query parameter with a default and bounds.
func intParam(r *http.Request, name string, def, lo, hi int) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}

// slow answers GET /api/slow?min_ms=10&max_ms=200 after a uniformly random delay in
// [min_ms, max_ms] (at most 60 s).
func (s *Server) slow(w http.ResponseWriter, r *http.Request) {
	lo, ok1 := intParam(r, "min_ms", 10, 0, 60000)
	hi, ok2 := intParam(r, "max_ms", 200, 0, 60000)
	if !ok1 || !ok2 || hi < lo {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "min_ms and max_ms must be integers with 0 <= min_ms <= max_ms <= 60000"})
		return
	}
	d := time.Duration(lo) * time.Millisecond
	if hi > lo {
		d += time.Duration(rand.IntN(hi-lo+1)) * time.Millisecond
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"delay_ms": d.Milliseconds()})
}

// flaky answers GET /api/flaky?fail=0.1: 500 with probability fail, 200 otherwise.
func (s *Server) flaky(w http.ResponseWriter, r *http.Request) {
	p := 0.1
	if v := r.URL.Query().Get("fail"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 || math.IsNaN(f) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "fail must be a probability between 0 and 1"})
			return
		}
		p = f
	}
	if rand.Float64() < p {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "injected failure"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
