package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// seen is one request a recording server received.
type seen struct {
	method, path, query, body, auth, cookie, ctype string
}

// recorder is an httptest handler that keeps every request it receives.
type recorder struct {
	mu   sync.Mutex // guards reqs
	reqs []seen
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.reqs = append(r.reqs, seen{req.Method, req.URL.Path, req.URL.RawQuery, string(body),
		req.Header.Get("Authorization"), req.Header.Get("Cookie"), req.Header.Get("Content-Type")})
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":true}`)
}

func (r *recorder) requests() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.reqs...)
}

// TestImportCurlReplays: three pasted commands (Chromium JSON with a bearer token and cookies,
// -u basic auth, a Firefox form) replay as the same three requests, in order, with the
// credentials taken from the environment and never from the paste.
func TestImportCurlReplays(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	cmds := []string{
		`curl '` + srv.URL + `/v1/orders?status=open' \
  -H 'accept: application/json' \
  -H 'authorization: Bearer recorded-secret-token' \
  -H 'content-type: application/json' \
  -b 'sid=recorded-session' \
  -H 'sec-fetch-mode: cors' \
  --data-raw '{"symbol":"AAPL","qty":10}'`,
		`curl -u alice:recorded-password -L ` + srv.URL + `/v1/me`,
		`curl '` + srv.URL + `/v1/login' --compressed -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data-raw 'user=alice&password=pw'`,
	}
	file := filepath.Join(t.TempDir(), "curl.hcl")
	if r := runCLI(t, append([]string{"import", "curl", "-o", file}, cmds...)...); r.code != exitOK {
		t.Fatalf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	src, _ := os.ReadFile(file)
	for _, secret := range []string{"recorded-secret-token", "recorded-session", "recorded-password"} {
		if strings.Contains(string(src), secret) {
			t.Errorf("the plan contains %q:\n%s", secret, src)
		}
	}
	if r := runCLI(t, "fmt", "-check", file); r.code != exitOK {
		t.Fatalf("fmt -check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	export := filepath.Join(t.TempDir(), "summary.json")
	r := runCLIEnv(t, []string{"LOADPLAN_BEARER_TOKEN=env-token", "LOADPLAN_COOKIE=sid=env", "LOADPLAN_BASIC_CREDENTIALS=bob:pw2"},
		"apply", "--no-progress", "--summary-export", export, file)
	if r.code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s\n%s", r.code, r.stdout, r.stderr, src)
	}
	want := []seen{
		{"POST", "/v1/orders", "status=open", `{"qty":10,"symbol":"AAPL"}`, "Bearer env-token", "sid=env", "application/json"},
		{"GET", "/v1/me", "", "", "Basic Ym9iOnB3Mg==", "", ""},
		{"POST", "/v1/login", "", "password=pw&user=alice", "", "", "application/x-www-form-urlencoded"},
	}
	got := rec.requests()
	if len(got) != len(want) {
		t.Fatalf("the server saw %d requests, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: server saw %+v, want %+v", i+1, got[i], want[i])
		}
	}
	if n := exportedCount(t, export, "http_reqs"); n != float64(len(got)) {
		t.Errorf("loadplan counted %v http_reqs, the server %d", n, len(got))
	}
	if strings.Contains(r.stdout+r.stderr, "env-token") {
		t.Error("the env() token was printed")
	}
}
