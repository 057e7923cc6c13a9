package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/plan"
)

// spawnPlan has a users scenario with its own 10-minute ramp, one sharing the plan-level users
// load, and an arrival-rate scenario, so that the override's reach can be seen load by load.
const spawnPlan = `variable "host" {
  default = "http://127.0.0.1:9"
}
target "api" {
  base_url = var.host
}
load {
  model = "users"
  stage {
    duration = "10m"
    target   = 50
  }
}
scenario "browse" {
  target = target.api
  tags   = { kind = "read", team = "shop" }
  http "a" {
    path = "/a"
  }
}
scenario "own" {
  target = target.api
  tags   = { kind = "write" }
  load {
    model = "users"
    stage {
      duration = "2m"
      target   = 7
    }
  }
  http "b" {
    path = "/b"
  }
}
scenario "open" {
  target = target.api
  load {
    model = "arrival_rate"
    pre_allocated_vus = 5
    stage {
      duration = "1m"
      target   = 10
    }
  }
  http "c" {
    path = "/c"
  }
}
`

// compileWithFlags runs args through the flags apply and plan share, loads file and applies the
// overrides as both verbs do, and compiles it.
func compileWithFlags(t *testing.T, file string, args ...string) (*executor.Schedule, *runFlags, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var rf runFlags
	rf.register(fs)
	if err := rf.parse(fs, append(args, file)); err != nil {
		return nil, &rf, err
	}
	p, _, diags := plan.LoadFiles(rf.paths, plan.Options{Env: map[string]string{}, Vars: rf.vars.vars})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	names, err := rf.overrides(p)
	if err != nil {
		return nil, &rf, err
	}
	rf.scenarios = names
	e, err := executor.New(rf.executorConfig(p))
	if err != nil {
		t.Fatal(err)
	}
	return e.Schedule(), &rf, nil
}

// TestSpawnRateRampsTheSchedule: --vus 10 --spawn-rate 2 --duration 1m decodes into the users
// ramp Locust's spawner makes — one VU at once, one more every half second, 10 from 4.5s, held
// to 1m — on both users loads of the selection, read off the executor's own schedule.
func TestSpawnRateRampsTheSchedule(t *testing.T) {
	file := writeSource(t, spawnPlan)
	sch, _, err := compileWithFlags(t, file, "--vus", "10", "--spawn-rate", "2", "--duration", "1m",
		"--scenario", "browse", "--scenario", "own")
	if err != nil {
		t.Fatal(err)
	}
	if len(sch.Loads) != 2 || sch.Total != time.Minute {
		t.Fatalf("%d loads, total %s; want the two users loads, 1m", len(sch.Loads), sch.Total)
	}
	at := map[time.Duration]int{0: 1, 490 * time.Millisecond: 1, 510 * time.Millisecond: 2,
		1010 * time.Millisecond: 3, 4 * time.Second: 9, 4500 * time.Millisecond: 10, 30 * time.Second: 10,
		59 * time.Second: 10, time.Minute: 10}
	for _, l := range sch.Loads {
		if l.PeakVUs != 10 || l.Duration != time.Minute {
			t.Errorf("load of %v: peak %d over %s, want 10 over 1m", l.Scenarios, l.PeakVUs, l.Duration)
		}
		for el, want := range at {
			if got := l.VUs(el); got != want {
				t.Errorf("load of %v: VUs(%s) = %d, want %d (ramp at 2/s from 1)", l.Scenarios, el, got, want)
			}
		}
	}
}

