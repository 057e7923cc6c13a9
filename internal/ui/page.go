package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loadplan/loadplan/internal/webview"
	"github.com/loadplan/loadplan/run"
)

// Page is the state the browser shows — the watched run, this session's finished runs — and its
// routes. Its state changes only through Watch, Finish and the snapshots of the watched run;
// each change is published to every browser as one frame.
type Page struct {
	srv     *Server
	hub     *hub
	period  time.Duration
	session *Session // nil for apply --ui

	// frameTime is the time spent building and encoding the watched runs' frames: what the
	// page costs the loadplan process (BenchmarkUIOverhead reports it per second of load).
	frameTime atomic.Int64

	mu      sync.Mutex // guards cur, history, files, nextID and what they point to
	cur     *watched   // the run being watched or last watched; nil before the first
	history []HistoryEntry
	files   map[int][]string // a finished run's downloadable files, by run id, in FileLink order
	nextID  int
}

// watched is the run on the page and what is built from its snapshots.
type watched struct {
	r     *run.Run
	state *RunState
	info  webview.Info // what names the run in its View
	// followed is closed when the last snapshot is on the page: Finish waits for it, so that
	// the final frame carries the final figures, not the ones of a second before.
	followed chan struct{}
}

// RunState is the watched run as the page shows it (the frame's "run").
type RunState struct {
	ID      int       `json:"id"`
	Plan    string    `json:"plan"`
	Choices string    `json:"choices,omitempty"` // the form's choices, as flags, e.g. "--vus 5"
	Started time.Time `json:"started"`
	Status  Status    `json:"status"`
	// View is what view.js draws: the figures, tables and charts of the run's last snapshot
	// (internal/webview, shared with the HTML report).
	View *webview.View `json:"view,omitempty"`

	Done    bool       `json:"done"`
	Code    int        `json:"code"`    // the exit code apply would return; meaningful when Done
	Verdict string     `json:"verdict"` // Code in words
	Summary string     `json:"summary,omitempty"`
	Files   []FileLink `json:"files,omitempty"`
	Error   string     `json:"error,omitempty"` // the run could not start or finish
}

// HistoryEntry is a finished run in the session's history: what its row shows, not its whole
// View, so that a long session's frames stay small.
type HistoryEntry struct {
	ID       int        `json:"id"`
	Plan     string     `json:"plan"`
	Choices  string     `json:"choices,omitempty"`
	Started  time.Time  `json:"started"`
	Code     int        `json:"code"`
	Verdict  string     `json:"verdict"`
	Requests uint64     `json:"requests"`
	Failures uint64     `json:"failures"`
	Files    []FileLink `json:"files,omitempty"`
	Error    string     `json:"error,omitempty"`
}

// FileLink is a result file offered for download.
type FileLink struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// frame is what every event carries: the whole page state.
type frame struct {
	Mode    string         `json:"mode"` // "apply" or "session"
	Run     *RunState      `json:"run"`
	History []HistoryEntry `json:"history,omitempty"`
	Busy    bool           `json:"busy"`
	Folder  string         `json:"folder,omitempty"`
	Results string         `json:"results,omitempty"`
}

// maxHistory bounds the history a frame carries (the newest runs), so that a long session's
// frames stay small; the older runs' files stay downloadable by their links.
const maxHistory = 100

// DefaultPeriod is how often the page gets a frame while a run goes on.
const DefaultPeriod = time.Second

