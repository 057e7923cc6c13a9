package threshold

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

var (
	tagsA = &metrics.Tags{Scenario: "a", Step: "get", Method: "GET", Group: "http"}
	tagsB = &metrics.Tags{Scenario: "b", Step: "get", Method: "GET", Group: "http"}
	t0    = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
)

// mk builds a threshold the way plan.Load does.
func mk(t *testing.T, name string, m metrics.Metric, sel map[string]string, conds ...string) *plan.Threshold {
	t.Helper()
	th := &plan.Threshold{Name: name, Metric: m, Selector: sel}
	for _, c := range conds {
		pc, err := metrics.ParseCondition(c, m.Kind(), m.Info().Unit)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		th.Conditions = append(th.Conditions, pc)
	}
	return th
}

func sample(m metrics.Metric, at time.Duration, v float64, tags *metrics.Tags) metrics.Sample {
	return metrics.Sample{Metric: m, Time: t0.Add(at).UnixNano(), Value: v, Tags: tags}
}

func run(stages ...metrics.Span) func() Run {
	return func() Run { return Run{Start: t0, Stages: stages} }
}

// finish closes ev as cmd and merge do and returns the verdicts.
func finish(t *testing.T, ev *Evaluator, end time.Duration) []metrics.Verdict {
	t.Helper()
	ev.Finish(t0.Add(end))
	ev.Close()
	return ev.Verdicts()
}

func TestWholeRunPercentileAndSelector(t *testing.T) {
	pass := mk(t, "http_req_duration{scenario=a}", metrics.HTTPReqDuration, map[string]string{"scenario": "a"}, "p(95) < 50ms", "max <= 100")
	fail := mk(t, "http_req_duration", metrics.HTTPReqDuration, nil, "p(95) < 50ms")
	ev := New(Config{Thresholds: []*plan.Threshold{pass, fail}, Run: run()})
	var batch []metrics.Sample
	ha, hall := &metrics.Histogram{}, &metrics.Histogram{}
	for i := range 100 {
		va := float64(10 + i%20)  // scenario a: 10..29 ms
		vb := float64(200 + i%50) // scenario b: 200..249 ms
		batch = append(batch, sample(metrics.HTTPReqDuration, time.Duration(i)*10*time.Millisecond, va, tagsA),
			sample(metrics.HTTPReqDuration, time.Duration(i)*10*time.Millisecond, vb, tagsB))
		ha.Record(va)
		hall.Record(va)
		hall.Record(vb)
	}
	ev.Add(batch)
	vs := finish(t, ev, time.Second)
	if !vs[0].Pass {
		t.Errorf("scenario a only: want pass, got %+v", vs[0])
	}
	if got, want := vs[0].Outcomes[0].Observed, ha.Quantile(0.95); got != want {
		t.Errorf("scenario a p(95) = %v, want %v", got, want)
	}
	if got := vs[0].Outcomes[1].Observed; got != 29 {
		t.Errorf("scenario a max = %v, want 29", got)
	}
	if vs[1].Pass {
		t.Errorf("all scenarios: want fail, got %+v", vs[1])
	}
	if got, want := vs[1].Outcomes[0].Observed, hall.Quantile(0.95); got != want || got < 200 {
		t.Errorf("all p(95) = %v, want %v", got, want)
	}
	if !Failed(vs) || !strings.Contains(vs[1].Failure(), "p(95) < 50ms: observed p(95)=") {
		t.Errorf("failure message %q", vs[1].Failure())
	}
}

func TestNoSamplesFails(t *testing.T) {
	ths := []*plan.Threshold{
		mk(t, "http_req_failed{scenario=c}", metrics.HTTPReqFailed, map[string]string{"scenario": "c"}, "rate < 0.01"),
		mk(t, "ws_expect_failed", metrics.WSExpectFailed, nil, "rate == 0"),
		mk(t, "http_req_failed{status=500}", metrics.HTTPReqFailed, map[string]string{"status": "500"}, "rate < 1"),
	}
	ev := New(Config{Thresholds: ths, Run: run()})
	ev.Add([]metrics.Sample{sample(metrics.HTTPReqFailed, 0, 0, tagsA), sample(metrics.HTTPReqDuration, 0, 5, tagsA)})
	for _, v := range finish(t, ev, time.Second) {
		if v.Pass || !v.NoSamples || v.Reason != "no samples" {
			t.Errorf("%s: want a no-samples failure, got %+v", v.Name, v)
		}
	}
}

