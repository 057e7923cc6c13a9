package demo

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs a demo server on a free loopback port for the test.
func start(t *testing.T) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// call makes one request and decodes the JSON answer into out (when not nil).
func call(t *testing.T, c *http.Client, method, url, body, auth string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %q", method, url, err, b)
		}
	}
	return resp.StatusCode
}

func TestREST(t *testing.T) {
	s := start(t)
	c := &http.Client{}
	defer c.CloseIdleConnections()
	u := s.URL()

	var health map[string]string
	if st := call(t, c, "GET", u+"/api/health", "", "", &health); st != 200 || health["status"] != "ok" {
		t.Errorf("health: %d %v", st, health)
	}
	var list []quote
	if st := call(t, c, "GET", u+"/api/stocks", "", "", &list); st != 200 || len(list) != 8 || list[0].Symbol != "AAPL" || list[0].Price <= 0 {
		t.Errorf("stocks: %d %+v", st, list)
	}
	var q quote
	if st := call(t, c, "GET", u+"/api/stocks/nvda", "", "", &q); st != 200 || q.Symbol != "NVDA" || q.Price < 800 || q.TS == 0 {
		t.Errorf("stock: %d %+v", st, q)
	}
	if st := call(t, c, "GET", u+"/api/stocks/XXXX", "", "", nil); st != 404 {
		t.Errorf("unknown stock: %d, want 404", st)
	}
	if st := call(t, c, "POST", u+"/api/login", `{"password":"x"}`, "", nil); st != 400 {
		t.Errorf("login without user: %d, want 400", st)
	}
	if st := call(t, c, "POST", u+"/api/login", `not json`, "", nil); st != 400 {
		t.Errorf("login with bad body: %d, want 400", st)
	}
	var tok map[string]string
	if st := call(t, c, "POST", u+"/api/login", `{"user":"u1","password":"x"}`, "", &tok); st != 200 || tok["token"] == "" {
		t.Fatalf("login: %d %v", st, tok)
	}
	var pf struct {
		User      string
		Positions []map[string]any
		Value     float64
	}
	if st := call(t, c, "GET", u+"/api/portfolio", "", "Bearer "+tok["token"], &pf); st != 200 || pf.User != "u1" || len(pf.Positions) != 3 || pf.Value <= 0 {
		t.Errorf("portfolio: %d %+v", st, pf)
	}
	if st := call(t, c, "GET", u+"/api/portfolio", "", "", nil); st != 401 {
		t.Errorf("portfolio without token: %d, want 401", st)
	}
	forged := strings.Replace(tok["token"], tok["token"][:3], "dTI", 1) // another user's name, same signature
	if st := call(t, c, "GET", u+"/api/portfolio", "", "Bearer "+forged, nil); st != 401 {
		t.Errorf("portfolio with forged token: %d, want 401", st)
	}
	var slow map[string]int64
	if st := call(t, c, "GET", u+"/api/slow?min_ms=3&max_ms=3", "", "", &slow); st != 200 || slow["delay_ms"] != 3 {
		t.Errorf("slow: %d %v", st, slow)
	}
	if st := call(t, c, "GET", u+"/api/slow?min_ms=9&max_ms=2", "", "", nil); st != 400 {
		t.Errorf("slow with min > max: %d, want 400", st)
	}
	for i := 0; i < 5; i++ {
		if st := call(t, c, "GET", u+"/api/flaky?fail=0", "", "", nil); st != 200 {
			t.Errorf("flaky fail=0: %d", st)
		}
		if st := call(t, c, "GET", u+"/api/flaky?fail=1", "", "", nil); st != 500 {
			t.Errorf("flaky fail=1: %d", st)
		}
	}
	if st := call(t, c, "GET", u+"/api/flaky?fail=2", "", "", nil); st != 400 {
		t.Errorf("flaky fail=2: %d, want 400", st)
	}
	if st := call(t, c, "GET", u+"/nowhere", "", "", nil); st != 404 {
		t.Errorf("unknown path: %d, want 404", st)
	}

	want := map[string]uint64{
		"GET /api/health": 1, "GET /api/stocks": 1, "GET /api/stocks/{symbol}": 2,
		"POST /api/login": 3, "GET /api/portfolio": 3, "GET /api/slow": 2, "GET /api/flaky": 11,
		"other": 1,
	}
	got := s.Counts()
	for k, v := range want {
		if got.Requests[k] != v {
			t.Errorf("Counts.Requests[%q] = %d, want %d", k, got.Requests[k], v)
		}
	}
	if len(got.Requests) != len(want) || got.Total() != 24 {
		t.Errorf("Counts.Requests = %v (total %d), want %v", got.Requests, got.Total(), want)
	}
}

func TestFlakyShare(t *testing.T) {
	s := start(t)
	c := &http.Client{}
	defer c.CloseIdleConnections()
	fails := 0
	const n = 400
	for i := 0; i < n; i++ {
		if call(t, c, "GET", s.URL()+"/api/flaky?fail=0.25", "", "", nil) == 500 {
			fails++
		}
	}
	// Binomial(400, 0.25): mean 100, sd ~8.7; ±6 sd never fails by chance in practice.
	if fails < 48 || fails > 152 {
		t.Errorf("fail=0.25 gave %d failures in %d", fails, n)
	}
}

func TestListenBadAddress(t *testing.T) {
	if _, err := Listen("127.0.0.1:notaport"); err == nil {
		t.Fatal("Listen on a bad address succeeded")
	}
}
