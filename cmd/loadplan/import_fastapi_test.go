package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
)

// fastAPI stands in for the app internal/importer/testdata/fastapi.json describes: /token
// issues a bearer token for a form login, items need it, a created item's id is what the reads
// and deletes must use, orders need the API key.
type fastAPI struct {
	mu      sync.Mutex // guards the fields below
	counts  map[string]int
	items   map[string]bool // ids created and not deleted
	nextID  int
	badAuth int // requests refused for their credentials or an unknown id
}

func (f *fastAPI) handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h func(w http.ResponseWriter, r *http.Request) int) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.counts[pattern]++
			w.Header().Set("Content-Type", "application/json")
			if code := h(w, r); code >= 400 {
				f.badAuth++
				w.WriteHeader(code)
			}
		})
	}
	authed := func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer tok-alice" }
	route("POST /token", func(w http.ResponseWriter, r *http.Request) int {
		if r.PostFormValue("username") != "alice" || r.PostFormValue("password") == "" {
			return 401
		}
		fmt.Fprint(w, `{"access_token":"tok-alice","token_type":"bearer"}`)
		return 200
	})
	route("POST /items/", func(w http.ResponseWriter, r *http.Request) int {
		if !authed(r) {
			return 401
		}
		f.nextID++
		f.items[fmt.Sprint(f.nextID)] = true
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"id":%d,"name":"x","price":1,"released":"2024-01-01"}`, f.nextID)
		return 201
	})
	route("GET /items/", func(w http.ResponseWriter, r *http.Request) int {
		if !authed(r) || r.URL.Query().Get("q") == "" {
			return 401
		}
		fmt.Fprint(w, `[]`)
		return 200
	})
	route("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) int {
		if !authed(r) || !f.items[r.PathValue("id")] {
			return 404
		}
		fmt.Fprintf(w, `{"id":%s}`, r.PathValue("id"))
		return 200
	})
	route("DELETE /items/{id}", func(w http.ResponseWriter, r *http.Request) int {
		if !authed(r) || !f.items[r.PathValue("id")] {
			return 404
		}
		delete(f.items, r.PathValue("id"))
		w.WriteHeader(204)
		return 204
	})
	route("GET /users/{username}/orders", func(w http.ResponseWriter, r *http.Request) int {
		if r.Header.Get("X-API-Key") != "key-from-env" {
			return 401
		}
		fmt.Fprint(w, `[]`)
		return 200
	})
	return mux
}

// TestImportOpenAPIFastAPIChains runs the plan imported from the FastAPI-shaped document against
// a stand-in of that app: the setup logs in and the token reaches every item step, the created
// item's id is the one read and deleted, the API key comes from the environment. Every check
// passes, and the server's counts equal loadplan's.
func TestImportOpenAPIFastAPIChains(t *testing.T) {
	app := &fastAPI{counts: map[string]int{}, items: map[string]bool{}}
	srv := httptest.NewServer(app.handler())
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "api.hcl")
	doc := filepath.Join("..", "..", "internal", "importer", "testdata", "fastapi.json")
	if r := runCLI(t, "import", "openapi", doc, "-var", "host="+srv.URL, "-o", file); r.code != exitOK {
		t.Fatalf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	export := filepath.Join(dir, "summary.json")
	r := runCLIEnv(t, []string{"LOADPLAN_APIKEYHEADER=key-from-env"}, "apply", "--no-progress", "--summary-export", export, file)
	if r.code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	app.mu.Lock()
	defer app.mu.Unlock()
	want := map[string]int{ // auth, items and users scenarios, one iteration each; items logs in in setup
		"POST /token": 2, "POST /items/": 1, "GET /items/": 1, "GET /items/{id}": 1, "DELETE /items/{id}": 1,
		"GET /users/{username}/orders": 1,
	}
	total := 0
	for route, n := range want {
		if app.counts[route] != n {
			t.Errorf("%s: server saw %d, want %d", route, app.counts[route], n)
		}
		total += app.counts[route]
	}
	if app.badAuth != 0 || len(app.items) != 0 {
		t.Errorf("%d requests refused, %d items left undeleted", app.badAuth, len(app.items))
	}
	if got := exportedCount(t, export, "http_reqs"); got != float64(total) {
		t.Errorf("loadplan counted %v http_reqs, the server %d", got, total)
	}
	if passes, fails := exportedChecks(t, export); fails != 0 || passes != float64(total) {
		t.Errorf("checks: %v passed, %v failed; want %d and 0\n%s", passes, fails, total, r.stdout)
	}
}
