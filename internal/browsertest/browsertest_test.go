package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHarnessSeesWhatThePageDid serves a page that counts its own loads, makes one console error
// and asks for an image on a host outside the machine: the harness must report the count the
// server saw, the console error, and the aborted external request (which never resolved: the
// request is aborted before any lookup).
func TestHarnessSeesWhatThePageDid(t *testing.T) {
	var loads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		n := loads.Add(1)
		fmt.Fprintf(w, `<!doctype html><title>probe</title><p id="n">%d</p>
<img src="http://example.invalid/x.png"><script>console.error("boom")</script>`, n)
	}))
	defer srv.Close()

	var res struct {
		Title string `json:"title"`
		N     string `json:"n"`
		Log   Log    `json:"log"`
	}
	Run(t, filepath.Join("testdata", "probe.js"), 60*time.Second, &res, srv.URL+"/")
	if got := loads.Load(); got != 1 || res.N != "1" {
		t.Fatalf("server saw %d loads, page showed %q; want 1 and \"1\"", got, res.N)
	}
	if res.Title != "probe" {
		t.Fatalf("title %q, want probe", res.Title)
	}
	if len(res.Log.External) != 1 || !strings.Contains(res.Log.External[0], "example.invalid") {
		t.Fatalf("external requests %v, want the one image on example.invalid", res.Log.External)
	}
	if len(res.Log.ConsoleErrors) == 0 || !strings.Contains(strings.Join(res.Log.ConsoleErrors, "\n"), "boom") {
		t.Fatalf("console errors %v, want the page's \"boom\"", res.Log.ConsoleErrors)
	}
	if res.Log.Clean() == "" {
		t.Fatal("Clean() reported nothing for a page with an error and an external request")
	}
}
