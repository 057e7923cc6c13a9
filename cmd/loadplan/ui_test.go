package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestUIPagesHideSecrets: loadplan ui never sends a secret to the page — not a sensitive
// variable's default nor an env() value in the plans' listing (valid or with diagnostics), not a
// secret typed into the start form in the run's choices, view or summary — while the run does use
// them (the server receives the typed token).
func TestUIPagesHideSecrets(t *testing.T) {
	var mu sync.Mutex // guards auth, written by the server's handlers
	var auth []string
	srv := newCounter(t, 0)
	srv.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		srv.hits.Add(1)
	})
	folder := t.TempDir()
	ok := `variable "host" {
  default = "http://127.0.0.1:1"
}
variable "token" {
  type      = string
  sensitive = true
  default   = "dflt-s3cret"
}
target "api" {
  base_url = var.host
  headers  = { Authorization = "Bearer ${var.token}", "X-Env" = env("UI_SECRET") }
}
scenario "rest" {
  target = target.api
  http "hit" {
    path = "/ok"
  }
}
load {
  model      = "per_vu_iterations"
  vus        = 1
  iterations = 3
}
`
	bad := `target "api" {
  base_url = env("UI_SECRET")
  timeout  = env("UI_SECRET")
}
`
	for name, src := range map[string]string{"ok.hcl": ok, "bad.hcl": bad} {
		if err := os.WriteFile(filepath.Join(folder, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("UI_SECRET", "env-s3cret")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := startUI(t, ctx, "ui", "--addr", "127.0.0.1:0", "--results", t.TempDir(), folder)
	defer func() {
		p.cmd.Process.Signal(syscall.SIGINT)
		p.wait(t)
	}()
	secrets := []string{"dflt-s3cret", "env-s3cret", "typed-s3cret"}
	check := func(what, body string) {
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("%s holds the secret %q:\n%s", what, s, body)
			}
		}
	}
	plans := fetch(t, "GET", p.url+"api/plans", "")
	check("the plans' listing", plans)
	if !strings.Contains(plans, `"sensitive":true`) || !strings.Contains(plans, "bad.hcl") {
		t.Fatalf("the listing lacks the sensitive variable or the invalid plan:\n%s", plans)
	}
	body := `{"plan":"` + filepath.Join(folder, "ok.hcl") + `","vars":{"host":"` + srv.srv.URL + `","token":"typed-s3cret"}}`
	fetch(t, "POST", p.url+"api/start", body)
	var state frameJSON
	for state.Busy || len(state.History) == 0 {
		if ctx.Err() != nil {
			t.Fatal("the run did not end")
		}
		time.Sleep(50 * time.Millisecond)
		raw := fetch(t, "GET", p.url+"api/state", "")
		check("the page's state", raw)
		if err := json.Unmarshal([]byte(raw), &state); err != nil {
			t.Fatal(err)
		}
	}
	if h := state.History[0]; h.Code != 0 || !strings.Contains(h.Choices, "token=(sensitive)") {
		t.Fatalf("history %+v", h)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := srv.hits.Load(); n != 3 || len(auth) != 3 || auth[0] != "Bearer typed-s3cret" {
		t.Fatalf("server saw %d requests, Authorization %q: the typed token was not used", n, auth)
	}
}

// frameJSON is the part of the page's state this test reads.
type frameJSON struct {
	Busy    bool `json:"busy"`
	History []struct {
		Code    int    `json:"code"`
		Choices string `json:"choices"`
	} `json:"history"`
}

// fetch sends a same-origin request and returns the body of a 2xx answer.
func fetch(t *testing.T, method, url, body string) string {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s %s", method, url, resp.Status, b)
	}
	return string(b)
}

// TestUINonLoopbackNeedsToken: apply --ui and loadplan ui refuse a non-loopback address without a
// token before loading a plan, binding a port or sending a request (exit 2, the fix named); the
// environment's token stands in for the flag (checked without binding anything).
func TestUINonLoopbackNeedsToken(t *testing.T) {
	srv := newCounter(t, 0)
	file := writePlan(t, "/ok", `load {
  model    = "users"
  vus      = 1
  duration = "1s"
}`, "")
	for _, args := range [][]string{
		{"apply", "--ui", "0.0.0.0:0", "-var", "host=" + srv.srv.URL, file},
		{"apply", "--ui", "[::]:0", "-var", "host=" + srv.srv.URL, file},
		{"ui", "--addr", "0.0.0.0:0", t.TempDir()},
	} {
		r := runCLIEnv(t, []string{uiTokenEnv + "="}, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "needs a token") || !strings.Contains(r.stderr, "--ui-token") {
			t.Errorf("%v: exit %d, want 2 with the fix\n%s", args, r.code, r.stderr)
		}
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("the server received %d requests from a refused run", n)
	}
	t.Setenv(uiTokenEnv, "tok")
	u := uiFlags{addr: "0.0.0.0:8089"}
	if err := u.check(); err != nil || u.token != "tok" {
		t.Errorf("with $%s set: %v, token %q", uiTokenEnv, err, u.token)
	}
	u = uiFlags{addr: "0.0.0.0:8089", token: "flag"}
	if err := u.check(); err != nil || u.token != "flag" {
		t.Errorf("--ui-token beside $%s: %v, token %q; the flag wins", uiTokenEnv, err, u.token)
	}
	r := runCLI(t, "apply", "--ui-linger", file)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--ui-linger needs --ui") {
		t.Errorf("--ui-linger alone: exit %d\n%s", r.code, r.stderr)
	}
}
