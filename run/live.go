package run

import (
	"sync"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/internal/webview"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs/summary"
	"github.com/loadplan/loadplan/plan"
)

// Status is a run's state at one moment: the executor's (elapsed, stage, VUs, iterations,
// unreachable targets) and the run's own.
type Status struct {
	executor.Status
	Phase       Phase
	Interrupted bool   // Stop was called
	AbortReason string // the abort_on_fail threshold that stopped the run, "" while none did
}

// Status returns the run's status; safe from any goroutine.
func (r *Run) Status() Status {
	return Status{Status: r.exec.Status(), Phase: Phase(r.phase.Load()), Interrupted: r.interrupted.Load(),
		AbortReason: r.thr.AbortReason()}
}

// Series returns the run's aggregates so far (the summary's store): one series per metric and
// tag set, cumulative since the start. The VUs fold their samples where they make them and the
// outputs Manager drains those aggregates into the store every outputs.AggregateEvery, so a
// sample shows here within about half a second (a VU's flush, up to 250 ms, then the drain); the
// final figures, after Wait, hold every sample. Safe from any goroutine; the copies are the
// caller's.
func (r *Run) Series() []*metrics.Series { return r.sum.Store().Snapshot() }

// Snapshot is the live view of a run at one moment, as Subscribe delivers it.
type Snapshot struct {
	At     time.Time
	Status Status
	// Series are the aggregates since the start (see Run.Series): a consumer that wants
	// per-interval figures subtracts the previous snapshot's counts.
	Series []*metrics.Series
	// Verdicts are the thresholds judged over the samples so far; final in the last snapshot.
	Verdicts []metrics.Verdict
	// Timeline is the figures per interval so far (the charts'); Stages the load's stage spans.
	Timeline *summary.Timeline
	Stages   []metrics.Span
	// Result is the run's result in the last snapshot of a run that ran (Wait returned), nil
	// before.
	Result *Result

	plan  *plan.Plan
	title string
	seg   string
}

// snapshot takes a Snapshot now.
func (r *Run) snapshot() Snapshot {
	return Snapshot{At: r.cfg.Now(), Status: r.Status(), Series: r.Series(), Verdicts: r.thr.Verdicts(),
		Timeline: r.sum.Timeline(), Stages: r.exec.Stages(), Result: r.final.Load(), plan: r.plan, title: r.title(), seg: r.seg}
}

// View builds the web page's view of the snapshot (webview.View): info names the plan file and
// loadplan's version; its phase, progress and verdict are the snapshot's. The last snapshot's
// View is the run's final one, with its notes and exit code.
func (s Snapshot) View(info webview.Info) *webview.View {
	if res := s.Result; res != nil {
		info.Final, info.Verdict, info.Phase = true, res.Code, Done.String()
		if info.Plan == nil {
			info.Plan = s.plan
		}
		return webview.FromReport(res.Report, info)
	}
	st := s.Status
	rep := &summary.Report{Plan: s.plan, Title: s.title, Segment: s.seg, Start: st.Start, End: s.At, Series: s.Series,
		Verdicts: s.Verdicts, Timeline: s.Timeline, Stages: s.Stages}
	if st.Start.IsZero() {
		rep.End = time.Time{}
	}
	if info.Plan == nil {
		info.Plan = s.plan
	}
	info.Phase = st.Phase.String()
	info.Progress = &webview.Progress{Elapsed: st.Elapsed.Seconds(), Total: st.Total.Seconds(), Stage: st.Stage,
		StageCount: st.StageCount, VUs: st.VUs, MaxVUs: st.MaxVUs, Iterations: st.Iterations, Dropped: st.Dropped}
	return webview.FromReport(rep, info)
}

// Subscribe delivers a Snapshot every period (1s when period <= 0) until the run is done, then
// the final one (the outputs stopped, the verdicts final) and closes the channel; cancel ends the
// subscription earlier and closes it too. A slow subscriber misses snapshots, never the last
// one, and never slows the run: the channel holds one. Snapshots are shared between
// subscribers: read them, do not modify them.
func (r *Run) Subscribe(period time.Duration) (<-chan Snapshot, func()) {
	if period <= 0 {
		period = time.Second
	}
	s := &subscription{ch: make(chan Snapshot, 1), quit: make(chan struct{}), done: make(chan struct{})}
	if !r.subs.add(s) { // the run is done already: the final snapshot alone
		s.ch <- r.snapshot()
		close(s.ch)
		close(s.done)
		return s.ch, func() {}
	}
	go s.loop(period, r.snapshot)
	return s.ch, func() {
		s.once.Do(func() { close(s.quit) })
		<-s.done
	}
}

// subscription is one Subscribe: its goroutine owns ch and closes it.
type subscription struct {
	ch    chan Snapshot
	quit  chan struct{} // closed by cancel
	final chan Snapshot // the last snapshot, handed over by subscribers.close; set by add
	done  chan struct{} // closed when the goroutine ended
	once  sync.Once
}

func (s *subscription) loop(period time.Duration, take func() Snapshot) {
	defer close(s.done)
	defer close(s.ch)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case snap := <-s.final:
			select { // make room: the last snapshot is never missed
			case <-s.ch:
			default:
			}
			s.ch <- snap
			return
		case <-t.C:
			select {
			case s.ch <- take():
			default: // the subscriber has not read the last one
			}
		}
	}
}

// subscribers are a run's subscriptions. mu guards list and closed.
type subscribers struct {
	mu     sync.Mutex
	list   []*subscription
	closed bool
}

// add registers s, or reports false when the run is done.
func (ss *subscribers) add(s *subscription) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return false
	}
	s.final = make(chan Snapshot, 1)
	ss.list = append(ss.list, s)
	return true
}

// close hands every subscription the final snapshot; later Subscribes get it at once.
func (ss *subscribers) close(take func() Snapshot) {
	ss.mu.Lock()
	list := ss.list
	ss.closed, ss.list = true, nil
	ss.mu.Unlock()
	if len(list) == 0 {
		return
	}
	snap := take()
	for _, s := range list {
		s.final <- snap // buffered, sent once
	}
}