func TestDynamicTagSelector(t *testing.T) {
	th := mk(t, "http_reqs{status=500}", metrics.HTTPReqs, map[string]string{"status": "500"}, "count < 3")
	ev := New(Config{Thresholds: []*plan.Threshold{th}, Run: run()})
	var batch []metrics.Sample
	for i := range 10 {
		s := sample(metrics.HTTPReqs, time.Duration(i)*time.Millisecond, 1, tagsA)
		s.Status = 200
		if i%2 == 0 {
			s.Status = 500
		}
		batch = append(batch, s)
	}
	ev.Add(batch)
	v := finish(t, ev, time.Second)[0]
	if v.Pass || v.Outcomes[0].Observed != 5 {
		t.Errorf("status=500 count: want 5 and a failure, got %+v", v)
	}
}

func TestCounterRateOverRun(t *testing.T) {
	th := mk(t, "http_reqs", metrics.HTTPReqs, nil, "rate >= 10")
	ev := New(Config{Thresholds: []*plan.Threshold{th}, Run: run()})
	var batch []metrics.Sample
	for i := range 40 {
		batch = append(batch, sample(metrics.HTTPReqs, time.Duration(i)*100*time.Millisecond, 1, tagsA))
	}
	ev.Add(batch)
	v := finish(t, ev, 4*time.Second)[0] // 40 requests over 4 s
	if !v.Pass || v.Outcomes[0].Observed != 10 {
		t.Errorf("rate: want 10/s and a pass, got %+v", v)
	}
}

func TestSlidingWindow(t *testing.T) {
	win := mk(t, "http_req_failed", metrics.HTTPReqFailed, nil, "rate < 0.5")
	win.Window = 2 * time.Second
	whole := mk(t, "http_req_failed", metrics.HTTPReqFailed, nil, "rate < 0.5")
	ev := New(Config{Thresholds: []*plan.Threshold{win, whole}, Run: run()})
	// 10 s, 10 samples a second; seconds 4 and 5 fail every request, the rest none.
	fails := 0
	for sec := range 10 {
		var batch []metrics.Sample
		for i := range 10 {
			v := 0.0
			if sec == 4 || sec == 5 {
				v = 1
				fails++
			}
			batch = append(batch, sample(metrics.HTTPReqFailed, time.Duration(sec)*time.Second+time.Duration(i)*100*time.Millisecond, v, tagsA))
		}
		ev.Add(batch)
	}
	vs := finish(t, ev, 10*time.Second)
	w := vs[0]
	if w.Pass {
		t.Fatalf("window: want a failure, got %+v", w)
	}
	// Windows [T-2, T) for T = 2..10 are 9 windows; [3,5) [4,6) [5,7) hold failures: 50%, 100%, 50%.
	if w.Windows != 9 || w.FailedWindows != 3 || w.Outcomes[0].Observed != 1 {
		t.Errorf("window: got %d windows, %d failed, worst %v; want 9, 3, 1", w.Windows, w.FailedWindows, w.Outcomes[0].Observed)
	}
	if !vs[1].Pass || vs[1].Outcomes[0].Observed != float64(fails)/100 {
		t.Errorf("whole run: want a pass at %v, got %+v", float64(fails)/100, vs[1])
	}
	if !strings.Contains(w.Scope(), "3/9 failed") {
		t.Errorf("scope %q", w.Scope())
	}
}

func TestWindowLongerThanRun(t *testing.T) {
	th := mk(t, "http_req_duration", metrics.HTTPReqDuration, nil, "avg < 100")
	th.Window = time.Minute
	ev := New(Config{Thresholds: []*plan.Threshold{th}, Run: run()})
	ev.Add([]metrics.Sample{sample(metrics.HTTPReqDuration, 0, 50, tagsA), sample(metrics.HTTPReqDuration, 3*time.Second, 250, tagsA)})
	v := finish(t, ev, 4*time.Second)[0]
	if v.Pass || v.Windows != 1 || v.Outcomes[0].Observed != 150 {
		t.Errorf("short run: want one failing window with avg 150, got %+v", v)
	}
}

