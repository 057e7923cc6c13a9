package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// vuServer is a loopback target that counts requests per path, the distinct X-VU headers the
// plan sends (vu.id) and the connections it accepts.
type vuServer struct {
	srv   *httptest.Server
	conns atomic.Int64
	hits  atomic.Int64 // requests, for interruptAfter
	mu    sync.Mutex   // guards paths and vus, written by the handler goroutines
	paths map[string]int
	vus   map[string]int
}

func newVUServer(t *testing.T) *vuServer {
	t.Helper()
	s := &vuServer{paths: map[string]int{}, vus: map[string]int{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths[r.URL.Path]++
		s.vus[r.Header.Get("X-VU")]++
		s.mu.Unlock()
		s.hits.Add(1)
		w.Write([]byte(`{"ok":true}`))
	}))
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// counts returns the requests per path, the VU ids seen in order, and the total.
func (s *vuServer) counts() (paths map[string]int, vus []string, total int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	paths = map[string]int{}
	for p, n := range s.paths {
		paths[p] = n
		total += n
	}
	for v := range s.vus {
		vus = append(vus, v)
	}
	sort.Strings(vus)
	return paths, vus, total
}

// hostPlan writes a plan of two tagged scenarios whose default host is defaultURL; each request
// says its VU in X-VU. It has no load block: --vus/--spawn-rate give it its load.
func hostPlan(t *testing.T, defaultURL string) string {
	t.Helper()
	scen := func(name, kind string) string {
		return fmt.Sprintf(`scenario %q {
  target     = target.api
  think_time = "20ms"
  tags       = { kind = %q }
  http %q {
    path    = "/%s"
    headers = { "X-VU" = "${vu.id}" }
  }
}
`, name, kind, name, name)
	}
	return writeSource(t, `variable "host" {
  default = "`+defaultURL+`"
}
target "api" {
  base_url = var.host
}
`+scen("a", "read")+scen("b", "write"))
}

// TestApplySpawnFourVUsAtTheHost: `apply --vus 4 --spawn-rate 100 --duration 1s --host URL
// --scenario a` sends only to --host (the plan's default host, another counting server, sees no
// connection at all), only scenario a's path, from exactly 4 VUs; loadplan's http_reqs equal
// the server's count.
func TestApplySpawnFourVUsAtTheHost(t *testing.T) {
	live, dflt := newVUServer(t), newVUServer(t)
	file := hostPlan(t, dflt.srv.URL)
	export := filepath.Join(t.TempDir(), "summary.json")
	r := runCLI(t, "apply", "--no-progress", "--vus", "4", "--spawn-rate", "100", "--duration", "1s",
		"--host", live.srv.URL, "--scenario", "a", "--summary-export", export, file)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	paths, vus, total := live.counts()
	if paths["/a"] == 0 || paths["/b"] != 0 || len(paths) != 1 {
		t.Errorf("--host server saw %v, want /a only", paths)
	}
	if strings.Join(vus, ",") != "1,2,3,4" {
		t.Errorf("requests came from VUs %v, want exactly 1,2,3,4", vus)
	}
	if m := exportedMetric(t, export, "http_reqs"); m == nil || m["count"] != float64(total) {
		t.Errorf("loadplan reported http_reqs %v, the server received %d", m, total)
	}
	if _, _, n := dflt.counts(); n != 0 || dflt.conns.Load() != 0 {
		t.Errorf("the plan's default host got %d requests over %d connections, want none", n, dflt.conns.Load())
	}
	if !strings.Contains(r.stderr, "ramp at 100 VUs/s to 4 VUs") {
		t.Errorf("apply did not say the ramp:\n%s", r.stderr)
	}
	t.Logf("server: %v from VUs %v; plan's default host: %d connections", paths, vus, dflt.conns.Load())
}

// TestApplyTagSelects: --tag kind=write runs scenario b only: the server sees /b and no /a.
func TestApplyTagSelects(t *testing.T) {
	live, dflt := newVUServer(t), newVUServer(t)
	file := hostPlan(t, dflt.srv.URL)
	r := runCLI(t, "apply", "--no-progress", "--vus", "2", "--spawn-rate", "100", "--duration", "500ms",
		"--host", live.srv.URL, "--tag", "kind=write", file)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	paths, vus, _ := live.counts()
	if paths["/b"] == 0 || paths["/a"] != 0 || strings.Join(vus, ",") != "1,2" {
		t.Errorf("server saw %v from VUs %v, want /b only from 2 VUs", paths, vus)
	}
	if dflt.conns.Load() != 0 {
		t.Errorf("the plan's default host got %d connections", dflt.conns.Load())
	}
}

// TestHostNeedsAHostVariable: --host on a plan without variable "host" says what to add, and
// sends nothing; a malformed URL and --host with -var host are usage errors too.
func TestHostNeedsAHostVariable(t *testing.T) {
	srv := newVUServer(t)
	file := writeSource(t, `target "api" {
  base_url = "`+srv.srv.URL+`"
}
scenario "s" {
  target = target.api
  http "a" {
    path = "/a"
  }
}
`)
	withHost := hostPlan(t, srv.srv.URL)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--host", srv.srv.URL, file}, `the plan declares no variable "host": add`},
		{[]string{"--host", "127.0.0.1:8000", withHost}, `write a base URL with its scheme`},
		{[]string{"--host", srv.srv.URL, "-var", "host=http://127.0.0.1:1", withHost}, "give one"},
		{[]string{"--host", srv.srv.URL, "--demo", withHost}, "--demo and --host both set var.host"},
	} {
		for _, verb := range []string{"apply", "plan"} {
			if c.args[2] == "--demo" && verb == "plan" {
				continue // plan has no --demo
			}
			r := runCLI(t, append([]string{verb}, c.args...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
				t.Errorf("%s %v: exit %d, want %d and %q\n%s", verb, c.args, r.code, exitUsage, c.want, r.stderr)
			}
		}
	}
	if _, _, n := srv.counts(); n != 0 || srv.conns.Load() != 0 {
		t.Errorf("server got %d requests over %d connections, want none", n, srv.conns.Load())
	}
}

// TestApplySpawnHoldsUntilInterrupted: without --duration the spawned VUs run until Ctrl-C, as
// Locust without --run-time; the interrupt ends the run with 105 and a summary whose http_reqs
// equal the server's count, from exactly the 3 VUs asked for.
func TestApplySpawnHoldsUntilInterrupted(t *testing.T) {
	live := newVUServer(t)
	file := hostPlan(t, live.srv.URL)
	export := filepath.Join(t.TempDir(), "summary.json")
	r := interruptAfter(t, &live.hits, 60, "apply", "--no-progress", "--vus", "3", "--spawn-rate", "100",
		"--scenario", "b", "--summary-export", export, file)
	if r.code != exitInterrupted {
		t.Fatalf("exit %d, want %d\n%s", r.code, exitInterrupted, r.stderr)
	}
	paths, vus, total := live.counts()
	if total < 60 || paths["/b"] != total || strings.Join(vus, ",") != "1,2,3" {
		t.Errorf("server saw %v from VUs %v, want /b only (60 or more) from VUs 1,2,3", paths, vus)
	}
	if got := exportedCount(t, export, "http_reqs"); got != float64(total) {
		t.Errorf("loadplan reported http_reqs %v, the server received %d", got, total)
	}
	if !strings.Contains(r.stderr, "until Ctrl-C") {
		t.Errorf("apply did not say it holds until Ctrl-C:\n%s", r.stderr)
	}
}
