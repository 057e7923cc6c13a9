package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	"github.com/loadplan/loadplan/internal/webview"
	"github.com/loadplan/loadplan/run"
)

// Session is `loadplan ui`'s side of the page: a folder of plans and how to start one. cmd
// provides the functions, since it owns plan loading and the command-line overrides the form
// stands for (--vus, --duration, --host, --scenario, -var).
type Session struct {
	Folder  string // the plans' folder, as given
	Results string // where each run's folder of result files goes, shown on the page
	// Plans lists the folder's plans, each validated; called for every listing, so edits to a
	// plan show on the next reload.
	Plans func() []PlanInfo
	// Start starts a run of one of the listed plans with the form's choices: loaded, checked
	// and started (targets reachable), or an error to show beside the form.
	Start func(StartRequest) (*Started, error)

	mu       sync.Mutex // guards starting
	starting bool       // a Start is under way (it checks the targets, which takes time)
}

// PlanInfo is one plan of the folder as the form shows it. It holds no secret: a sensitive
// variable's value is never listed.
type PlanInfo struct {
	Path        string    `json:"path"` // as the start request names it
	Name        string    `json:"name"`
	Valid       bool      `json:"valid"`
	Diagnostics string    `json:"diagnostics,omitempty"` // rendered, with file:line:col
	Variables   []VarInfo `json:"variables,omitempty"`   // host first
	Scenarios   []string  `json:"scenarios,omitempty"`
	Load        string    `json:"load,omitempty"` // the planned shape in words, e.g. "3 stages, 1m30s, up to 50 VUs"
}

// VarInfo is a declared variable.
type VarInfo struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
	Default     string `json:"default"` // "(sensitive)" for a sensitive one
	Sensitive   bool   `json:"sensitive,omitempty"`
}

// StartRequest is the start form: the plan and the overrides. Empty fields keep the plan's.
type StartRequest struct {
	Plan      string            `json:"plan"`
	Vars      map[string]string `json:"vars"`
	VUs       int               `json:"vus"`
	Duration  string            `json:"duration"`
	Scenarios []string          `json:"scenarios"`
}

// Started is a run Session.Start started. Wait waits for it to end and returns its result, the
// terminal summary's text and the files it wrote.
type Started struct {
	Run     *run.Run
	Info    webview.Info // names the plan (and loadplan's version) on the page
	Choices string       // the choices as flags, e.g. "--vus 5 --host http://…"
	Wait    func() (*run.Result, string, []string)
}

func (s *Session) servePlans(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(s.Plans())
}

// errBusy is the answer to a start while a run goes on: one run at a time.
var errBusy = errors.New("a run is going on: stop it (or wait for it) before starting another")

// serveStart starts a run from the form (a JSON StartRequest) and watches it; one at a time.
func (p *Page) serveStart(w http.ResponseWriter, r *http.Request) {
	var req StartRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		http.Error(w, "the start request is not the form's JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	s := p.session
	p.mu.Lock()
	busy := p.cur != nil && !p.cur.state.Done
	p.mu.Unlock()
	s.mu.Lock()
	if busy || s.starting {
		s.mu.Unlock()
		http.Error(w, errBusy.Error(), http.StatusConflict)
		return
	}
	s.starting = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.starting = false
		s.mu.Unlock()
	}()
	known := false
	for _, pl := range s.Plans() {
		known = known || (pl.Path == req.Plan && pl.Valid)
	}
	if !known { // only a listed, valid plan: no path from the browser reaches the loader otherwise
		http.Error(w, "no valid plan "+req.Plan+" in "+s.Folder, http.StatusBadRequest)
		return
	}
	st, err := s.Start(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := p.Watch(st.Run, st.Info, st.Choices)
	go func() {
		res, summary, files := st.Wait()
		var err error
		if res == nil {
			err = errors.New("the run ended without a result")
		}
		p.Finish(id, res, summary, files, err)
	}()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int{"id": id})
}
