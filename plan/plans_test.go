package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"
)

// TestExamplePlans: every plan in plans/ validates without warnings and is fmt-clean.
func TestExamplePlans(t *testing.T) {
	files, err := filepath.Glob("../plans/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"arrival-rate", "burst", "load", "market", "reconnect-loop", "reconnect", "rest", "smoke", "soak", "stress", "websocket"}
	// The plans that replace the seed's Locust user classes name the class in their header.
	locust := map[string]string{"rest": "RestUser", "market": "MarketStreamUser", "reconnect-loop": "ReconnectUser",
		"burst": "BurstUser", "websocket": "OscilloscopeUser"}
	var got []string
	for _, f := range files {
		got = append(got, filepath.Base(f[:len(f)-len(".hcl")]))
	}
	eq(t, "plans", got, want)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, diags := LoadPlan([]string{f}, Options{Env: map[string]string{}})
			if len(diags) > 0 {
				t.Fatalf("diagnostics:\n%s", renderDiags(diags))
			}
			if len(p.Scenarios) == 0 || len(p.Thresholds) == 0 {
				t.Errorf("an example plan needs scenarios and thresholds")
			}
			if p.Variables[0].Name != "host" || p.Variables[0].Value != "http://127.0.0.1:8000" {
				t.Errorf("first variable must be host with the demo default, got %+v", p.Variables[0])
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(src, []byte("# ")) {
				t.Errorf("an example plan starts with a header comment")
			}
			if class := locust[filepath.Base(f[:len(f)-len(".hcl")])]; class != "" && !bytes.Contains(src[:bytes.Index(src, []byte("\n\n"))], []byte("Locust "+class)) {
				t.Errorf("the header comment does not name the Locust class it replaces, %s", class)
			}
			if out := hclwrite.Format(src); !bytes.Equal(out, src) {
				t.Errorf("not fmt-clean; run: loadplan fmt %s", f)
			}
		})
	}
}

// highestTarget is the most VUs a users load's stages reach (the executor's schedule, which
// `loadplan plan` prints, is tested against the stages in package executor).
func highestTarget(l *Load) int {
	peak := float64(l.StartVUs)
	for _, s := range l.Stages {
		peak = max(peak, s.Target)
	}
	return int(peak)
}

func TestLoadDuration(t *testing.T) {
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	l := &Load{Model: Users, StartVUs: 3, Stages: []Stage{{Duration: sec(10), Target: 2}, {Duration: sec(5), Target: 8}, {Duration: sec(5), Target: 1}}}
	eq(t, "Duration", l.Duration(), sec(20))
	it := &Load{Model: SharedIterations, VUs: 2, Iterations: 5, MaxDuration: time.Minute}
	eq(t, "iterations Duration", it.Duration(), time.Minute)
}

// TestExampleProfiles checks that the named profiles are what their names promise.
func TestExampleProfiles(t *testing.T) {
	cases := []struct {
		file     string
		peak     int
		duration string
	}{
		{"smoke", 5, "30s"},
		{"load", 50, "5m0s"},
		{"stress", 200, "10m0s"},
		{"soak", 30, "30m0s"},
	}
	for _, c := range cases {
		p, diags := LoadPlan([]string{"../plans/" + c.file + ".hcl"}, Options{})
		if diags.HasErrors() {
			t.Fatal(renderDiags(diags))
		}
		eq(t, c.file+" peak VUs", highestTarget(p.Load), c.peak)
		eq(t, c.file+" duration", p.Load.Duration().String(), c.duration)
	}
	p, _ := LoadPlan([]string{"../plans/arrival-rate.hcl"}, Options{})
	eq(t, "arrival-rate model", p.Load.Model, ArrivalRate)
	p, _ = LoadPlan([]string{"../plans/reconnect.hcl"}, Options{})
	ws := p.Scenarios[0].Steps[0].WebSocket
	eq(t, "reconnect session", ws.Session, Persistent)
	if ws.Reconnect == nil {
		t.Fatal("reconnect.hcl has no reconnect policy")
	}
	q, _ := ws.Query[0].Value.String(nil)
	eq(t, "reconnect drop_after", [2]string{ws.Query[0].Name, q}, [2]string{"drop_after", "40"})
}
