package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/loadplan/loadplan/internal/browsertest"
)

// harPage makes two XHR calls 300 ms apart, then opens a WebSocket, sends a JSON frame and a
// text frame and waits for both answers. Its stylesheet and image are the static assets import
// leaves out.
const harPage = `<!doctype html><html><head><title>har</title><link rel="stylesheet" href="/static/app.css"></head>
<body><img src="/static/logo.png" alt=""><div id="out"></div><script>
(async () => {
  await fetch('/api/items?page=1', {headers: {'Authorization': 'Bearer recorded-token'}}).then(r => r.json());
  await new Promise(r => setTimeout(r, 300));
  await fetch('/api/items', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({name: 'widget', qty: 2})});
  const ws = new WebSocket('ws://' + location.host + '/ws');
  await new Promise(r => ws.onopen = r);
  const got = [];
  ws.onmessage = e => { got.push(e.data); if (got.length === 2) { ws.close(); window.done = true; } };
  ws.send(JSON.stringify({op: 'hello', user: 'alice'}));
  ws.send('ping');
})();
</script></body></html>`

// harServer counts requests by route and keeps the WebSocket frames it received.
type harServer struct {
	mu     sync.Mutex // guards the fields below
	counts map[string]int
	frames []string
	auth   []string // Authorization of GET /api/items
}

func (s *harServer) count(route string) {
	s.mu.Lock()
	s.counts[route]++
	s.mu.Unlock()
}

func (s *harServer) snapshot() (map[string]int, []string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := map[string]int{}
	for k, v := range s.counts {
		c[k] = v
	}
	return c, append([]string(nil), s.frames...), append([]string(nil), s.auth...)
}

func (s *harServer) reset() {
	s.mu.Lock()
	s.counts, s.frames, s.auth = map[string]int{}, nil, nil
	s.mu.Unlock()
}

func (s *harServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s.count("GET /")
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(harPage))
	})
	mux.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		s.count("static")
		if strings.HasSuffix(r.URL.Path, ".css") {
			w.Header().Set("Content-Type", "text/css")
			_, _ = w.Write([]byte("body{margin:0}"))
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte("\x89PNG\r\n\x1a\n"))
	})
	mux.HandleFunc("GET /api/items", func(w http.ResponseWriter, r *http.Request) {
		s.count("GET /api/items")
		s.mu.Lock()
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[{"id":1,"name":"widget"}]`))
	})
	mux.HandleFunc("POST /api/items", func(w http.ResponseWriter, r *http.Request) {
		s.count("POST /api/items")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":2}`))
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		s.count("GET /ws")
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.frames = append(s.frames, string(data))
			s.mu.Unlock()
			reply := "pong"
			if strings.Contains(string(data), "hello") {
				reply = `{"type":"welcome","user":"alice"}`
			}
			if c.Write(ctx, websocket.MessageText, []byte(reply)) != nil {
				return
			}
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.count("other")
		http.NotFound(w, r)
	})
	return mux
}

// TestImportHARReplaysBrowserSession: headless Chromium records a HAR of a page making two XHR
// calls and a WebSocket exchange; the imported plan replays the same requests (the server's
// counts per route equal the browser's, static assets left out) and the same frames, with the
// recorded Authorization replaced by an env() value and the 300 ms pause as a think time.
func TestImportHARReplaysBrowserSession(t *testing.T) {
	hs := &harServer{counts: map[string]int{}}
	srv := httptest.NewServer(hs.handler())
	defer srv.Close()
	dir := t.TempDir()
	har := filepath.Join(dir, "session.har")
	var out struct {
		Errors []string `json:"errors"`
	}
	browsertest.Run(t, filepath.Join("testdata", "har_record.js"), 60*time.Second, &out, srv.URL+"/", har)
	if len(out.Errors) > 0 {
		t.Fatalf("page errors: %v", out.Errors)
	}
	recCounts, recFrames, recAuth := hs.snapshot()
	if recCounts["GET /api/items"] != 1 || recCounts["POST /api/items"] != 1 || recCounts["GET /ws"] != 1 || recCounts["static"] == 0 || len(recFrames) != 2 {
		t.Fatalf("the browser's session was not the expected one: %v, frames %q", recCounts, recFrames)
	}

	file := filepath.Join(dir, "session.hcl")
	if r := runCLI(t, "import", "har", har, "-o", file); r.code != exitOK {
		t.Fatalf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	src, _ := os.ReadFile(file)
	plan := string(src)
	for _, want := range []string{"# Generated by `loadplan import har` from session.har", "static asset request(s) were left out",
		`env("LOADPLAN_BEARER_TOKEN", "")`, "think_time", `send "send_1"`, `expect "recv_`, `equals = "pong"`} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %s:\n%s", want, plan)
		}
	}
	if strings.Contains(plan, "recorded-token") {
		t.Errorf("the recorded token is in the plan:\n%s", plan)
	}
	if r := runCLI(t, "fmt", "-check", file); r.code != exitOK {
		t.Fatalf("fmt -check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the generated plan:\n%s", plan)
		}
	})
	hs.reset()
	export := filepath.Join(dir, "summary.json")
	r := runCLIEnv(t, []string{"LOADPLAN_BEARER_TOKEN=env-token"}, "apply", "--no-progress", "--summary-export", export, file)
	if r.code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s\n%s", r.code, r.stdout, r.stderr, plan)
	}
	repCounts, repFrames, repAuth := hs.snapshot()
	for _, route := range []string{"GET /", "GET /api/items", "POST /api/items", "GET /ws"} {
		if repCounts[route] != recCounts[route] {
			t.Errorf("%s: the replay sent %d, the browser %d", route, repCounts[route], recCounts[route])
		}
	}
	if repCounts["static"] != 0 {
		t.Errorf("the replay fetched %d static assets", repCounts["static"])
	}
	if strings.Join(repFrames, "|") != strings.Join(recFrames, "|") {
		t.Errorf("the server received frames %q in the replay, %q from the browser", repFrames, recFrames)
	}
	if len(recAuth) != 1 || recAuth[0] != "Bearer recorded-token" || len(repAuth) != 1 || repAuth[0] != "Bearer env-token" {
		t.Errorf("Authorization: browser %q, replay %q", recAuth, repAuth)
	}
	total := 0
	for route, n := range repCounts {
		if route != "GET /ws" {
			total += n
		}
	}
	if got := exportedCount(t, export, "http_reqs"); got != float64(total) {
		t.Errorf("loadplan counted %v http_reqs, the server %d (%v)", got, total, repCounts)
	}
	if got := exportedCount(t, export, "ws_msgs_sent"); got != float64(len(repFrames)) {
		t.Errorf("loadplan counted %v ws_msgs_sent, the server received %d", got, len(repFrames))
	}
	if passes, fails := exportedChecks(t, export); fails != 0 || passes == 0 {
		t.Errorf("checks: %v passed, %v failed\n%s", passes, fails, r.stdout)
	}
}
