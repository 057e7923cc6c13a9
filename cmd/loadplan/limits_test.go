package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/plan"
)

// loadSrc loads one plan from HCL source; host is var.host.
func loadSrc(t *testing.T, src, host string) *plan.Plan {
	t.Helper()
	file := filepath.Join(t.TempDir(), "plan.hcl")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _, diags := plan.LoadFiles([]string{file}, plan.Options{Env: map[string]string{}, Vars: map[string]string{"host": host}})
	if diags.HasErrors() || p == nil {
		t.Fatalf("plan does not load: %v\n%s", diags, src)
	}
	return p
}

// limitPlan is a plan with two targets, a scenario "a" of weight 3 that uses both (and the
// blocks in extraA), a scenario "b" of weight 1 that uses one, and the given load and outputs.
func limitPlan(load, extraA, outputs string) string {
	return `variable "host" { type = string }
target "api" { base_url = var.host }
target "other" { base_url = var.host } // a second client, so a second connection per VU
scenario "a" {
  target = target.api
  weight = 3
  http "one" { path = "/x" }
  http "two" { path = "/y" }
  http "three" {
    target = target.other
    path   = "/z"
  }
` + extraA + `
}
scenario "b" {
  target = target.api
  http "one" { path = "/x" }
}
` + load + "\n" + outputs + "\n"
}

const usersLoad = `load {
  model     = "users"
  start_vus = 10
  stage {
    duration = "1m"
    target   = 1000
  }
  stage {
    duration = "1m"
    target   = 0
  }
}`

