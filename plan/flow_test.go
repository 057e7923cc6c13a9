package plan

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func loadUsers(t *testing.T) *Plan {
	t.Helper()
	p, diags := LoadPlan([]string{"testdata/valid/users.hcl"}, Options{Env: map[string]string{}})
	if diags.HasErrors() {
		t.Fatalf("unexpected diagnostics:\n%s", renderDiags(diags))
	}
	if len(diags) > 0 {
		t.Errorf("unexpected warnings:\n%s", renderDiags(diags))
	}
	return p
}

// TestFlowModel: what testdata/valid/users.hcl decodes to, as the executor will read it.
func TestFlowModel(t *testing.T) {
	p := loadUsers(t)
	rest, rc := p.Scenarios[0], p.Scenarios[1]
	eq(t, "rest.Pacing", rest.Pacing, 2*time.Second)
	eq(t, "rest.IterationInterval", rest.IterationInterval(), 2*time.Second)
	eq(t, "rest.Steps", len(rest.Steps), 0)
	eq(t, "len(rest.Setup)", len(rest.Setup), 1)
	eq(t, "setup capture", rest.Setup[0].HTTP.Captures[0].Name, "token")
	eq(t, "len(rest.Teardown)", len(rest.Teardown), 1)
	eq(t, "rest feeders", len(rest.Feeders), 1)

	eq(t, "len(Tasks)", len(rest.Tasks), 2)
	browse, order := rest.Tasks[0], rest.Tasks[1]
	eq(t, "task names", []string{browse.Name, order.Name}, []string{"browse", "order"})
	eq(t, "weights", []float64{browse.Weight, order.Weight}, []float64{3, 1})
	eq(t, "shares", rest.TaskShares(), []float64{0.75, 0.25})
	if browse.When != nil {
		t.Errorf("browse has no when")
	}
	rt := &Runtime{VU: 3, VUCaptures: map[string]string{"token": "T"}, Captures: map[string]string{}}
	if ok, err := order.When.Bool(rt); err != nil || ok {
		t.Errorf("order.When for vu 3 = %v, %v; want false", ok, err)
	}
	rt.VU = 4
	if ok, err := order.When.Bool(rt); err != nil || !ok {
		t.Errorf("order.When for vu 4 = %v, %v; want true", ok, err)
	}
	eq(t, "items header", str(t, "Authorization", browse.Steps[0].HTTP.Headers[0].Value, rt), "Bearer T")
	item := browse.Steps[1]
	if ok, err := item.When.Bool(rt); ok || err != nil {
		t.Errorf("item.When without the capture = %v, %v; want false: a missing capture reads as \"\"", ok, err)
	}
	rt.Captures["first"] = ""
	if ok, _ := item.When.Bool(rt); ok {
		t.Errorf("item.When with an empty capture is true")
	}
	rt.Captures["first"] = "7"
	if ok, _ := item.When.Bool(rt); !ok {
		t.Errorf("item.When with a capture is false")
	}

	rep := order.Steps[0]
	eq(t, "order step kind", rep.Kind, RepeatStepKind)
	eq(t, "while form", [3]int{rep.Repeat.Count, rep.Repeat.Max, rep.Repeat.Passes()}, [3]int{0, 3, 3})
	rt.Iter = 99
	if ok, _ := rep.Repeat.While.Bool(rt); !ok {
		t.Errorf("while at iter 99 is false")
	}
	rt.Iter = 100
	if ok, _ := rep.Repeat.While.Bool(rt); ok {
		t.Errorf("while at iter 100 is true")
	}

	eq(t, "reconnect rate", rc.IterationsPerSecond, 0.5)
	eq(t, "reconnect interval", rc.IterationInterval(), 2*time.Second)
	eq(t, "reconnect steps", len(rc.Steps), 1)
	r := rc.Steps[0].Repeat
	eq(t, "count form", [2]int{r.Count, r.Passes()}, [2]int{5, 5})
	eq(t, "repeat body", []StepKind{r.Steps[0].Kind, r.Steps[1].Kind}, []StepKind{WebSocketStepKind, SleepStepKind})

	var kinds []StepKind
	rest.Walk(func(s *Step) { kinds = append(kinds, s.Kind) })
	eq(t, "Walk", kinds, []StepKind{HTTPStepKind, HTTPStepKind, HTTPStepKind, RepeatStepKind, HTTPStepKind, HTTPStepKind})
}