// NewPage adds the page's routes to srv. session is nil for apply --ui (one run, watched);
// otherwise the page lists session's plans and starts them. period <= 0 means DefaultPeriod.
func NewPage(srv *Server, session *Session, period time.Duration) *Page {
	if period <= 0 {
		period = DefaultPeriod
	}
	p := &Page{srv: srv, hub: newHub(), period: period, session: session, files: map[int][]string{}}
	srv.Handle("GET /{$}", http.HandlerFunc(serveIndex))
	srv.Handle("GET /events", p.hub.serveEvents(srv.Quit()))
	srv.Handle("GET /api/state", http.HandlerFunc(p.serveState))
	srv.Handle("POST /api/stop", p.control(func(r *run.Run) { r.Stop() }))
	srv.Handle("POST /api/abort", p.control(func(r *run.Run) { r.Abort() }))
	srv.Handle("GET /files/{run}/{file}", http.HandlerFunc(p.serveFile))
	if session != nil {
		srv.Handle("GET /api/plans", http.HandlerFunc(session.servePlans))
		srv.Handle("POST /api/start", http.HandlerFunc(p.serveStart))
	}
	p.publish()
	return p
}

// Watch puts r on the page and follows its snapshots until it is done; info names the plan (and
// loadplan's version) in the run's View, choices are the form's (or ""). It returns the run's id
// on this page.
func (p *Page) Watch(r *run.Run, info webview.Info, choices string) int {
	p.mu.Lock()
	p.nextID++
	w := &watched{r: r, info: info, followed: make(chan struct{}), state: &RunState{ID: p.nextID, Plan: info.PlanName, Choices: choices,
		Started: time.Now(), Status: statusOf(r.Status())}}
	p.cur = w
	p.mu.Unlock()
	p.publish()
	ch, _ := r.Subscribe(p.period)
	go func() {
		defer close(w.followed)
		for snap := range ch { // closed after the final snapshot
			t0 := time.Now()
			v := snap.View(w.info) // built here, outside the lock, once for every browser
			p.mu.Lock()
			w.state.Status = statusOf(snap.Status)
			w.state.View = v
			p.mu.Unlock()
			p.publish()
			p.frameTime.Add(int64(time.Since(t0)))
		}
	}()
	return w.state.ID
}

// Finish records how the watched run ended: res (nil when it could not start, with err), the
// terminal summary's text and the files it wrote (offered for download when they exist). Call
// it after the run's Wait returned (or its Start failed).
func (p *Page) Finish(id int, res *run.Result, summary string, files []string, err error) {
	p.mu.Lock()
	w := p.cur
	p.mu.Unlock()
	if w == nil || w.state.ID != id {
		return
	}
	<-w.followed // the run is done (Wait returned or Start failed): its last snapshot is coming
	p.mu.Lock()
	st := w.state
	st.Done, st.Summary = true, summary
	if err != nil {
		st.Error, st.Code = err.Error(), run.ExitCode(err)
	}
	if res != nil {
		st.Code = res.Code
	}
	st.Verdict = Verdict(st.Code)
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			st.Files = append(st.Files, FileLink{Name: filepath.Base(f), URL: fmt.Sprintf("/files/%d/%d", id, len(p.files[id]))})
			p.files[id] = append(p.files[id], f)
		}
	}
	h := HistoryEntry{ID: st.ID, Plan: st.Plan, Choices: st.Choices, Started: st.Started, Code: st.Code, Verdict: st.Verdict,
		Files: st.Files, Error: st.Error}
	if st.View != nil {
		h.Requests, h.Failures = st.View.Totals.Requests, st.View.Totals.Failures
	}
	p.history = append(p.history, h)
	p.mu.Unlock()
	p.publish()
}

// Verdict says an exit code in words, as the page and the history show it.
func Verdict(code int) string {
	switch code {
	case run.ExitOK:
		return "passed"
	case run.ExitThreshold:
		return "threshold failed"
	case run.ExitInterrupted:
		return "stopped early"
	case run.ExitSaturated:
		return "generator saturated"
	case run.ExitInvalidPlan:
		return "invalid plan"
	}
	return "error"
}

// Running returns the run going on, nil when none is.
func (p *Page) Running() *run.Run {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil || p.cur.state.Done {
		return nil
	}
	return p.cur.r
}

// WaitIdle waits until no run is going on: the last one finished (Finish was called).
func (p *Page) WaitIdle() {
	c, cancel := p.hubWatch()
	defer cancel()
	for p.Running() != nil {
		<-c
	}
}

