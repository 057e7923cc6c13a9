package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
	"github.com/loadplan/loadplan/internal/webview"
	"github.com/loadplan/loadplan/run"
)

// TestSessionOneRunAtATime: the form starts only listed valid plans, one run at a time; a
// finished run goes into the history with its verdict and figures, and the next can start.
func TestSessionOneRunAtATime(t *testing.T) {
	srv := testkit.NewCounter(t, nil)
	var starts atomic.Int64
	release := make(chan struct{})
	sess := &Session{Folder: "plans", Results: "results",
		Plans: func() []PlanInfo {
			return []PlanInfo{{Path: "plans/ok.hcl", Name: "ok.hcl", Valid: true}, {Path: "plans/bad.hcl", Name: "bad.hcl"}}
		},
		Start: func(req StartRequest) (*Started, error) {
			starts.Add(1)
			r := newTestRun(t, srv.URL, `load {
  model    = "users"
  vus      = 1
  duration = "1m"
}`, run.Config{})
			if err := r.Start(context.Background()); err != nil {
				return nil, err
			}
			return &Started{Run: r, Info: webview.Info{PlanName: "ok"}, Choices: "--vus 1", Wait: func() (*run.Result, string, []string) {
				<-release
				r.Stop()
				<-r.Ended()
				return r.Wait(), "summary", nil
			}}, nil
		}}
	s := listen(t, "")
	page := NewPage(s, sess, 50*time.Millisecond)
	s.Serve()
	base := "http://" + s.Addr()
	start := func(body string) int {
		req, _ := http.NewRequest("POST", base+"/api/start", strings.NewReader(body))
		req.Header.Set("Origin", base)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, body := range []string{`{"plan":"plans/bad.hcl"}`, `{"plan":"/etc/passwd"}`, `not json`} {
		if code := start(body); code != http.StatusBadRequest {
			t.Fatalf("start %s: %d, want 400", body, code)
		}
	}
	if starts.Load() != 0 {
		t.Fatal("Start was called for a plan that is not listed and valid")
	}
	for round := 1; round <= 2; round++ {
		if code := start(`{"plan":"plans/ok.hcl"}`); code != 200 {
			t.Fatalf("round %d: start: %d", round, code)
		}
		if code := start(`{"plan":"plans/ok.hcl"}`); code != http.StatusConflict {
			t.Fatalf("round %d: a second start while one runs: %d, want 409", round, code)
		}
		release <- struct{}{}
		page.WaitIdle()
		var f frame
		if err := json.Unmarshal([]byte(get(t, base+"/api/state", 200)), &f); err != nil {
			t.Fatal(err)
		}
		if f.Busy || len(f.History) != round || f.History[0].ID != round || f.History[0].Code != run.ExitInterrupted ||
			f.History[0].Verdict != "stopped early" {
			t.Fatalf("round %d: busy %v, history %+v", round, f.Busy, f.History)
		}
	}
	if starts.Load() != 2 {
		t.Fatalf("Start called %d times, want 2", starts.Load())
	}
	hits := uint64(srv.Hits.Load())
	var f frame
	json.Unmarshal([]byte(get(t, base+"/api/state", 200)), &f)
	sum := f.History[0].Requests + f.History[1].Requests
	if sum != hits {
		t.Fatalf("the history's requests add up to %v, the server saw %v", sum, hits)
	}
}
