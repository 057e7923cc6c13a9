package summary

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/threshold"
)

var (
	t0      = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tLogin  = &metrics.Tags{Scenario: "rest", Step: "login", Method: "POST", Group: "http"}
	tQuote  = &metrics.Tags{Scenario: "rest", Step: "quote", Method: "GET", Group: "http"}
	tWS     = &metrics.Tags{Scenario: "stream", Step: "osc", Method: "WS", Group: "ws"}
	tWSAck  = &metrics.Tags{Scenario: "stream", Step: "osc.ack", Method: "WS", Group: "ws"}
	tScRest = &metrics.Tags{Scenario: "rest"}
)

// fed is what a test fed, computed independently of the summary.
type fed struct {
	reqs, failed, checks, checksOK int
	dur                            metrics.Histogram
	sent                           float64
}

// feed pushes n requests of random latency through a Summary, as the Manager would.
func feed(emit func([]metrics.Sample), seed uint64, n int, f *fed) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var batch []metrics.Sample
	for i := range n {
		tags := tLogin
		if i%3 != 0 {
			tags = tQuote
		}
		at := t0.Add(time.Duration(i) * 10 * time.Millisecond).UnixNano()
		lat := 5 + rng.ExpFloat64()*40
		status, bad := 200, 0.0
		if rng.IntN(10) == 0 {
			status, bad = 500, 1
		}
		ok := 1.0 - bad
		batch = append(batch,
			metrics.Sample{Metric: metrics.HTTPReqs, Time: at, Value: 1, Tags: tags, Status: status},
			metrics.Sample{Metric: metrics.HTTPReqDuration, Time: at, Value: lat, Tags: tags, Status: status},
			metrics.Sample{Metric: metrics.HTTPReqFailed, Time: at, Value: bad, Tags: tags, Status: status},
			metrics.Sample{Metric: metrics.Checks, Time: at, Value: ok, Tags: tags, Label: "status == 200"},
			metrics.Sample{Metric: metrics.DataSent, Time: at, Value: 120, Tags: tags, Status: status},
			metrics.Sample{Metric: metrics.Iterations, Time: at, Value: 1, Tags: tScRest},
		)
		f.reqs++
		f.failed += int(bad)
		f.checks++
		f.checksOK += int(ok)
		f.dur.Record(lat)
		f.sent += 120
		if len(batch) >= 60 {
			emit(batch)
			batch = batch[:0]
		}
	}
	ws := []metrics.Sample{
		{Metric: metrics.WSSessions, Time: t0.UnixNano(), Value: 1, Tags: tWS},
		{Metric: metrics.WSConnecting, Time: t0.UnixNano(), Value: 3, Tags: tWS},
		{Metric: metrics.WSMsgsSent, Time: t0.UnixNano(), Value: 1, Tags: tWSAck},
		{Metric: metrics.WSMsgsReceived, Time: t0.UnixNano(), Value: 1, Tags: tWSAck},
		{Metric: metrics.WSExpectDuration, Time: t0.UnixNano(), Value: 7, Tags: tWSAck},
		{Metric: metrics.WSExpectFailed, Time: t0.UnixNano(), Value: 0, Tags: tWSAck},
		{Metric: metrics.Errors, Time: t0.UnixNano(), Value: 1, Tags: tLogin, Label: "capture token missing"},
		{Metric: metrics.Errors, Time: t0.UnixNano(), Value: 1, Tags: tLogin, Label: "capture token missing"},
		{Metric: metrics.WSErrors, Time: t0.UnixNano(), Value: 1, Tags: tWS, Label: "closed", Status: 1011},
	}
	emit(append(batch, ws...))
}

func mkThreshold(t *testing.T, name string, m metrics.Metric, sel map[string]string, conds ...string) *plan.Threshold {
	t.Helper()
	th := &plan.Threshold{Name: name, Metric: m, Selector: sel}
	for _, c := range conds {
		pc, err := metrics.ParseCondition(c, m.Kind(), m.Info().Unit)
		if err != nil {
			t.Fatal(err)
		}
		th.Conditions = append(th.Conditions, pc)
	}
	return th
}

