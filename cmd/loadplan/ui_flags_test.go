package main

import (
	"strings"
	"testing"
)

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
