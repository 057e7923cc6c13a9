package summary

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// TestTextSummaryTasks: the step rows of a scenario with setup and tasks come in the order a VU
// meets them (setup, then each task's, Scenario.Walk), and each task is a row with its
// iterations, their share and the share its weight asks for.
func TestTextSummaryTasks(t *testing.T) {
	tags := func(step, task string) *metrics.Tags {
		return &metrics.Tags{Scenario: "mix", Step: step, Method: "GET", Group: "http", Task: task}
	}
	tLogin, tItems, tBuy := tags("login", ""), tags("items", "browse"), tags("buy", "order")
	step := func(tg *metrics.Tags) *plan.Step {
		return &plan.Step{Kind: plan.HTTPStepKind, HTTP: &plan.HTTPStep{Name: tg.Step, Tags: tg}}
	}
	sc := &plan.Scenario{Name: "mix", Setup: []*plan.Step{step(tLogin)}, Tasks: []*plan.Task{
		{Name: "browse", Weight: 3, Steps: []*plan.Step{step(tItems)}},
		{Name: "order", Weight: 1, Steps: []*plan.Step{step(tBuy)}},
	}}
	at := t0.UnixNano()
	var batch []metrics.Sample
	add := func(m metrics.Metric, tg *metrics.Tags, n int) {
		for range n {
			batch = append(batch, metrics.Sample{Metric: m, Time: at, Value: 1, Tags: tg})
		}
	}
	// fed in the reverse of the plan's order: the summary must not follow it
	add(metrics.HTTPReqs, tBuy, 10)
	add(metrics.HTTPReqs, tItems, 30)
	add(metrics.HTTPReqs, tLogin, 4)
	add(metrics.Iterations, &metrics.Tags{Scenario: "mix", Task: "order"}, 10)
	add(metrics.Iterations, &metrics.Tags{Scenario: "mix", Task: "browse"}, 30)
	s := New()
	s.Emit(batch)
	r := &Report{Title: "tasks.hcl", Start: t0, End: t0.Add(time.Second), Series: s.Store().Snapshot(),
		Plan: &plan.Plan{Scenarios: []*plan.Scenario{sc}}}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(buf.String(), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	out := strings.Join(lines, "\n")
	i, j, k := strings.Index(out, "\nlogin GET 4"), strings.Index(out, "\nitems GET 30"), strings.Index(out, "\nbuy GET 10")
	if i < 0 || j < i || k < j {
		t.Errorf("step rows not in the order login, items, buy (%d, %d, %d):\n%s", i, j, k, out)
	}
	for _, want := range []string{"task iterations share weight share", "browse 30 75.0% 75.0%", "order 10 25.0% 25.0%"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}
