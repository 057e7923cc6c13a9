package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPlanShowsTheRamp(t *testing.T) {
	r := runCLI(t, "plan", "../../plans/stress.hcl")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"model users", "0 → 50", "150 → 200", "200 → 0", "2m0s", "Total: 10m0s (+ graceful stop), peak 200 VUs",
		"200 VUs ┤", "http_req_failed", "aborts the run after 1m0s", "nothing is sent"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestPlanJSON(t *testing.T) {
	r := runCLI(t, "plan", "-json", "../../plans/arrival-rate.hcl")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var s struct {
		DurationSeconds float64 `json:"duration_seconds"`
		PeakVUs         int     `json:"peak_vus"`
		Loads           []struct {
			Model  string `json:"model"`
			Stages []struct {
				From, To      float64
				ExpectedIters float64 `json:"expected_iterations"`
			} `json:"stages"`
			ExpectedIters float64 `json:"expected_iterations"`
		} `json:"loads"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatal(err)
	}
	l := s.Loads[0]
	if s.DurationSeconds != 210 || s.PeakVUs != 100 || l.Model != "arrival_rate" || l.ExpectedIters != 8550 ||
		len(l.Stages) != 3 || l.Stages[0].From != 10 || l.Stages[0].To != 50 || l.Stages[0].ExpectedIters != 1800 {
		t.Errorf("plan -json: %+v", s)
	}
}

func TestPlanConcurrentLoadsPeak(t *testing.T) {
	// burst.hcl: REST (peak 100) and WebSocket (peak 50) spikes overlap; the peak is their sum
	// at the highest common point, not the sum of the two peaks taken at different times.
	r := runCLI(t, "plan", "-json", "../../plans/burst.hcl")
	var s struct {
		PeakVUs int `json:"peak_vus"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatal(err, r.stderr)
	}
	if s.PeakVUs != 150 {
		t.Errorf("peak %d, want 150", s.PeakVUs)
	}
}

func TestPlanExitCodes(t *testing.T) {
	if r := runCLI(t, "plan"); r.code != exitUsage {
		t.Errorf("no file: exit %d, want 2", r.code)
	}
	dir := t.TempDir()
	f := writeFile(t, dir+"/bad.hcl", `threshold "http_reqs" { condition = "count > 1" }`)
	if r := runCLI(t, "plan", f); r.code != exitInvalidPlan {
		t.Errorf("invalid plan: exit %d, want 104", r.code)
	}
	g := writeFile(t, dir+"/req.hcl", requiredHostPlan)
	if r := runCLI(t, "plan", "-var", "host=http://127.0.0.1:9", g); r.code != exitOK || !strings.Contains(r.stdout, "host") {
		t.Errorf("plan -var: exit %d\n%s", r.code, r.stderr)
	}
}