func TestEstimateNeed(t *testing.T) {
	persistent := `websocket "live" {
    path    = "/ws"
    session = "persistent"
    send "hi" { text = "hi" }
  }`
	perIteration := `websocket "w1" {
    path = "/ws"
    send "hi" { text = "hi" }
  }
  websocket "w2" {
    path = "/ws"
    send "hi" { text = "hi" }
  }`
	tests := []struct {
		name          string
		load, extraA  string
		outputs       string
		in            needInput
		vus, conns    int
		ws, sessions  int
		local, outs   int
		files         int
		memoryAtLeast uint64
		absurd        bool
	}{
		// 1,000 VUs split 3:1 → 750 of a (2 targets) + 250 of b (1 target).
		{name: "users ramp peak, weights", load: usersLoad, vus: 1000, conns: 750*2 + 250, files: 1750 + runtimeFiles},
		{name: "--vus caps the load", load: usersLoad, in: needInput{maxVUs: 100}, vus: 100, conns: 75*2 + 25, files: 175 + runtimeFiles},
		// Segment 2/3 of 1,000 is 666 − 333 = 333, split 3:1 → 250 (rem 3) + 83 (rem 1).
		{name: "segment share", load: usersLoad, in: needInput{segment: executor.Segment{Index: 2, Total: 3}}, vus: 333, conns: 250*2 + 83, files: 583 + runtimeFiles},
		{name: "--scenario b only", load: usersLoad, in: needInput{scenarios: []string{"b"}}, vus: 1000, conns: 1000, files: 1000 + runtimeFiles},
		{name: "arrival rate: max_vus", load: `load {
  model             = "arrival_rate"
  pre_allocated_vus = 20
  max_vus           = 400
  stage {
    duration = "1m"
    target   = 50
  }
}`, vus: 400, conns: 300*2 + 100, files: 700 + runtimeFiles},
		// 3 VUs split 3:1 → 2 + 1 (largest remainder, ties to the earlier).
		{name: "shared iterations", load: `load {
  model      = "shared_iterations"
  vus        = 3
  iterations = 100
}`, vus: 3, conns: 2*2 + 1, files: 5 + runtimeFiles},
		// One VU split 3:1 gives b none, but b has iterations to run: the executor gives it one.
		{name: "shared iterations: a share needs a VU", load: `load {
  model      = "shared_iterations"
  vus        = 1
  iterations = 100
}`, vus: 2, conns: 2 + 1, files: 3 + runtimeFiles},
		{name: "persistent websocket", load: usersLoad, extraA: persistent, vus: 1000, conns: 1750, ws: 750, sessions: 750, files: 2500 + runtimeFiles},
		{name: "per-iteration websockets: one open at a time", load: usersLoad, extraA: perIteration, vus: 1000, conns: 1750, ws: 750, files: 2500 + runtimeFiles},
		{name: "outputs and exports", load: usersLoad, outputs: `output "csv" {
  path       = "out/run"
  aggregated = true
}
output "json" { path = "out/run.jsonl" }`, in: needInput{outs: []*plan.OutputBlock{{Kind: "prometheus"}}, exports: 2},
			vus: 1000, conns: 1750, outs: 4 + 1 + 5 + 2, files: 1750 + 12 + runtimeFiles},
		// The demo backend serves the targets from this very process: its end of each connection
		// is a descriptor of ours too.
		{name: "demo backend in process", load: usersLoad, in: needInput{local: "127.0.0.1:8000"}, vus: 1000, conns: 1750, local: 1750, files: 3500 + runtimeFiles},
		{name: "demo backend elsewhere", load: usersLoad, in: needInput{local: "127.0.0.1:8001"}, vus: 1000, conns: 1750, files: 1750 + runtimeFiles},
		// A stage target of 1e18 (the plan itself rejects such numbers; the estimate must not
		// depend on it): the counts are bounded, nothing overflows into a negative or a panic.
		{name: "absurd count", load: usersLoad, in: needInput{scenarios: []string{"b"}}, absurd: true,
			vus: maxCount, conns: maxCount, files: maxCount + runtimeFiles, memoryAtLeast: maxCount * vuMemory},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadSrc(t, limitPlan(tt.load, tt.extraA, tt.outputs), "http://127.0.0.1:8000")
			if tt.absurd {
				p.Load.Stages[0].Target = 1e18
			}
			in := tt.in
			in.outs = append(append([]*plan.OutputBlock(nil), p.Outputs...), in.outs...)
			n, err := estimateNeed(p, in)
			if err != nil {
				t.Fatal(err)
			}
			got := [...]int{n.vus, n.conns, n.ws, n.sessions, n.local, n.outFiles, n.files()}
			want := [...]int{tt.vus, tt.conns, tt.ws, tt.sessions, tt.local, tt.outs, tt.files}
			if got != want {
				t.Errorf("vus, conns, ws, sessions, local, outputs, files = %v, want %v", got, want)
			}
			if wantMem := uint64(tt.vus)*vuMemory + uint64(tt.ws)*sessionMemory + baseMemory; n.memory() != wantMem || n.memory() < tt.memoryAtLeast {
				t.Errorf("memory = %d, want %d", n.memory(), wantMem)
			}
		})
	}
}

// ownLoads is limitPlan's two scenarios, each with its own load.
func ownLoads(loadA, loadB string) string {
	return `variable "host" { type = string }
target "api" { base_url = var.host }
target "other" { base_url = var.host }
scenario "a" {
  target = target.api
  http "one" { path = "/x" }
  http "two" {
    target = target.other
    path   = "/z"
  }
  ` + loadA + `
}
scenario "b" {
  target = target.api
  http "one" { path = "/x" }
  ` + loadB + `
}
`
}

