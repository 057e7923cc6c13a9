package main

import (
	"fmt"
	"testing"
)

// gcPlan is a plan whose load holds vus VUs, each keeping a persistent WebSocket session.
func gcPlan(vus int) string {
	return fmt.Sprintf(`variable "host" { type = string }
target "t" { base_url = var.host }
scenario "s" {
  target = target.t
  websocket "ws" {
    path    = "/ws"
    session = "persistent"
    receive "r" { duration = "5s" }
  }
}
load {
  vus      = %d
  duration = "10s"
}
`, vus)
}

// TestGCPercentFor: the lower GC target applies from gcManyVUs VUs at the memory peak (after
// apply's --vus cap), and never when the environment sets GOGC or GOMEMLIMIT.
func TestGCPercentFor(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		name   string
		vus    int
		capVUs int
		getenv func(string) string
		want   int
	}{
		{"few VUs keep Go's default", 50, 0, env(), 0},
		{"many VUs", 10000, 0, env(), gcManyPercent},
		{"at the threshold", gcManyVUs, 0, env(), gcManyPercent},
		{"--vus caps the peak under it", 10000, gcManyVUs - 1, env(), 0},
		{"GOGC set", 10000, 0, env("GOGC", "100"), 0},
		{"GOMEMLIMIT set", 10000, 0, env("GOMEMLIMIT", "1GiB"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := loadSrc(t, gcPlan(tc.vus), "http://127.0.0.1:1")
			if got := gcPercentFor(p, &applyOptions{vus: tc.capVUs}, tc.getenv); got != tc.want {
				t.Errorf("gcPercentFor = %d, want %d", got, tc.want)
			}
		})
	}
}