// hubWatch is a private stream of the page's frames: it tells WaitIdle that the state changed.
func (p *Page) hubWatch() (<-chan []byte, func()) {
	c := p.hub.join()
	return c.ch, func() { p.hub.leave(c) }
}

// Clients is the number of browsers with an open event stream.
func (p *Page) Clients() int { return p.hub.clientCount() }

// publish encodes the state and hands it to the browsers. Encoding under mu keeps the frames in
// the order of the changes.
func (p *Page) publish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	b, err := json.Marshal(p.frameLocked())
	if err != nil { // plain data; cannot happen, but never send a broken frame
		return
	}
	p.hub.publish(b)
}

func (p *Page) frameLocked() frame {
	f := frame{Mode: "apply"}
	if p.session != nil {
		f.Mode, f.Folder, f.Results = "session", p.session.Folder, p.session.Results
		for i := len(p.history) - 1; i >= 0 && len(f.History) < maxHistory; i-- { // newest first
			f.History = append(f.History, p.history[i])
		}
	}
	if p.cur != nil {
		f.Run = p.cur.state
		f.Busy = !p.cur.state.Done
	}
	return f
}

// serveState answers the current frame as JSON (the tests' and scripts' view of the page).
func (p *Page) serveState(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	b, err := json.Marshal(p.frameLocked())
	p.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// control runs f on the watched run: Stop or Abort. A request naming another run (a form field
// "id") than the one going on is refused, so a stale page cannot stop the next run.
func (p *Page) control(f func(*run.Run)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		cur := p.cur
		p.mu.Unlock()
		if cur == nil || cur.state.Done {
			http.Error(w, "no run is going on", http.StatusConflict)
			return
		}
		if id := r.FormValue("id"); id != "" && id != strconv.Itoa(cur.state.ID) {
			http.Error(w, "that run has ended; another is going on", http.StatusConflict)
			return
		}
		f(cur.r)
		w.WriteHeader(http.StatusNoContent)
	})
}

// serveFile sends one of a finished run's files, named by its index on the page: no path from
// the request ever reaches the file system.
func (p *Page) serveFile(w http.ResponseWriter, r *http.Request) {
	id, err1 := strconv.Atoi(r.PathValue("run"))
	i, err2 := strconv.Atoi(r.PathValue("file"))
	var path string
	p.mu.Lock()
	if fs := p.files[id]; err1 == nil && err2 == nil && i >= 0 && i < len(fs) {
		path = fs[i]
	}
	p.mu.Unlock()
	if path == "" {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, "the file is gone: "+filepath.Base(path), http.StatusNotFound)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filepath.Base(path)))
	http.ServeContent(w, r, filepath.Base(path), fi.ModTime(), f)
}

// Status is the run's status as the page shows it: the progress bar and the header.
type Status struct {
	Phase       string  `json:"phase"`
	Elapsed     float64 `json:"elapsed"` // seconds
	Total       float64 `json:"total"`   // seconds planned; 0 when open-ended
	Stage       int     `json:"stage"`
	StageCount  int     `json:"stageCount"`
	VUs         int     `json:"vus"`
	MaxVUs      int     `json:"maxVUs"`
	Iterations  uint64  `json:"iterations"`
	Dropped     uint64  `json:"dropped"`
	Interrupted bool    `json:"interrupted"`
	AbortReason string  `json:"abortReason,omitempty"`
}

func statusOf(s run.Status) Status {
	return Status{Phase: s.Phase.String(), Elapsed: s.Elapsed.Seconds(), Total: s.Total.Seconds(), Stage: s.Stage,
		StageCount: s.StageCount, VUs: s.VUs, MaxVUs: s.MaxVUs, Iterations: s.Iterations, Dropped: s.Dropped,
		Interrupted: s.Interrupted, AbortReason: s.AbortReason}
}