// TestEstimateNeedOverTime: loads that peak at different times are not summed at their peaks.
func TestEstimateNeedOverTime(t *testing.T) {
	rampTo := func(first string, level int) string {
		return fmt.Sprintf(`load {
    model = "users"
    stage {
      duration = %q
      target   = 0
    }
    stage {
      duration = "1m"
      target   = %d
    }
    stage {
      duration = "1m"
      target   = 0
    }
  }`, first, level)
	}
	tests := []struct {
		name, loadA, loadB string
		in                 needInput
		vus, conns, files  int
		memVUs             int
	}{
		// a (2 connections a VU) peaks at 100 VUs at 1m, b (1) at 200 VUs at 2m: the open files
		// peak at either (200 + 32), the memory at 2m (200 VUs), never 300 VUs at once.
		{name: "peaks apart", loadA: rampTo("0s", 100), loadB: rampTo("1m", 200),
			vus: 100, conns: 200, files: 200 + runtimeFiles, memVUs: 200},
		// a runs 500 VUs until its max_duration of 30s, when b's ramp is halfway to 300: 650 VUs.
		{name: "a load's end is a peak", loadA: `load {
    model        = "per_vu_iterations"
    vus          = 500
    iterations   = 1000
    max_duration = "30s"
  }`, loadB: `load {
    model = "users"
    stage {
      duration = "1m"
      target   = 300
    }
  }`, vus: 650, conns: 500*2 + 150, files: 1150 + runtimeFiles, memVUs: 650},
		// --duration 20s: b's minute shrinks to 20s and a's max_duration is cut to 20s: both
		// peak at the end, 500 + 300.
		{name: "--duration scales the stages and cuts max_duration", in: needInput{duration: 20 * time.Second}, loadA: `load {
    model        = "per_vu_iterations"
    vus          = 500
    iterations   = 1000
    max_duration = "30s"
  }`, loadB: `load {
    model = "users"
    stage {
      duration = "1m"
      target   = 300
    }
  }`, vus: 800, conns: 500*2 + 300, files: 1300 + runtimeFiles, memVUs: 800},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadSrc(t, ownLoads(tt.loadA, tt.loadB), "http://127.0.0.1:8000")
			n, err := estimateNeed(p, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := [...]int{n.vus, n.conns, n.files(), n.memVUs}
			if want := [...]int{tt.vus, tt.conns, tt.files, tt.memVUs}; got != want {
				t.Errorf("vus, conns, files, memory VUs = %v, want %v", got, want)
			}
		})
	}
}

