package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestApplyDemoPrintsServerCountsThatAgree: with --demo, the line of what the demo backend saw
// agrees with loadplan's own figures for HTTP requests, WebSocket sessions and frames both ways.
func TestApplyDemoPrintsServerCountsThatAgree(t *testing.T) {
	src := `variable "host" {
  type = string
}

target "api" {
  base_url = var.host
}

scenario "mixed" {
  target = target.api
  http "health" {
    path = "/api/health"
  }
  websocket "scope" {
    path = "/api/oscilloscope/ws"
    send "start" {
      json = { command = "start", frequency = 200 }
    }
    expect "samples" {
      json  = { type = "data" }
      count = 5
    }
    send "stop" {
      json = { command = "stop" }
    }
    expect "stopped" {
      json = { type = "stopped" }
    }
    close {}
  }
}

load {
  model      = "shared_iterations"
  vus        = 3
  iterations = 9
}
`
	file := filepath.Join(t.TempDir(), "mixed.hcl")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(t.TempDir(), "summary.json")
	r := runCLI(t, "apply", "--demo", "--no-progress", "--summary-export", export, file)
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	var reqs, sessions, upgrades, framesIn, framesOut int
	var found bool
	for _, line := range splitLines(r.stdout) {
		if n, _ := fmt.Sscanf(line, "  demo backend saw: %d HTTP requests, %d WebSocket sessions (%d upgrade requests), %d frames received, %d frames sent",
			&reqs, &sessions, &upgrades, &framesIn, &framesOut); n == 5 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no demo counts line in:\n%s", r.stdout)
	}
	if reqs != 9 || sessions != 9 || upgrades != 9 {
		t.Errorf("demo saw %d requests, %d sessions, %d upgrades; want 9 each", reqs, sessions, upgrades)
	}
	for _, c := range []struct {
		metric string
		server int
	}{{"http_reqs", reqs}, {"ws_sessions", sessions}, {"ws_msgs_sent", framesIn}, {"ws_msgs_received", framesOut}} {
		if got := exportedCount(t, export, c.metric); got != float64(c.server) {
			t.Errorf("%s = %v, the demo backend counted %d", c.metric, got, c.server)
		}
	}
}