// TestPickTask: the draw is by cumulative weight over the eligible tasks, in source order, and
// its shares over a fine grid of u equal the weights' (the executor draws u from a seeded source).
func TestPickTask(t *testing.T) {
	s := &Scenario{Tasks: []*Task{{Name: "a", Weight: 3}, {Name: "b", Weight: 1}, {Name: "c", Weight: 0.5}}}
	for _, c := range []struct {
		u    float64
		only func(int) bool
		want int
	}{
		{0, nil, 0}, {0.66, nil, 0}, {0.67, nil, 1}, {0.88, nil, 1}, {0.9, nil, 2}, {math.Nextafter(1, 0), nil, 2},
		{0, func(i int) bool { return i != 0 }, 1}, {0.7, func(i int) bool { return i != 0 }, 2},
		{0.5, func(int) bool { return false }, -1},
	} {
		if got := s.PickTask(c.u, c.only); got != c.want {
			t.Errorf("PickTask(%v) = %d, want %d", c.u, got, c.want)
		}
	}
	counts := make([]int, 3)
	const n = 9000
	for i := range n {
		counts[s.PickTask((float64(i)+0.5)/n, nil)]++
	}
	eq(t, "grid counts", counts, []int{6000, 2000, 1000})
	if (&Scenario{}).PickTask(0.5, nil) != -1 || (&Scenario{}).TaskShares() != nil {
		t.Errorf("a scenario without tasks picks one")
	}
}

// TestVUCaptureTemplates: vu.NAME reads Runtime.VUCaptures on the fast path and the general
// one, and says which capture is missing.
func TestVUCaptureTemplates(t *testing.T) {
	src := `
target "api" { base_url = "http://127.0.0.1:9" }
scenario "s" {
  setup {
    http "login" {
      path = "/login"
      capture "token" { json = "token" }
    }
  }
  http "a" {
    path    = "/a/${vu.token}"
    headers = { X = upper(vu.token), Y = "${vu.id}-${vu.token}" }
    json    = { t = vu.token, id = vu.id }
  }
}`
	p, diags := LoadSource("t.hcl", []byte(src), Options{Env: map[string]string{}})
	if diags.HasErrors() {
		t.Fatal(renderDiags(diags))
	}
	h := p.Scenarios[0].Steps[0].HTTP
	rt := &Runtime{VU: 2, VUCaptures: map[string]string{"token": "abc"}}
	eq(t, "url", str(t, "url", h.URL, rt), "http://127.0.0.1:9/a/abc")
	eq(t, "X", str(t, "X", h.Headers[0].Value, rt), "ABC")
	eq(t, "Y", str(t, "Y", h.Headers[1].Value, rt), "2-abc")
	b, err := h.JSON.JSON(rt)
	if err != nil || string(b) != `{"id":2,"t":"abc"}` {
		t.Errorf("json = %s, %v", b, err)
	}
	_, err = h.URL.String(&Runtime{VU: 1})
	if err == nil || !strings.Contains(err.Error(), "vu.token has no value") {
		t.Errorf("missing vu capture: %v", err)
	}
}

