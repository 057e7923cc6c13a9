package csv

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// faultTraceServer answers one request in three with 200, one with 500, and resets the
// connection of the third without answering; it records each request's trace id and fate.
type faultTraceServer struct {
	*httptest.Server
	mu   sync.Mutex        // guards fate
	fate map[string]string // trace id → "ok", "500" or "reset"
	flag map[string]string // trace id → the traceparent's flags
}

func newFaultTraceServer(t *testing.T) *faultTraceServer {
	s := &faultTraceServer{fate: map[string]string{}, flag: map[string]string{}}
	n := 0
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tp := strings.Split(r.Header.Get("Traceparent"), "-")
		if len(tp) != 4 || len(tp[1]) != 32 {
			t.Errorf("request without a valid traceparent: %q", r.Header.Get("Traceparent"))
			return
		}
		s.mu.Lock()
		n++
		fate := [...]string{"ok", "500", "reset"}[n%3]
		if _, dup := s.fate[tp[1]]; dup {
			t.Errorf("trace id %s sent twice", tp[1])
		}
		s.fate[tp[1]], s.flag[tp[1]] = fate, tp[3]
		s.mu.Unlock()
		switch fate {
		case "500":
			w.WriteHeader(500)
		case "reset":
			c, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			c.(*net.TCPConn).SetLinger(0) // close sends RST
			c.Close()
		}
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// traceCSVPlan is one request per iteration, so that a trace id names one request.
const traceCSVPlan = `
tracing {
  sampling = 0.2
}
scenario "s" {
  http "a" {
    url = "%s/x"
  }
}
load {
  model      = "shared_iterations"
  vus        = 3
  iterations = 300
}
`

// TestTraceIDColumn runs the executor against the fault server into the CSV (both layouts): the
// trace_id column holds, for every request the server saw sampled (flags 01), answered 500 or
// reset, exactly its trace id, on its request row (compact) or on its http_req_duration or
// errors row (long); it is empty on every other row.
func TestTraceIDColumn(t *testing.T) {
	for _, layout := range []string{LayoutCompact, LayoutLong} {
		t.Run(layout, func(t *testing.T) {
			srv := newFaultTraceServer(t)
			rows := runTraceCSV(t, srv.URL, layout)
			header, rows := rows[0], rows[1:]
			if header[len(header)-1] != TraceColumn {
				t.Fatalf("header %v: trace_id is not the last column", header)
			}
			col := map[string]int{}
			for i, h := range header {
				col[h] = i
			}
			want := map[string]bool{} // trace ids the CSV must hold: sampled or failed
			counts := map[string]int{}
			srv.mu.Lock()
			for id, fate := range srv.fate {
				counts[fate]++
				if fate != "ok" || srv.flag[id] == "01" {
					want[id] = true
				}
			}
			total := len(srv.fate)
			srv.mu.Unlock()
			if total != 300 || counts["reset"] != 100 || counts["500"] != 100 {
				t.Fatalf("server saw %d requests: %v", total, counts)
			}
			got := map[string]int{}
			for _, r := range rows {
				id := r[len(r)-1]
				if id == "" {
					continue
				}
				got[id]++
				metric, errCol := r[col["metric_name"]], r[col["error"]]
				switch layout {
				case LayoutCompact:
					if metric != "http_reqs" {
						t.Errorf("trace id on a %s row", metric)
					}
				case LayoutLong:
					if metric != "http_req_duration" && metric != "errors" {
						t.Errorf("trace id on a %s row", metric)
					}
				}
				srv.mu.Lock()
				fate := srv.fate[id]
				srv.mu.Unlock()
				if fate == "reset" && errCol == "" {
					t.Errorf("reset request %s: row without its error: %v", id, r)
				}
			}
			for id := range want {
				if got[id] != 1 {
					t.Errorf("trace id %s of a sampled or failed request is on %d rows, want 1", id, got[id])
				}
			}
			if len(got) != len(want) {
				t.Errorf("the CSV holds %d trace ids, the server saw %d sampled or failed requests", len(got), len(want))
			}
			t.Logf("%s: %d trace ids in the CSV = %d sampled or failed at the server (%d reset, %d 500)",
				layout, len(got), len(want), counts["reset"], counts["500"])
		})
	}
}

// TestNoTraceColumnWithoutTracing: a plan without tracing keeps the columns as they were.
func TestNoTraceColumnWithoutTracing(t *testing.T) {
	for _, layout := range []string{LayoutCompact, LayoutLong} {
		path := filepath.Join(t.TempDir(), "run.csv")
		out, err := New(Config{Path: path, Layout: layout}, outputs.Options{PlanName: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if err := out.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := out.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := compactHeader
		if layout == LayoutLong {
			want = longHeader
		}
		if string(b) != want {
			t.Errorf("%s header %q, want %q", layout, b, want)
		}
	}
}

// runTraceCSV runs traceCSVPlan against url into a CSV output of the given layout and returns
// the file's records.
func runTraceCSV(t *testing.T, url, layout string) [][]string {
	t.Helper()
	p, diags := plan.LoadSource("t.hcl", fmt.Appendf(nil, traceCSVPlan, url), plan.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	path := filepath.Join(t.TempDir(), "run.csv")
	out, err := New(Config{Path: path, Layout: layout}, outputs.Options{PlanName: "t", Traced: p.Traced()})
	if err != nil {
		t.Fatal(err)
	}
	mgr := outputs.NewManager(out)
	if err := mgr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e, err := executor.New(executor.Config{Plan: p, Sink: mgr})
	if err != nil {
		t.Fatal(err)
	}
	res := e.Run(context.Background())
	if err := mgr.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
