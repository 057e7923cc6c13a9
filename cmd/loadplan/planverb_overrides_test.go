package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/plan"
)

// planJSON is the part of `plan -json` these tests read.
type planJSON struct {
	DurationSeconds float64 `json:"duration_seconds"`
	PeakVUs         int     `json:"peak_vus"`
	ExpectedIters   float64 `json:"expected_iterations"`
	Segment         string  `json:"segment"`
	Loads           []struct {
		DurationSeconds float64 `json:"duration_seconds"`
		PeakVUs         int     `json:"peak_vus"`
		PeakRate        float64 `json:"peak_rate"`
		ExpectedIters   float64 `json:"expected_iterations"`
		Stages          []struct {
			Start, End string
			From, To   float64
		} `json:"stages"`
	} `json:"loads"`
	Scenarios []struct{ Name string } `json:"scenarios"`
}

func planJSONOf(t *testing.T, args ...string) planJSON {
	t.Helper()
	r := runCLI(t, append([]string{"plan", "-json"}, args...)...)
	if r.code != exitOK {
		t.Fatalf("plan %v: exit %d\n%s", args, r.code, r.stderr)
	}
	var s planJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatal(err, r.stdout)
	}
	return s
}

// executorOf compiles a plan file as apply does with cfg's overrides.
func executorOf(t *testing.T, file string, cfg executor.Config) *executor.Executor {
	t.Helper()
	p, _, diags := plan.LoadFiles([]string{file}, plan.Options{Env: map[string]string{}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	cfg.Plan = p
	e, err := executor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestPlanShowsTheScaledSchedule: `plan --duration 1m` shows stress.hcl's 10-minute ramp scaled
// to one minute — the very stages the executor runs with --duration 1m.
func TestPlanShowsTheScaledSchedule(t *testing.T) {
	const file = "../../plans/stress.hcl"
	s := planJSONOf(t, "--duration", "1m", file)
	// 2m, 2m, 2m, 2m, 1m, 1m scaled by 1/10.
	wantEnds := []string{"12s", "24s", "36s", "48s", "54s", "1m0s"}
	wantTo := []float64{50, 100, 150, 200, 200, 0}
	if s.DurationSeconds != 60 || s.PeakVUs != 200 || len(s.Loads) != 1 || len(s.Loads[0].Stages) != len(wantEnds) {
		t.Fatalf("plan --duration 1m: %+v", s)
	}
	spans := executorOf(t, file, executor.Config{Duration: time.Minute}).Stages()
	if len(spans) != len(wantEnds) {
		t.Fatalf("executor runs %d stages, want %d", len(spans), len(wantEnds))
	}
	for i, st := range s.Loads[0].Stages {
		if st.End != wantEnds[i] || st.To != wantTo[i] {
			t.Errorf("stage %d: ends %s at %v VUs, want %s at %v", i+1, st.End, st.To, wantEnds[i], wantTo[i])
		}
		if st.Start != spans[i].Start.String() || st.End != spans[i].End.String() {
			t.Errorf("stage %d: plan shows %s..%s, the executor runs %s..%s", i+1, st.Start, st.End, spans[i].Start, spans[i].End)
		}
	}
	r := runCLI(t, "plan", file, "--duration", "1m") // flags after the file, as apply takes them
	if r.code != exitOK || !strings.Contains(r.stdout, "Total: 1m0s (+ graceful stop), peak 200 VUs") {
		t.Errorf("plan FILE --duration 1m: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestPlanShowsTheSegmentAndCap: --segment and --vus shape the figures as the executor runs them,
// and the segments' expected iterations add up to the whole plan's.
func TestPlanShowsTheSegmentAndCap(t *testing.T) {
	const file = "../../plans/arrival-rate.hcl"
	whole := planJSONOf(t, file)
	sum := 0.0
	for i, seg := range []string{"1/3", "2/3", "3/3"} {
		s := planJSONOf(t, "--segment", seg, "--vus", "30", file)
		e := executorOf(t, file, executor.Config{Segment: executor.Segment{Index: i + 1, Total: 3}, MaxVUs: 30})
		ls := e.Schedule().Loads[0]
		if s.Segment != seg || s.Loads[0].PeakVUs != ls.PeakVUs || s.Loads[0].ExpectedIters != ls.ExpectedIterations() ||
			s.Loads[0].PeakRate != ls.PeakRate() {
			t.Errorf("segment %s: plan shows %+v; the executor runs peak %d VUs, %v iterations, %v/s",
				seg, s, ls.PeakVUs, ls.ExpectedIterations(), ls.PeakRate())
		}
		sum += s.ExpectedIters
	}
	// max_vus 100 split in three (33, 33, 34), capped at 30; 50/s split in three.
	if sum != whole.ExpectedIters || whole.ExpectedIters != 8550 {
		t.Errorf("the segments expect %v iterations, the whole plan %v; want 8550", sum, whole.ExpectedIters)
	}
	if s := planJSONOf(t, "--vus", "30", file); s.PeakVUs != 30 {
		t.Errorf("--vus 30: peak %d VUs", s.PeakVUs)
	}
}

// TestPlanOverrideErrors: plan rejects what apply rejects, with apply's exit codes: a bad
// --segment or an unknown --scenario is usage (2), a plan the executor cannot compile is 104.
func TestPlanOverrideErrors(t *testing.T) {
	dir := t.TempDir()
	ok := writeFile(t, dir+"/ok.hcl", strings.Replace(requiredHostPlan, "type = string", `default = "http://127.0.0.1:9"`, 1))
	if r := runCLI(t, "plan", "--segment", "3/2", ok); r.code != exitUsage || !strings.Contains(r.stderr, "INDEX/TOTAL") {
		t.Errorf("--segment 3/2: exit %d\n%s", r.code, r.stderr)
	}
	if r := runCLI(t, "plan", "--scenario", "nope", ok); r.code != exitUsage || !strings.Contains(r.stderr, `"nope"`) {
		t.Errorf("--scenario nope: exit %d\n%s", r.code, r.stderr)
	}
	if r := runCLI(t, "plan", "--scenario", "rest", ok); r.code != exitOK || !strings.Contains(r.stdout, "rest") {
		t.Errorf("--scenario rest: exit %d\n%s", r.code, r.stderr)
	}
	bad := writeFile(t, dir+"/tls.hcl", strings.Replace(requiredHostPlan, "base_url = var.host",
		"base_url = \"https://127.0.0.1:9\"\n  ca_file = \"missing.pem\"", 1))
	if r := runCLI(t, "plan", "-var", "host=x", bad); r.code != exitInvalidPlan || !strings.Contains(r.stderr, "ca file") {
		t.Errorf("missing ca_file: exit %d, want 104\n%s", r.code, r.stderr)
	}
}
