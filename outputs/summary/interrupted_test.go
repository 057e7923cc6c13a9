package summary

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// TestTextSummaryInterruptedAndDeadStep: the summary says how many iterations were interrupted
// and how many requests they had on the wire, and a step whose every attempt failed before
// leaving the machine (0 requests, 4 failed) keeps its row in the step table.
func TestTextSummaryInterruptedAndDeadStep(t *testing.T) {
	at := t0.UnixNano()
	tDead := &metrics.Tags{Scenario: "rest", Step: "dead", Method: "GET", Group: "http"}
	var batch []metrics.Sample
	for range 3 { // three requests cut on the wire
		batch = append(batch,
			metrics.Sample{Metric: metrics.HTTPReqs, Time: at, Value: 1, Tags: tQuote},
			metrics.Sample{Metric: metrics.HTTPReqFailed, Time: at, Value: 1, Tags: tQuote},
			metrics.Sample{Metric: metrics.Errors, Time: at, Value: 1, Tags: tQuote, Label: "interrupted"},
			metrics.Sample{Metric: metrics.IterationsInterrupted, Time: at, Value: 1, Tags: tScRest})
	}
	// one iteration cut in a sleep: interrupted with no request on the wire
	batch = append(batch, metrics.Sample{Metric: metrics.IterationsInterrupted, Time: at, Value: 1, Tags: tScRest})
	for range 4 { // refused: no request, one failure each
		batch = append(batch,
			metrics.Sample{Metric: metrics.HTTPReqFailed, Time: at, Value: 1, Tags: tDead},
			metrics.Sample{Metric: metrics.Errors, Time: at, Value: 1, Tags: tDead, Label: "connection refused"})
	}
	s := New()
	s.Emit(batch)
	r := &Report{Title: "cut.hcl", Start: t0, End: t0.Add(time.Second), Series: s.Store().Snapshot()}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"! 4 iterations interrupted by the end of graceful_stop, a ramp-down or an abort; 3 requests they had on the wire are counted as failed (error interrupted)",
		"iterations_interrupted", "rest/quote  interrupted", "rest/dead   connection refused  4",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	var dead string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "dead ") {
			dead = strings.Join(strings.Fields(line), " ")
		}
	}
	if dead != "dead GET 0 4 0.0 - - - - - - -" {
		t.Errorf("dead step row %q, want step, method, 0 reqs, 4 failed, no latency:\n%s", dead, out)
	}
}