// report runs samples through a Summary and a threshold Evaluator and assembles the Report.
func report(t *testing.T, n int) (*Report, *fed, *threshold.Evaluator) {
	t.Helper()
	ths := []*plan.Threshold{
		mkThreshold(t, "http_req_duration", metrics.HTTPReqDuration, nil, "p(95) < 10s", "avg < 1ms"),
		mkThreshold(t, "http_reqs{step=login}", metrics.HTTPReqs, map[string]string{"step": "login"}, "count > 0"),
	}
	s := New()
	ev := threshold.New(threshold.Config{Thresholds: ths, Run: func() threshold.Run { return threshold.Run{Start: t0} }})
	f := &fed{}
	feed(func(b []metrics.Sample) { s.Emit(b); ev.Add(b) }, 7, n, f)
	end := t0.Add(time.Duration(n) * 10 * time.Millisecond)
	ev.Finish(end)
	ev.Close()
	return &Report{Title: "test.hcl", Start: t0, End: end, Series: s.Store().Snapshot(), Verdicts: ev.Verdicts(),
		Dropped: []Drop{{Output: "influxdb", Count: 12}}}, f, ev
}

func TestExportValuesMatchSamples(t *testing.T) {
	r, f, _ := report(t, 3000)
	var buf bytes.Buffer
	if err := r.WriteExport(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Metrics   map[string]map[string]any `json:"metrics"`
		RootGroup Group                     `json:"root_group"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	secs := r.Duration().Seconds()
	eq := func(metric, field string, want float64) {
		t.Helper()
		v, ok := got.Metrics[metric][field].(float64)
		if !ok || v != want {
			t.Errorf("%s.%s = %v, want %v", metric, field, got.Metrics[metric][field], want)
		}
	}
	eq("http_reqs", "count", float64(f.reqs))
	eq("http_reqs", "rate", float64(f.reqs)/secs)
	eq("http_req_failed", "passes", float64(f.failed))
	eq("http_req_failed", "fails", float64(f.reqs-f.failed))
	eq("http_req_failed", "value", float64(f.failed)/float64(f.reqs))
	eq("http_req_duration", "min", f.dur.Min)
	eq("http_req_duration", "max", f.dur.Max)
	if v, _ := got.Metrics["http_req_duration"]["avg"].(float64); math.Abs(v-f.dur.Mean()) > 1e-9*f.dur.Mean() {
		t.Errorf("http_req_duration.avg = %v, want %v", v, f.dur.Mean()) // sums differ in the last bit by order
	}
	eq("http_req_duration", "med", f.dur.Quantile(0.5))
	eq("http_req_duration", "p(90)", f.dur.Quantile(0.9))
	eq("http_req_duration", "p(95)", f.dur.Quantile(0.95))
	eq("checks", "passes", float64(f.checksOK))
	eq("data_sent", "count", f.sent)
	eq("ws_msgs_received", "count", 1)
	// k6's flag: true means the condition failed.
	ths := got.Metrics["http_req_duration"]["thresholds"].(map[string]any)
	if ths["p(95) < 10s"] != false || ths["avg < 1ms"] != true {
		t.Errorf("thresholds flags %v", ths)
	}
	login := got.Metrics["http_reqs{step:login}"]
	if login["count"] != float64((f.reqs+2)/3) || login["thresholds"].(map[string]any)["count > 0"] != false {
		t.Errorf("submetric http_reqs{step:login} = %v", login)
	}
	rest := got.RootGroup.Groups["rest"]
	if rest == nil {
		t.Fatal("no rest group")
	}
	var passes, fails uint64
	for _, c := range rest.Checks {
		passes += c.Passes
		fails += c.Fails
	}
	if passes != uint64(f.checksOK) || fails != uint64(f.checks-f.checksOK) {
		t.Errorf("checks %d/%d, want %d/%d", passes, fails, f.checksOK, f.checks-f.checksOK)
	}
}

func TestTextSummary(t *testing.T) {
	r, f, _ := report(t, 300)
	r.Notes = []string{"saturated: schedule lag 1.2s over the 1s bound"}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if testing.Verbose() {
		t.Log(out)
	}
	for _, want := range []string{
		"scenario rest", "login", "quote", "total", "scenario stream", "osc.ack",
		"✗ rest/login", "status == 200", "93.00%",
		"✓ http_reqs{step=login}", "✗ http_req_duration", "ms ✓, avg=", "ms ✗", "1 of 2 thresholds FAILED",
		"! saturated: schedule lag",
		"rest/login  capture token missing    2", "stream/osc  websocket closed (1011)  1", "! output influxdb dropped 12 points",
		"http_reqs", "  " + strconv.Itoa(f.reqs) + "  ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestJUnit(t *testing.T) {
	r, _, _ := report(t, 100)
	var buf bytes.Buffer
	if err := r.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 2 || doc.Failures != 1 || len(doc.Suites[0].Cases) != 2 {
		t.Fatalf("junit: %+v", doc)
	}
	fail := doc.Suites[0].Cases[0].Failure
	avg := r.Verdicts[0].Outcomes[1].Observed
	if fail == nil || !strings.Contains(fail.Message, "avg < 1ms: observed avg="+metrics.FormatMillis(avg)) {
		t.Errorf("failure %+v", fail)
	}
	if doc.Suites[0].Cases[1].Failure != nil {
		t.Error("passing threshold has a failure")
	}
}

// TestJUnitIncompleteFiles: a result file that could not be written is a failed test case of
// its own, naming the file and the cause, besides the thresholds' cases.
func TestJUnitIncompleteFiles(t *testing.T) {
	r, _, _ := report(t, 100)
	r.Incomplete = []string{"results/run.csv: write: no space left on device — the file is incomplete"}
	var buf bytes.Buffer
	if err := r.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 3 || doc.Failures != 2 || len(doc.Suites) != 2 || len(doc.Suites[1].Cases) != 1 {
		t.Fatalf("junit: %+v", doc)
	}
	if f := doc.Suites[1].Cases[0].Failure; f == nil || f.Message != r.Incomplete[0] {
		t.Errorf("result files case: %+v", doc.Suites[1].Cases[0])
	}
}

func TestSegmentsMergeExactly(t *testing.T) {
	var segs []*SegmentSummary
	var want fed
	var wantStates int
	for i, n := range []int{500, 700} {
		r, f, ev := report(t, n)
		r.Segment = []string{"1/2", "2/2"}[i]
		want.reqs += f.reqs
		want.failed += f.failed
		want.dur.Merge(&f.dur)
		states := ev.States()
		wantStates = len(states)
		segs = append(segs, viaFile(t, r, states))
	}
	m, err := Merge(segs)
	if err != nil {
		t.Fatal(err)
	}
	all := m.Store.Snapshot()
	reqs := metrics.Combine(all, metrics.HTTPReqs, nil)
	failed := metrics.Combine(all, metrics.HTTPReqFailed, nil)
	dur := metrics.Combine(all, metrics.HTTPReqDuration, nil)
	if reqs.Sum != float64(want.reqs) || failed.Trues != uint64(want.failed) {
		t.Errorf("merged reqs %v failed %d, want %d %d", reqs.Sum, failed.Trues, want.reqs, want.failed)
	}
	for _, q := range []float64{0.5, 0.9, 0.95, 0.99} {
		if dur.Hist.Quantile(q) != want.dur.Quantile(q) {
			t.Errorf("merged q%v = %v, want %v", q, dur.Hist.Quantile(q), want.dur.Quantile(q))
		}
	}
	if len(m.States) != 2*wantStates || len(m.Dropped) != 1 || m.Dropped[0].Count != 24 {
		t.Errorf("states %d, dropped %+v", len(m.States), m.Dropped)
	}
	if _, err := Merge([]*SegmentSummary{segs[0], segs[0]}); err == nil {
		t.Error("the same segment twice merged without an error")
	}
}

func TestReadSegmentRejectsGarbage(t *testing.T) {
	for _, in := range []string{"", "{", `{"version": 99}`, `[1,2]`} {
		if _, err := ReadSegment(strings.NewReader(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	seg := &SegmentSummary{Version: SegmentVersion, Series: []SeriesJSON{{Metric: "nope"}}}
	if _, err := Merge([]*SegmentSummary{seg}); err == nil || !strings.Contains(err.Error(), `unknown metric "nope"`) {
		t.Errorf("unknown metric: %v", err)
	}
}

func TestDurationFallsBackToSamples(t *testing.T) {
	s := New()
	s.Emit([]metrics.Sample{
		{Metric: metrics.HTTPReqs, Time: t0.UnixNano(), Value: 1, Tags: tLogin},
		{Metric: metrics.HTTPReqs, Time: t0.Add(2 * time.Second).UnixNano(), Value: 1, Tags: tQuote},
	})
	r := &Report{Series: s.Store().Snapshot()}
	if d := r.Duration(); d != 2*time.Second {
		t.Errorf("duration without start and end = %v, want the samples' 2s", d)
	}
	if d := (&Report{}).Duration(); d != time.Millisecond {
		t.Errorf("empty report duration = %v, want the 1ms floor", d)
	}
}

// BenchmarkEmit measures the summary's aggregation cost per sample, in 64-sample batches.
func BenchmarkEmit(b *testing.B) {
	s := New()
	batch := make([]metrics.Sample, 64)
	for j := range batch {
		batch[j] = metrics.Sample{Metric: metrics.HTTPReqDuration, Time: t0.UnixNano(), Value: float64(j), Tags: tQuote, Status: 200}
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Emit(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/sample")
}

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

// TestTextSummaryInterruptedHandshakes: WebSocket handshakes cut on the wire are said beside the
// requests, from ws_errors labelled interrupted (other ws_errors are not counted there).
func TestTextSummaryInterruptedHandshakes(t *testing.T) {
	at := t0.UnixNano()
	tWS := &metrics.Tags{Scenario: "rest", Step: "feed", Method: "WS", Group: "ws"}
	batch := []metrics.Sample{{Metric: metrics.IterationsInterrupted, Time: at, Value: 3, Tags: tScRest},
		{Metric: metrics.WSErrors, Time: at, Value: 1, Tags: tWS, Label: "dial"}}
	for range 2 {
		batch = append(batch, metrics.Sample{Metric: metrics.WSErrors, Time: at, Value: 1, Tags: tWS, Label: "interrupted"})
	}
	s := New()
	s.Emit(batch)
	r := &Report{Title: "ws.hcl", Start: t0, End: t0.Add(time.Second), Series: s.Store().Snapshot()}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	want := "! 3 iterations interrupted by the end of graceful_stop, a ramp-down or an abort; 0 requests they had on the " +
		"wire are counted as failed (error interrupted), and 2 WebSocket handshakes as ws_errors (interrupted)"
	if !strings.Contains(buf.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, buf.String())
	}
}

func TestTextSummarySaysTargetUnreachableFirst(t *testing.T) {
	r, _, _ := report(t, 10)
	r.Unreachable = []string{"target unreachable since 0:08: connection refused"}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	i := strings.Index(out, "\n  !! target unreachable since 0:08: connection refused\n")
	if i < 0 || i > strings.Index(out, "scenario rest") {
		t.Errorf("the unreachable line is not under the heading:\n%s", out)
	}
	// A segment run carries it to the merged summary.
	if seg := BuildSegment(r, nil, nil); len(seg.Notes) == 0 || seg.Notes[0] != r.Unreachable[0] {
		t.Errorf("segment notes %q", seg.Notes)
	}
}