func TestStageScope(t *testing.T) {
	stages := []metrics.Span{{Start: 0, End: 5 * time.Second}, {Start: 5 * time.Second, End: 10 * time.Second}}
	s1 := mk(t, "http_req_duration", metrics.HTTPReqDuration, nil, "max < 100")
	s1.Stage = 1
	s2 := mk(t, "http_req_duration", metrics.HTTPReqDuration, nil, "max < 100", "count == 6")
	s2.Stage = 2
	s3 := mk(t, "http_reqs", metrics.HTTPReqs, nil, "count > 0")
	s3.Stage = 3
	ev := New(Config{Thresholds: []*plan.Threshold{s1, s2, s3}, Run: run(stages...)})
	var batch []metrics.Sample
	for sec := range 10 {
		v := 20.0
		if sec >= 5 {
			v = 300
		}
		batch = append(batch, sample(metrics.HTTPReqDuration, time.Duration(sec)*time.Second, v, tagsA))
	}
	// An iteration that ends during graceful stop belongs to the last stage.
	batch = append(batch, sample(metrics.HTTPReqDuration, 11*time.Second, 500, tagsA))
	ev.Add(batch)
	vs := finish(t, ev, 11*time.Second)
	if !vs[0].Pass || vs[0].Outcomes[0].Observed != 20 {
		t.Errorf("stage 1: want pass with max 20, got %+v", vs[0])
	}
	if vs[1].Pass || vs[1].Outcomes[0].Observed != 500 || vs[1].Outcomes[1].Observed != 6 || !vs[1].Outcomes[1].Pass {
		t.Errorf("stage 2: want fail with max 500 over 6 samples, got %+v", vs[1])
	}
	if vs[2].Pass || !strings.Contains(vs[2].Reason, "no stage 3") {
		t.Errorf("stage 3: want a failure naming the missing stage, got %+v", vs[2])
	}
}

func TestAbortOnFailAfterDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := mk(t, "http_req_failed", metrics.HTTPReqFailed, nil, "rate < 0.1")
		th.AbortOnFail, th.Delay = true, 3*time.Second
		ok := mk(t, "http_req_duration", metrics.HTTPReqDuration, nil, "p(95) < 1s")
		ok.AbortOnFail = true
		start := time.Now()
		var aborts atomic.Int32
		var reason atomic.Value
		ev := New(Config{
			Thresholds: []*plan.Threshold{ok, th},
			Run:        func() Run { return Run{Start: start} },
			Abort:      func(r string) { aborts.Add(1); reason.Store(r) },
		})
		in := ev.Ingester() // the abort loop runs as in a run: started and stopped by the adapter
		if err := in.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		for range 5 { // every request fails from the first second
			now := time.Now().UnixNano()
			in.Emit([]metrics.Sample{
				{Metric: metrics.HTTPReqFailed, Time: now, Value: 1, Tags: tagsA},
				{Metric: metrics.HTTPReqDuration, Time: now, Value: 5, Tags: tagsA},
			})
			time.Sleep(time.Second)
			synctest.Wait()
			if elapsed := time.Since(start); elapsed < th.Delay && aborts.Load() != 0 {
				t.Fatalf("aborted after %v, before the %v delay", elapsed, th.Delay)
			}
		}
		if aborts.Load() != 1 {
			t.Fatalf("abort called %d times, want 1", aborts.Load())
		}
		if r := reason.Load().(string); !strings.Contains(r, "http_req_failed") || !strings.Contains(r, "rate=100.00%") {
			t.Errorf("reason %q", r)
		}
		ev.Finish(time.Now())
		if err := in.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		vs := ev.Verdicts()
		if !vs[0].Pass || vs[0].AbortedRun || vs[1].Pass || !vs[1].AbortedRun {
			t.Errorf("verdicts: %+v", vs)
		}
		if ev.AbortReason() == "" {
			t.Error("AbortReason empty")
		}
	})
}

func TestAbortWaitsForSamples(t *testing.T) {
	th := mk(t, "ws_expect_failed", metrics.WSExpectFailed, nil, "rate == 0")
	th.AbortOnFail = true
	ev := New(Config{Thresholds: []*plan.Threshold{th}, Run: run()})
	if r := ev.CheckAbort(t0.Add(time.Minute)); r != "" {
		t.Fatalf("aborted without samples: %q", r)
	}
	ev.Add([]metrics.Sample{sample(metrics.WSExpectFailed, time.Second, 1, tagsA)})
	if r := ev.CheckAbort(t0.Add(time.Minute)); r == "" {
		t.Fatal("did not abort on a failed expect")
	}
	if r := ev.CheckAbort(t0.Add(2 * time.Minute)); r != "" {
		t.Fatal("aborted twice")
	}
}

