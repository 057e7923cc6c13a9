package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// seedPlan draws one of two tasks per iteration, 3:1, 40 iterations for each of 3 VUs; every
// request names its VU so that the server can record each VU's task sequence.
const seedPlan = `variable "host" {
  type = string
}

target "api" {
  base_url = var.host
}

scenario "mix" {
  target = target.api
  task "browse" {
    weight = 3
    http "browse" {
      path    = "/browse"
      headers = { X-VU = "${vu.id}" }
    }
  }
  task "order" {
    weight = 1
    http "order" {
      path    = "/order"
      headers = { X-VU = "${vu.id}" }
    }
  }
  load {
    model      = "per_vu_iterations"
    vus        = 3
    iterations = 40
  }
}
`

// seqServer records, per VU, the paths it was sent in order.
type seqServer struct {
	mu  sync.Mutex
	seq map[string][]string
}

func (s *seqServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seq[r.Header.Get("X-VU")] = append(s.seq[r.Header.Get("X-VU")], r.URL.Path)
	s.mu.Unlock()
}

// applySeeded runs seedPlan against a fresh recording server with extra flags and returns what
// the server recorded and apply's stderr.
func applySeeded(t *testing.T, file string, flags ...string) (map[string][]string, string) {
	t.Helper()
	srv := &seqServer{seq: map[string][]string{}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	args := append([]string{"apply", "--no-progress", "-var", "host=" + ts.URL}, flags...)
	r := runCLI(t, append(args, file)...)
	if r.code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	total := 0
	for _, s := range srv.seq {
		total += len(s)
	}
	if len(srv.seq) != 3 || total != 120 {
		t.Fatalf("server saw %d requests from %d VUs; want 120 from 3", total, len(srv.seq))
	}
	return srv.seq, r.stderr
}

// TestApplySeedRepeatsTaskDraws: apply without --seed prints the seed it chose; a second apply
// with --seed and that number makes every VU send the same task sequence the server recorded the
// first time, and another seed a different one.
func TestApplySeedRepeatsTaskDraws(t *testing.T) {
	file := filepath.Join(t.TempDir(), "mix.hcl")
	if err := os.WriteFile(file, []byte(seedPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	first, stderr := applySeeded(t, file)
	var seed uint64
	for _, line := range strings.Split(stderr, "\n") {
		if n, _ := fmt.Sscanf(line, "task draws: seed %d", &seed); n == 1 {
			break
		}
	}
	if seed == 0 {
		t.Fatalf("apply printed no seed:\n%s", stderr)
	}
	again, stderr2 := applySeeded(t, file, "--seed", fmt.Sprint(seed))
	if !strings.Contains(stderr2, fmt.Sprintf("task draws: seed %d\n", seed)) {
		t.Errorf("apply --seed %d does not say its seed:\n%s", seed, stderr2)
	}
	if !reflect.DeepEqual(first, again) {
		t.Errorf("--seed %d (the printed seed) drew other tasks:\nfirst: %v\nagain: %v", seed, first, again)
	}
	other, _ := applySeeded(t, file, "--seed", fmt.Sprint(seed+1))
	if reflect.DeepEqual(first, other) {
		t.Errorf("--seed %d and --seed %d drew the same 120 tasks", seed, seed+1)
	}
	orders := 0
	for _, s := range first {
		for _, p := range s {
			if p == "/order" {
				orders++
			}
		}
	}
	t.Logf("seed %d: %d of 120 iterations ran order", seed, orders)
}
