package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadplan/loadplan/internal/demo"
)

// The example plans of plans/ that stand for the seed's Locust user classes, run briefly against
// a demo server this test starts on loopback, and held to what that server counted.

// runPlanOnDemo applies file against a fresh demo server with extra flags and returns what the
// server saw and the summary export's path.
func runPlanOnDemo(t *testing.T, file string, flags ...string) (demo.Counts, string) {
	t.Helper()
	srv, err := demo.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	export := filepath.Join(t.TempDir(), "summary.json")
	args := append([]string{"apply", "--no-progress", "--summary-export", export, "-var", "host=" + srv.URL()}, flags...)
	r := runCLI(t, append(args, file)...)
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return srv.Counts(), export
}

// withinBinomial reports whether k of n draws of probability p lie in the 99.9% interval.
func withinBinomial(k, n uint64, p float64) bool {
	mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
	return math.Abs(float64(k)-mean) <= 3.29*sd+1
}

// TestRestPlanLogsInOncePerVU: plans/rest.hcl (Locust's RestUser) with 4 VUs makes exactly 4
// logins whatever the iterations, one task's request per iteration, and a 3:2:1 mix within a
// binomial 99.9% bound. The pacing is shortened in a copy so that the run draws enough tasks.
func TestRestPlanLogsInOncePerVU(t *testing.T) {
	src, err := os.ReadFile("../../plans/rest.hcl")
	if err != nil {
		t.Fatal(err)
	}
	fast := strings.Replace(string(src), `pacing = "2s"`, `pacing = "5ms"`, 1)
	if fast == string(src) {
		t.Fatal(`plans/rest.hcl no longer has pacing = "2s"; update this test`)
	}
	file := filepath.Join(t.TempDir(), "rest.hcl")
	if err := os.WriteFile(file, []byte(fast), 0o644); err != nil {
		t.Fatal(err)
	}
	c, export := runPlanOnDemo(t, file, "--vus", "4", "--duration", "3s")
	logins := c.Requests["POST /api/login"]
	quote, stocks, portfolio := c.Requests["GET /api/stocks/{symbol}"], c.Requests["GET /api/stocks"], c.Requests["GET /api/portfolio"]
	n := quote + stocks + portfolio
	t.Logf("server: %d logins, %d quote, %d stocks, %d portfolio", logins, quote, stocks, portfolio)
	if logins != 4 {
		t.Errorf("server saw %d logins from 4 VUs; want 4 (setup runs once per VU)", logins)
	}
	if it := exportedCount(t, export, "iterations"); it != float64(n) {
		t.Errorf("iterations = %v, the server saw %d task requests (one per iteration)", it, n)
	}
	if got := exportedCount(t, export, "http_reqs"); got != float64(c.Total()) {
		t.Errorf("http_reqs = %v, the server counted %d", got, c.Total())
	}
	if n < 100 {
		t.Fatalf("only %d iterations in 3 s; the mix cannot be judged", n)
	}
	for _, w := range []struct {
		name string
		k    uint64
		p    float64
	}{{"quote", quote, 3.0 / 6}, {"stocks", stocks, 2.0 / 6}, {"portfolio", portfolio, 1.0 / 6}} {
		if !withinBinomial(w.k, n, w.p) {
			t.Errorf("task %s ran %d of %d iterations; weight share %.3f is outside the 99.9%% interval", w.name, w.k, n, w.p)
		}
	}
}

// TestReconnectLoopPlanSessions: plans/reconnect-loop.hcl (Locust's ReconnectUser) opens repeat
// count × iterations sessions on the server, and loadplan's ws_sessions equals the server's count.
func TestReconnectLoopPlanSessions(t *testing.T) {
	c, export := runPlanOnDemo(t, "../../plans/reconnect-loop.hcl", "--vus", "2", "--duration", "2s", "-var", "reconnects=3")
	it := exportedCount(t, export, "iterations")
	sessions := c.WSSessionsByRoute["GET /api/market/ws"]
	t.Logf("%v iterations, server saw %d sessions", it, sessions)
	if it < 1 || float64(sessions) != 3*it {
		t.Errorf("server saw %d sessions for %v iterations; want 3 × iterations", sessions, it)
	}
	if got := exportedCount(t, export, "ws_sessions"); got != float64(sessions) {
		t.Errorf("ws_sessions = %v, the server accepted %d", got, sessions)
	}
}

// TestMarketAndOscilloscopePlansCount: plans/market.hcl (MarketStreamUser) and plans/websocket.hcl
// (OscilloscopeUser) open one session per iteration on their route, as the server counts them.
func TestMarketAndOscilloscopePlansCount(t *testing.T) {
	for _, tc := range []struct{ file, route string }{
		{"../../plans/market.hcl", "GET /api/market/ws"},
		{"../../plans/websocket.hcl", "GET /api/oscilloscope/ws"},
	} {
		c, export := runPlanOnDemo(t, tc.file, "--vus", "2", "--duration", "2s")
		it := exportedCount(t, export, "iterations")
		sessions := c.WSSessionsByRoute[tc.route]
		if it < 1 || float64(sessions) != it {
			t.Errorf("%s: server saw %d sessions on %s for %v iterations; want one each", tc.file, sessions, tc.route, it)
		}
		if got := exportedCount(t, export, "ws_sessions"); got != float64(c.WSSessions) {
			t.Errorf("%s: ws_sessions = %v, the server accepted %d", tc.file, got, c.WSSessions)
		}
	}
}

// TestLoadPlanTradersLogInOnce: plans/load.hcl's trader scenario logs in in setup, so 3 trader
// VUs make exactly 3 logins and one portfolio request per iteration, as the server counts them.
func TestLoadPlanTradersLogInOnce(t *testing.T) {
	// A copy whose CSV output goes to a temporary folder, not results/ below the test's folder.
	src, err := os.ReadFile("../../plans/load.hcl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	users, err := filepath.Abs("../../plans/data/users.csv")
	if err != nil {
		t.Fatal(err)
	}
	copied := strings.NewReplacer(`path = "results/"`, `path = "`+filepath.ToSlash(dir)+`/results/"`,
		`"data/users.csv"`, `"`+filepath.ToSlash(users)+`"`).Replace(string(src))
	if !strings.Contains(copied, dir) || !strings.Contains(copied, users) {
		t.Fatal(`plans/load.hcl no longer writes csv to "results/" or reads "data/users.csv"; update this test`)
	}
	file := filepath.Join(dir, "load.hcl")
	if err := os.WriteFile(file, []byte(copied), 0o644); err != nil {
		t.Fatal(err)
	}
	c, export := runPlanOnDemo(t, file, "--scenario", "trader", "--vus", "3", "--spawn-rate", "100", "--duration", "3s")
	logins, portfolio := c.Requests["POST /api/login"], c.Requests["GET /api/portfolio"]
	t.Logf("server: %d logins, %d portfolio", logins, portfolio)
	if logins != 3 {
		t.Errorf("server saw %d logins from 3 trader VUs; want 3", logins)
	}
	if it := exportedCount(t, export, "iterations"); it < 3 || float64(portfolio) != it {
		t.Errorf("server saw %d portfolio requests for %v iterations; want one each (at least one per VU)", portfolio, it)
	}
}
