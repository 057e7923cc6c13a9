package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/fleet"
	"github.com/loadplan/loadplan/internal/testkit"
	"github.com/loadplan/loadplan/outputs/summary"
)

// slowEvery is the target of the fleet tests: it counts every request and makes every tenth it
// receives wait slowDelay, so that the p95 of any run of 20 requests or more falls among the slow
// ones — a latency class that holds from one run to the next on a loaded machine, where
// loopback latencies themselves do not.
const slowDelay = 30 * time.Millisecond

func newSlowEvery(t *testing.T) *testkit.Counter {
	var seq atomic.Int64
	return testkit.NewCounter(t, func(w http.ResponseWriter, r *http.Request) {
		if seq.Add(1)%10 == 0 {
			time.Sleep(slowDelay)
		}
		w.Write([]byte(`{"ok":true}`))
	})
}

// fleetPlan is the fleet tests' plan: one GET per iteration, with the given load.
func fleetPlan(t *testing.T, load string) string {
	t.Helper()
	src := `variable "host" {
  type = string
}

target "api" {
  base_url = var.host
}

scenario "rest" {
  target     = target.api
  think_time = "10ms"
  http "hit" {
    path = "/ok"
  }
}

` + load + "\n"
	file := filepath.Join(t.TempDir(), "plan.hcl")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// proc is one finished process of the fleet.
type proc struct {
	code           int
	stdout, stderr string
}

// runProcs runs the binary once per args entry, all at once, each with its env, and waits for
// every one (bounded by a minute).
func runProcs(t *testing.T, args [][]string, env [][]string) []proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := make([]proc, len(args))
	var wg sync.WaitGroup
	for i := range args {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, testkit.Binary(t), args[i]...)
			cmd.Env = append(os.Environ(), env[i]...)
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				code = -1
				e.WriteString(err.Error())
			}
			out[i] = proc{code, o.String(), e.String()}
		}()
	}
	wg.Wait()
	return out
}

// freeLoopback returns a loopback address nothing listens on (it was free a moment ago).
func freeLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// composeLogs interleaves the processes' stdout and stderr line by line, round robin, each line
// behind a docker compose style prefix: what `docker compose logs` prints.
func composeLogs(ps []proc) string {
	var streams [][]string
	var names []string
	for i, p := range ps {
		for _, s := range []string{p.stderr, p.stdout} {
			streams = append(streams, strings.SplitAfter(s, "\n"))
			names = append(names, fmt.Sprintf("loadplan-%d  | ", i+1))
		}
	}
	var b strings.Builder
	for more := true; more; {
		more = false
		for i := range streams {
			if len(streams[i]) > 0 && streams[i][0] != "" {
				b.WriteString(names[i] + streams[i][0])
				streams[i] = streams[i][1:]
				more = true
			}
		}
	}
	return b.String()
}

// mergeStdin runs `loadplan merge` with stdin as its standard input.
func mergeStdin(t *testing.T, stdin string, args ...string) proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testkit.Binary(t), append([]string{"merge"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	return proc{exitCode(t, err), o.String(), e.String()}
}

// exportedP95 reads metrics.http_req_duration["p(95)"] from a summary export, in ms.
func exportedP95(t *testing.T, file string) float64 {
	t.Helper()
	return exportedStat(t, file, "p(95)")
}

// exportedStat reads metrics.http_req_duration[stat] from a summary export, in ms.
func exportedStat(t *testing.T, file, stat string) float64 {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Metrics map[string]map[string]float64 `json:"metrics"`
	}
	json.Unmarshal(data, &ex)
	v, ok := ex.Metrics["http_req_duration"][stat]
	if !ok {
		t.Fatalf("%s has no http_req_duration %s: %s", file, stat, data)
	}
	return v
}

// rawDurations reads every http_req_duration sample of JSON lines files, in ms.
func rawDurations(t *testing.T, files []string) []float64 {
	t.Helper()
	var out []float64
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var p struct {
				Type   string `json:"type"`
				Metric string `json:"metric"`
				Data   struct {
					Value float64 `json:"value"`
				} `json:"data"`
			}
			if json.Unmarshal(sc.Bytes(), &p) == nil && p.Type == "Point" && p.Metric == "http_req_duration" {
				out = append(out, p.Data.Value)
			}
		}
	}
	return out
}

// segmentsOf rebuilds the segment summaries from log text.
func segmentsOf(t *testing.T, logs string) []*summary.SegmentSummary {
	t.Helper()
	c := fleet.NewCollector()
	if err := c.Read(strings.NewReader(logs), "logs"); err != nil {
		t.Fatal(err)
	}
	segs, err := c.Summaries()
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

// startSpread is the latest segment start minus the earliest.
func startSpread(segs []*summary.SegmentSummary) time.Duration {
	lo, hi := segs[0].Start, segs[0].Start
	for _, s := range segs {
		if s.Start.Before(lo) {
			lo = s.Start
		}
		if s.Start.After(hi) {
			hi = s.Start
		}
	}
	return hi.Sub(lo)
}

// nearestRank is the exact q-quantile of xs by nearest rank, as the histogram defines it.
func nearestRank(xs []float64, q float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[int(math.Ceil(q*float64(len(s))))-1]
}
