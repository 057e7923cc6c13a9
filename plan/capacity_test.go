package plan

import (
	"os"
	"strings"
	"testing"
)

// TestCapacityPerInstance: the VU, session and rate bounds hold per instance, so a plan split
// across instances (--segment i/N) may ask for N times as much, and no more.
func TestCapacityPerInstance(t *testing.T) {
	const target = "target \"api\" {\n  base_url = \"http://127.0.0.1:8000\"\n}\n"
	http := func(load string) string {
		return target + "scenario \"s\" {\n  http \"a\" { path = \"/a\" }\n  load {\n" + load + "\n  }\n}\n"
	}
	ws := func(load string) string {
		return target + "scenario \"s\" {\n  websocket \"a\" {\n    path = \"/ws\"\n    send \"x\" { text = \"x\" }\n  }\n" +
			"  load {\n" + load + "\n  }\n}\n"
	}
	cases := []struct {
		name      string
		src       string
		instances int
		want      string // summary of the error, "" for none
	}{
		{"at the VU bound", http(`vus = 1000000
duration = "1m"`), 1, ""},
		{"past the VU bound", http(`vus = 1000001
duration = "1m"`), 1, "Too many virtual users"},
		{"two instances", http(`vus = 2000000
duration = "1m"`), 2, ""},
		{"past two instances", http(`vus = 2000001
duration = "1m"`), 2, "Too many virtual users"},
		{"sessions at the bound", ws(`vus = 500000
duration = "1m"`), 1, ""},
		{"sessions past the bound", ws(`vus = 500001
duration = "1m"`), 1, "Too many WebSocket sessions"},
		{"sessions on two instances", ws(`vus = 1000000
duration = "1m"`), 2, ""},
		{"rate at the bound", http(`model = "arrival_rate"
rate = 1000
time_unit = "1ms"
duration = "1m"
pre_allocated_vus = 1000
max_vus = 1000`), 1, ""},
		{"rate past the bound", http(`model = "arrival_rate"
rate = 1001
time_unit = "1ms"
duration = "1m"
pre_allocated_vus = 1000
max_vus = 1000`), 1, "Rate too high"},
		{"rate on two instances", http(`model = "arrival_rate"
rate = 2000
time_unit = "1ms"
duration = "1m"
pre_allocated_vus = 1000
max_vus = 1000`), 2, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, diags := LoadSource("t.hcl", []byte(c.src), Options{Instances: c.instances})
			if c.want == "" {
				if diags.HasErrors() {
					t.Fatalf("refused: %s", renderDiags(diags))
				}
				if peak := vuBound(p.Scenarios[0].Load); peak > c.instances*maxVUs {
					t.Errorf("peak %d VUs", peak)
				}
				return
			}
			if !diags.HasErrors() || !strings.Contains(renderDiags(diags), c.want) {
				t.Fatalf("want %q, got:\n%s", c.want, renderDiags(diags))
			}
		})
	}
}

// TestBoundsHideSecrets: a VU count or a feeder path from env() is refused like any other, and the
// diagnostics do not show it.
func TestBoundsHideSecrets(t *testing.T) {
	src := `target "api" {
  base_url = "http://127.0.0.1:8000"
}

data "users" { csv = env("USERS_CSV") }

scenario "s" {
  http "a" { path = "/a/${data.users.name}" }
  load {
    vus      = tonumber(env("VUS"))
    duration = "1m"
  }
}
`
	env := map[string]string{"VUS": "7654321", "USERS_CSV": "/dev/zero"}
	_, diags := LoadSource("t.hcl", []byte(src), Options{Env: env})
	got := renderDiags(diags)
	for _, want := range []string{"Too many virtual users", "vus: One loadplan instance runs at most 1,000,000 virtual users", "got (sensitive)", "t.hcl:5:22"} {
		if !strings.Contains(got, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"7654321", "7,654,321", "/dev/zero"} {
		if strings.Contains(got, secret) {
			t.Errorf("diagnostics show the secret %q:\n%s", secret, got)
		}
	}
}

// TestVarValueNesting: a -var or LOADPLAN_VAR_ value is parsed like a plan, so it is held to the
// same nesting bound (100,000 parentheses overflowed the parser's stack).
func TestVarValueNesting(t *testing.T) {
	src := "variable \"n\" {\n  type = number\n}\n" +
		"target \"api\" {\n  base_url = \"http://127.0.0.1:8000\"\n}\n" +
		"scenario \"s\" {\n  http \"a\" { path = \"/a\" }\n}\n"
	deep := strings.Repeat("(", 100_000) + "1" + strings.Repeat(")", 100_000)
	for _, opts := range []Options{
		{Vars: map[string]string{"n": deep}},
		{Env: map[string]string{EnvVarPrefix + "n": deep}},
	} {
		_, diags := LoadSource("t.hcl", []byte(src), opts)
		if !diags.HasErrors() || !strings.Contains(renderDiags(diags), "Invalid value for variable") {
			t.Fatalf("want an invalid value, got:\n%.500s", renderDiags(diags))
		}
	}
}

// TestPEMFileBound: a certificate path naming a device is refused at load; the run would read it
// whole.
func TestPEMFileBound(t *testing.T) {
	src := "target \"api\" {\n  base_url = \"https://127.0.0.1:8443\"\n  ca_file = \"" + os.DevNull + "\"\n}\n" +
		"scenario \"s\" {\n  http \"a\" { path = \"/a\" }\n}\n"
	_, diags := LoadSource("t.hcl", []byte(src), Options{})
	if got := renderDiags(diags); !strings.Contains(got, "t.hcl:3:13: error: Not a regular file") {
		t.Fatalf("got:\n%s", got)
	}
}