// flowInvariants is what a loaded plan promises the executor about its flow: every repeat ends
// (1 to maxRepeatPasses passes, nested ones multiplied too), every task has a positive finite
// weight and steps, a scenario has steps or tasks (not both), and at most one pacing. FuzzLoad
// checks it on every plan that loads.
func flowInvariants(p *Plan) error {
	var check func(steps []*Step, passes int) error
	check = func(steps []*Step, passes int) error {
		for _, st := range steps {
			if r := st.Repeat; r != nil {
				n := r.Passes()
				forms := 0
				for _, set := range []bool{r.Count > 0, r.While != nil, r.Until != nil} {
					if set {
						forms++
					}
				}
				if n < 1 || passes*n > maxRepeatPasses || forms != 1 || len(r.Steps) == 0 {
					return fmt.Errorf("repeat at %v: count %d, max %d, while %v, %d steps, %d outer passes", r.Pos, r.Count, r.Max, r.While != nil, len(r.Steps), passes)
				}
				if err := check(r.Steps, passes*n); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, s := range p.Scenarios {
		if len(s.Steps) > 0 && len(s.Tasks) > 0 || len(s.Steps) == 0 && len(s.Tasks) == 0 {
			return fmt.Errorf("scenario %s: %d steps, %d tasks", s.Name, len(s.Steps), len(s.Tasks))
		}
		if s.Pacing < 0 || s.IterationsPerSecond < 0 || s.Pacing > 0 && s.IterationsPerSecond > 0 || math.IsInf(s.IterationsPerSecond, 0) {
			return fmt.Errorf("scenario %s: pacing %v and %v iterations/s", s.Name, s.Pacing, s.IterationsPerSecond)
		}
		lists := [][]*Step{s.Setup, s.Steps, s.Teardown}
		for _, t := range s.Tasks {
			if !(t.Weight > 0) || t.Weight > maxTaskWeight || len(t.Steps) == 0 {
				return fmt.Errorf("task %s: weight %v, %d steps", t.Name, t.Weight, len(t.Steps))
			}
			lists = append(lists, t.Steps)
		}
		if len(s.Tasks) > maxTasks {
			return fmt.Errorf("scenario %s: %d tasks", s.Name, len(s.Tasks))
		}
		for _, l := range lists {
			if err := check(l, 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestFlowBounds: a plan of 1,500 tasks or of repeats nested 200 deep is one diagnostic each,
// not a slow load or a crash.
func TestFlowBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString("scenario \"s\" {\n")
	for i := range 1500 {
		fmt.Fprintf(&b, "task \"t%d\" {\nsleep { duration = \"1ms\" }\n}\n", i)
	}
	b.WriteString("}\n")
	_, diags := LoadSource("tasks.hcl", []byte(b.String()), Options{Env: map[string]string{}})
	if len(diags) != 1 || diags[0].Summary != "Too many tasks" || diags[0].Subject.Start.Line != 3002 {
		t.Errorf("1,500 tasks:\n%s", renderDiags(diags))
	}
	src := "scenario \"s\" {\n" + strings.Repeat("repeat {\ncount = 2\n", 200) + "sleep { duration = \"1ms\" }\n" + strings.Repeat("}\n", 200) + "}\n"
	_, diags = LoadSource("deep.hcl", []byte(src), Options{Env: map[string]string{}})
	var sums []string
	for _, d := range diags {
		sums = append(sums, d.Summary)
	}
	if strings.Join(sums, ";") != "Repeats nested too deeply" {
		t.Errorf("repeats 200 deep:\n%s", renderDiags(diags))
	}
}

// TestRepeatUntil: until is checked after each pass, so it reads the captures of the body (poll
// until done); a constant false until runs max passes without a warning, unlike a false while.
func TestRepeatUntil(t *testing.T) {
	src := `
target "api" { base_url = "http://127.0.0.1:9" }
scenario "s" {
  repeat {
    until = capture.state == "done"
    max   = 10
    http "poll" {
      path = "/status"
      capture "state" { json = "state" }
    }
  }
  repeat {
    until = false
    max   = 2
    http "b" { path = "/b/${capture.state}" }
  }
}`
	p, diags := LoadSource("t.hcl", []byte(src), Options{Env: map[string]string{}})
	if len(diags) > 0 {
		t.Fatal(renderDiags(diags))
	}
	r := p.Scenarios[0].Steps[0].Repeat
	eq(t, "form", [4]any{r.Count, r.While == nil, r.Max, r.Passes()}, [4]any{0, true, 10, 10})
	rt := &Runtime{Captures: map[string]string{"state": "running"}}
	if done, err := r.Until.Bool(rt); err != nil || done {
		t.Errorf("until while running = %v, %v", done, err)
	}
	rt.Captures["state"] = "done"
	if done, err := r.Until.Bool(rt); err != nil || !done {
		t.Errorf("until when done = %v, %v", done, err)
	}
	r = p.Scenarios[0].Steps[1].Repeat
	if done, err := r.Until.Bool(nil); err != nil || done || r.Passes() != 2 {
		t.Errorf("until = false: %v, %v, %d passes", done, err, r.Passes())
	}
}

// TestConditionBlankCaptures: in a condition, a capture or setup capture without a value reads
// as "" (bare, compared, or in a function call), while a step's URL still fails without it.
func TestConditionBlankCaptures(t *testing.T) {
	src := `
target "api" { base_url = "http://127.0.0.1:9" }
scenario "s" {
  setup {
    http "login" {
      path = "/login"
      capture "token" {
        json     = "token"
        required = false
      }
    }
  }
  http "a" {
    path = "/a"
    capture "flag" {
      json     = "flag"
      required = false
    }
  }
  http "b" {
    when = capture.flag
    path = "/b/${capture.flag}"
  }
  http "c" {
    when = vu.token != "" && upper(capture.flag) == ""
    path = "/c"
  }
}`
	p, diags := LoadSource("t.hcl", []byte(src), Options{Env: map[string]string{}})
	if len(diags) > 0 {
		t.Fatal(renderDiags(diags))
	}
	b, c := p.Scenarios[0].Steps[1], p.Scenarios[0].Steps[2]
	empty := &Runtime{Captures: map[string]string{}, VUCaptures: map[string]string{}}
	if _, err := b.When.Bool(empty); err == nil || !strings.Contains(err.Error(), "true or false") {
		t.Errorf("when = capture.flag without a value: %v; want a not-a-bool error (\"\" is no bool)", err)
	}
	if ok, err := b.When.Bool(&Runtime{Captures: map[string]string{"flag": "true"}}); !ok || err != nil {
		t.Errorf("when = capture.flag holding true: %v, %v", ok, err)
	}
	if _, err := b.HTTP.URL.String(empty); err == nil {
		t.Errorf("a URL reading a missing capture did not fail")
	}
	if ok, err := c.When.Bool(empty); ok || err != nil {
		t.Errorf("c without token: %v, %v", ok, err)
	}
	if ok, err := c.When.Bool(&Runtime{VUCaptures: map[string]string{"token": "T"}}); !ok || err != nil {
		t.Errorf("c with a token and no flag: %v, %v", ok, err)
	}
}

// TestThresholdsSeeFlowSteps: a threshold may select a step of setup, a task or a repeat (the
// series the plan produces include them), and one on a step no list holds is still refused.
func TestThresholdsSeeFlowSteps(t *testing.T) {
	src := `
target "api" { base_url = "http://127.0.0.1:9" }
scenario "s" {
  setup {
    http "login" { path = "/login" }
  }
  task "t" {
    repeat {
      count = 2
      websocket "feed" {
        path = "/ws"
        ping "p" {}
      }
    }
  }
}
threshold "http_req_duration{step=login}" { condition = "p(95) < 500" }
threshold "ws_ping{step=feed.p}" { condition = "p(95) < 500" }
threshold "http_req_duration{step=nope}" { condition = "p(95) < 500" }
`
	_, diags := LoadSource("t.hcl", []byte(src), Options{Env: map[string]string{}})
	if len(diags) != 1 || diags[0].Subject.Start.Line != 19 {
		t.Errorf("want one diagnostic, at the threshold on step nope:\n%s", renderDiags(diags))
	}
}

// TestFlowDiagnosticsHideSecrets: a weight, rate or count read with env() is named, never shown,
// when it is out of range (the values here are too short for the scrubbing safety net).
func TestFlowDiagnosticsHideSecrets(t *testing.T) {
	src := `
target "api" { base_url = "http://127.0.0.1:9" }
scenario "s" {
  iterations_per_second = env("IPS")
  task "t" {
    weight = env("W")
    repeat {
      count = env("N")
      http "a" { path = "/a" }
    }
  }
}`
	_, diags := LoadSource("t.hcl", []byte(src), Options{Env: map[string]string{"IPS": "-7", "W": "-3", "N": "0"}})
	out := renderDiags(diags)
	if len(diags) != 3 || strings.Contains(out, "-7") || strings.Contains(out, "-3") || strings.Contains(out, "got 0") || strings.Count(out, Hidden) != 3 {
		t.Errorf("diagnostics show a secret or miss one:\n%s", out)
	}
}