func TestFitProblems(t *testing.T) {
	p := loadSrc(t, limitPlan(usersLoad, "", ""), "http://127.0.0.1:8000")
	// Scenario b alone: 1,000 VUs on 1 target, 1,032 files, 56.4 MiB.
	const gib = 1 << 30
	roomy := memLimit{bytes: 16 * gib, source: "MemAvailable in /proc/meminfo", known: true}
	tests := []struct {
		name string
		fl   fileLimit
		mem  memLimit
		in   needInput
		want []string // the messages, in order
	}{
		{name: "fits", fl: fileLimit{soft: 4096, hard: 4096, known: true}, mem: roomy},
		{name: "fits exactly", fl: fileLimit{soft: 1032, hard: 1032, known: true}, mem: roomy},
		{name: "unknown limits are not checked"},
		{name: "open files, hard limit too low", fl: fileLimit{soft: 256, hard: 256, known: true, kernelMax: 1 << 20}, mem: roomy, want: []string{
			"the plan needs about 1,032 open files at peak (1,000 VUs on 1 target + 32 for the runtime) but the open-file limit is 256 (hard 256); " +
				"raise it with `ulimit -n 2048` in the shell that starts loadplan (above the hard limit that needs root: nofile in /etc/security/limits.conf, or `--ulimit nofile=2048` in docker) " +
				"or lower the plan's peak VUs (--vus 224 fits)"}},
		{name: "open files, hard limit high enough but the soft could not be raised", fl: fileLimit{soft: 256, hard: 65536, known: true}, mem: roomy, want: []string{
			"the plan needs about 1,032 open files at peak (1,000 VUs on 1 target + 32 for the runtime) but the open-file limit is 256 (hard 65,536); " +
				"raise it with `ulimit -n 2048` in the shell that starts loadplan or lower the plan's peak VUs (--vus 224 fits)"}},
		{name: "past the kernel's ceiling", fl: fileLimit{soft: 256, hard: 256, known: true, kernelMax: 1000}, mem: roomy, want: []string{
			"the plan needs about 1,032 open files at peak (1,000 VUs on 1 target + 32 for the runtime) but the open-file limit is 256 (hard 256); " +
				"that is more than the kernel allows one process (fs.nr_open 1,000): lower the plan's peak VUs (--vus 224 fits) or split the load across instances with --segment"}},
		{name: "memory", fl: fileLimit{soft: 4096, hard: 4096, known: true}, mem: memLimit{bytes: 40 << 20, source: "MemAvailable in /proc/meminfo", known: true}, want: []string{
			"the plan needs about 56.4 MiB of memory at peak (1,000 VUs × 25 KB + 32 MB for the process) but 40.0 MiB is available (MemAvailable in /proc/meminfo); " +
				"lower the plan's peak VUs (--vus 327 fits) or split the load across machines with --segment"}},
		{name: "both, and an honest --vus when none fits", fl: fileLimit{soft: 20, hard: 20, known: true}, mem: memLimit{bytes: 1 << 20, source: "MemAvailable in /proc/meminfo", known: true}, want: []string{
			"the plan needs about 1,032 open files at peak (1,000 VUs on 1 target + 32 for the runtime) but the open-file limit is 20 (hard 20); " +
				"raise it with `ulimit -n 2048` in the shell that starts loadplan (above the hard limit that needs root: nofile in /etc/security/limits.conf, or `--ulimit nofile=2048` in docker) or lower the plan's peak VUs",
			"the plan needs about 56.4 MiB of memory at peak (1,000 VUs × 25 KB + 32 MB for the process) but 1.0 MiB is available (MemAvailable in /proc/meminfo); " +
				"lower the plan's peak VUs or split the load across machines with --segment"}},
		{name: "--vus already given: the hint is below it", fl: fileLimit{soft: 256, hard: 256, known: true}, mem: roomy, in: needInput{maxVUs: 500}, want: []string{
			"the plan needs about 532 open files at peak (500 VUs on 1 target + 32 for the runtime) but the open-file limit is 256 (hard 256); " +
				"raise it with `ulimit -n 1024` in the shell that starts loadplan (above the hard limit that needs root: nofile in /etc/security/limits.conf, or `--ulimit nofile=1024` in docker) " +
				"or lower the plan's peak VUs (--vus 224 fits)"}},
		{name: "unlimited soft limit", fl: fileLimit{soft: ^uint64(0), hard: ^uint64(0), known: true}, mem: roomy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.scenarios = []string{"b"}
			got := fitProblems(p, in, tt.fl, tt.mem)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("messages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestFitVUs: the --vus a message offers fits, and one more does not.
func TestFitVUs(t *testing.T) {
	p := loadSrc(t, limitPlan(usersLoad, "", ""), "http://127.0.0.1:8000")
	for _, soft := range []int{33, 100, 256, 1000, 1781} {
		fits := func(n resourceNeed) bool { return n.files() <= soft }
		c := fitVUs(p, needInput{}, fits)
		if got := mustNeed(t, p, needInput{maxVUs: c}).files(); c > 0 && got > soft {
			t.Errorf("limit %d: --vus %d needs %d files", soft, c, got)
		}
		if got := mustNeed(t, p, needInput{maxVUs: c + 1}).files(); got <= soft {
			t.Errorf("limit %d: --vus %d fits too (%d files), the hint is not the largest", soft, c+1, got)
		}
	}
}

// TestPlanShowsResourceEstimate: `loadplan plan` shows what apply will check. burst.hcl runs
// 100 REST VUs on one target and 50 VUs each holding one WebSocket session.
func TestPlanShowsResourceEstimate(t *testing.T) {
	r := runCLI(t, "plan", "-json", "../../plans/burst.hcl")
	var s struct {
		OpenFiles int    `json:"open_files_at_peak"`
		Memory    uint64 `json:"memory_at_peak_bytes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatal(err, r.stderr)
	}
	if want := 100 + 50 + runtimeFiles; s.OpenFiles != want {
		t.Errorf("open_files_at_peak = %d, want %d", s.OpenFiles, want)
	}
	if want := uint64(150*vuMemory + 50*sessionMemory + baseMemory); s.Memory != want {
		t.Errorf("memory_at_peak_bytes = %d, want %d", s.Memory, want)
	}
	r = runCLI(t, "plan", "../../plans/stress.hcl") // 200 VUs on one target
	if want := "At peak: about 232 open files and 36.9 MiB of memory"; !strings.Contains(r.stdout, want) {
		t.Errorf("plan output lacks %q:\n%s", want, r.stdout)
	}
}