// TestSpawnRateWithoutDurationHolds: without --duration the VUs are held until stopped (Locust
// without --run-time), and without a load block the plan's default one-iteration load becomes
// the ramp.
func TestSpawnRateWithoutDurationHolds(t *testing.T) {
	file := writeSource(t, `target "api" {
  base_url = "http://127.0.0.1:9"
}
scenario "s" {
  target = target.api
  http "a" {
    path = "/a"
  }
}
`)
	sch, rf, err := compileWithFlags(t, file, "--vus", "3", "--spawn-rate", "1")
	if err != nil {
		t.Fatal(err)
	}
	l := sch.Loads[0]
	if l.Load.Model != plan.Users || sch.Total != plan.HoldUntilStopped || l.VUs(1500*time.Millisecond) != 2 || l.VUs(24*time.Hour) != 3 {
		t.Fatalf("model %s total %s VUs(1.5s)=%d VUs(24h)=%d; want users, %s, 2, 3",
			l.Load.Model, sch.Total, l.VUs(1500*time.Millisecond), l.VUs(24*time.Hour), plan.HoldUntilStopped)
	}
	if note := rf.spawnNote(); !strings.Contains(note, "ramp at 1 VUs/s to 3 VUs") || !strings.Contains(note, "until Ctrl-C") {
		t.Errorf("note %q", note)
	}
}

// TestSpawnRateErrors: every misuse is one clear error naming the flag and the fix.
func TestSpawnRateErrors(t *testing.T) {
	file := writeSource(t, spawnPlan)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--vus", "10", "--spawn-rate", "2"}, []string{`scenario "open" runs model = "arrival_rate"`, "--scenario NAME"}},
		{[]string{"--spawn-rate", "2"}, []string{"--spawn-rate 2 needs --vus N"}},
		{[]string{"--vus", "100", "--spawn-rate", "1", "--duration", "1m", "--scenario", "own"}, []string{"takes 1m39s to start, longer than --duration 1m"}},
		{[]string{"--vus", "3", "--spawn-rate", "-1"}, []string{"--spawn-rate must not be negative"}},
		{[]string{"--scenario", "nope"}, []string{`--scenario "nope"`, "browse, own, open"}},
		{[]string{"--tag", "kind=delete"}, []string{`--tag "kind=delete"`, "kind=read, kind=write, team=shop"}},
	}
	for _, c := range cases {
		_, _, err := compileWithFlags(t, file, c.args...)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %v, want it to say %q", c.args, err, w)
			}
		}
	}
}

// TestTagSelects: --tag NAME selects the scenarios with that tag key, KEY=VALUE those with that
// value; with --scenario, either selects.
func TestTagSelects(t *testing.T) {
	file := writeSource(t, spawnPlan)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tag", "kind"}, "browse own"},
		{[]string{"--tag", "kind=write"}, "own"},
		{[]string{"--tag", "team", "--scenario", "open"}, "browse open"},
	} {
		sch, _, err := compileWithFlags(t, file, c.args...)
		if err != nil {
			t.Fatal(c.args, err)
		}
		var got []string
		for _, l := range sch.Loads {
			got = append(got, l.Scenarios...)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%v runs %v, want %s", c.args, got, c.want)
		}
	}
}

// TestPlanShowsTheSpawnRamp: `loadplan plan` shows the ramp the executor runs and says it in words.
func TestPlanShowsTheSpawnRamp(t *testing.T) {
	file := writeSource(t, spawnPlan)
	args := []string{"--vus", "10", "--spawn-rate", "2", "--duration", "1m", "--scenario", "own", file}
	s := planJSONOf(t, args...)
	if len(s.Loads) != 1 || len(s.Loads[0].Stages) != 2 || s.PeakVUs != 10 || s.DurationSeconds != 60 {
		t.Fatalf("plan -json: %+v", s)
	}
	st := s.Loads[0].Stages
	if st[0].From != 1 || st[0].To != 10 || st[0].End != "4.5s" || st[1].From != 10 || st[1].To != 10 || st[1].End != "1m0s" {
		t.Errorf("stages %+v, want 1 → 10 by 4.5s, then 10 to 1m", st)
	}
	r := runCLI(t, append([]string{"plan"}, args...)...)
	if r.code != exitOK || !strings.Contains(r.stdout, "Spawn: --vus 10 --spawn-rate 2: ramp at 2 VUs/s to 10 VUs (1 at once, all 10 by 4.5s), then hold them until 1m0s.") {
		t.Errorf("plan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