func TestMergeStates(t *testing.T) {
	mkAll := func() []*plan.Threshold {
		w := mk(t, "http_req_failed", metrics.HTTPReqFailed, nil, "rate < 0.3")
		w.Window = time.Second
		return []*plan.Threshold{mk(t, "http_reqs", metrics.HTTPReqs, nil, "count == 30"), w}
	}
	var segs [][]metrics.ThresholdState
	for seg := range 2 {
		ev := New(Config{Thresholds: mkAll(), Run: run(), KeepBuckets: true})
		var batch []metrics.Sample
		for i := range 15 {
			at := time.Duration(i) * 200 * time.Millisecond
			failed := 0.0
			if seg == 1 && i < 3 { // segment 2 fails 3 requests in second 0: alone 3/5, merged 3/10
				failed = 1
			}
			batch = append(batch, sample(metrics.HTTPReqs, at, 1, tagsA), sample(metrics.HTTPReqFailed, at, failed, tagsA))
		}
		ev.Add(batch)
		vs := finish(t, ev, 3*time.Second)
		if vs[0].Pass || vs[0].Outcomes[0].Observed != 15 {
			t.Fatalf("segment %d count: %+v", seg, vs[0])
		}
		segs = append(segs, ev.States())
	}
	merged := New(Config{Thresholds: mkAll(), Run: run()})
	for _, states := range segs {
		for _, s := range states {
			if !merged.Load(s) {
				t.Fatalf("state %s not loaded", s.Name)
			}
		}
	}
	vs := finish(t, merged, 3*time.Second)
	if !vs[0].Pass || vs[0].Outcomes[0].Observed != 30 {
		t.Errorf("merged count: want 30, got %+v", vs[0])
	}
	if vs[1].Pass || vs[1].Outcomes[0].Observed != 0.3 || vs[1].Windows != 3 {
		t.Errorf("merged window: want worst rate 0.3 (fails < 0.3) over 3 windows, got %+v", vs[1])
	}
}

func TestEventCountersWithoutEventsAreZero(t *testing.T) {
	dropped := mk(t, "dropped_iterations", metrics.DroppedIterations, nil, "count == 0")
	reconnects := mk(t, "ws_reconnects", metrics.WSReconnects, nil, "count > 0")
	errs := mk(t, "errors", metrics.Errors, nil, "count < 5")
	errs.Window = time.Minute
	reqs := mk(t, "http_reqs{scenario=b}", metrics.HTTPReqs, map[string]string{"scenario": "b"}, "count < 100")
	ev := New(Config{Thresholds: []*plan.Threshold{dropped, reconnects, errs, reqs}, Run: run()})
	ev.Add([]metrics.Sample{sample(metrics.HTTPReqs, 0, 1, tagsA)})
	vs := finish(t, ev, time.Second)
	if !vs[0].Pass || vs[0].Summary() != "count=0 (no events)" {
		t.Errorf("dropped_iterations count == 0 without drops: want a pass, got %+v (%s)", vs[0], vs[0].Summary())
	}
	if vs[1].Pass || !strings.Contains(vs[1].Failure(), "count > 0: observed count=0") {
		t.Errorf("ws_reconnects count > 0 without reconnects: want a failure at 0, got %q", vs[1].Failure())
	}
	if !vs[2].Pass {
		t.Errorf("windowed errors count < 5 without errors: want a pass, got %+v", vs[2])
	}
	// A request counter is not an event counter: a scenario that never ran must not pass silently.
	if vs[3].Pass || !vs[3].NoSamples {
		t.Errorf("http_reqs of a scenario that never ran: want a no-samples failure, got %+v", vs[3])
	}
}

// BenchmarkEmit measures the evaluator's cost per sample (Add, which the Ingester's Emit calls)
// with a whole-run, a windowed and a selector threshold, in 64-sample batches as the executor
// sends them.
func BenchmarkEmit(b *testing.B) {
	t := &testing.T{}
	win := mk(t, "http_req_failed", metrics.HTTPReqFailed, nil, "rate < 0.01")
	win.Window = time.Minute
	ths := []*plan.Threshold{
		mk(t, "http_req_duration", metrics.HTTPReqDuration, nil, "p(95) < 300ms"),
		mk(t, "http_req_duration{scenario=a}", metrics.HTTPReqDuration, map[string]string{"scenario": "a"}, "p(99) < 1s"),
		win,
	}
	ev := New(Config{Thresholds: ths, Run: run()})
	batch := make([]metrics.Sample, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		at := time.Duration(i) * time.Millisecond
		for j := range batch {
			m := metrics.HTTPReqDuration
			if j%2 == 1 {
				m = metrics.HTTPReqFailed
			}
			batch[j] = sample(m, at, float64(j), tagsA)
		}
		ev.Add(batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/sample")
}
