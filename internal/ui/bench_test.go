package ui

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/browsertest"
	"github.com/loadplan/loadplan/internal/testkit"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/run"
)

// BenchmarkUIOverhead measures what watching a run in Chromium costs the load: each iteration is
// a pair of equal runs (4 VUs, no think time, against a loopback server; LOADPLAN_UI_BENCH_SECONDS
// long, 3 s by default), one with the live page open in Chromium and one without (the browser
// then shows about:blank), in alternating order. It reports the medians of both throughputs and
// of their ratio (ui/no-ui; 1.00 is no cost). Every run's request count must equal the server's.
//
//	go test -run '^$' -bench UIOverhead -benchtime 5x ./internal/ui
func BenchmarkUIOverhead(b *testing.B) {
	env, err := browsertest.Find()
	if err != nil {
		b.Skip("needs Chromium, node and playwright-core: ", err)
	}
	secs := 3
	if s, err := strconv.Atoi(os.Getenv("LOADPLAN_UI_BENCH_SECONDS")); err == nil && s > 0 {
		secs = s
	}
	srv := testkit.NewCounter(b, nil)
	browser := startBenchBrowser(b, env)
	load := `load {
  model    = "users"
  vus      = 4
  duration = "` + strconv.Itoa(secs) + `s"
}`
	var with, without, ratios []float64
	round := 0
	for b.Loop() {
		var pair [2]float64
		for i := range 2 {
			withUI := (round+i)%2 == 0
			rps := benchRound(b, srv, load, withUI, browser)
			if withUI {
				pair[0] = rps
			} else {
				pair[1] = rps
			}
		}
		with, without, ratios = append(with, pair[0]), append(without, pair[1]), append(ratios, pair[0]/pair[1])
		b.Logf("round %d: with the UI %.0f req/s, without %.0f req/s, ratio %.4f", round+1, pair[0], pair[1], pair[0]/pair[1])
		round++
	}
	b.ReportMetric(median(with), "req/s-ui")
	b.ReportMetric(median(without), "req/s-no-ui")
	b.ReportMetric(median(ratios), "ui/no-ui")
	b.ReportMetric(slices.Min(ratios), "ui/no-ui-min")
	b.ReportMetric(slices.Max(ratios), "ui/no-ui-max")
}

// benchRound runs the plan once, watched by the page in the browser or not, and returns its
// throughput (requests per second of the load), after checking its count against the server's.
func benchRound(b *testing.B, srv *testkit.Counter, load string, withUI bool, br *benchBrowser) float64 {
	b.Helper()
	before := srv.Hits.Load()
	r := newTestRun(b, srv.URL, load, run.Config{})
	var page *Page
	var s *Server
	id := 0
	if withUI {
		s = listen(b, "")
		page = NewPage(s, nil, 0)
		s.Serve()
		id = page.Watch(r, "bench", "")
		br.open(b, "http://"+s.Addr()+"/")
		for page.Clients() == 0 { // the page's event stream is open before the load starts
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := r.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	<-r.Ended()
	res := r.Wait()
	if withUI {
		page.Finish(id, res, "", nil, nil)
		br.open(b, "about:blank")
		s.Close()
	}
	reqs := metrics.Combine(res.Report.Series, metrics.HTTPReqs, nil).Sum
	if seen := srv.Hits.Load() - before; float64(seen) != reqs {
		b.Fatalf("the run counted %v requests, the server saw %d", reqs, seen)
	}
	return reqs / res.Executor.End.Sub(res.Executor.Start).Seconds()
}

// benchBrowser is bench_page.js: one Chromium page, told where to go line by line.
type benchBrowser struct {
	in  io.WriteCloser
	out *bufio.Scanner
}

func startBenchBrowser(b *testing.B, env browsertest.Env) *benchBrowser {
	cmd := exec.Command(env.Node, filepath.Join("testdata", "bench_page.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+env.Modules, "LOADPLAN_CHROMIUM="+env.Chromium, "LOADPLAN_HARNESS="+env.Harness)
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	})
	return &benchBrowser{in: in, out: bufio.NewScanner(out)}
}

func (br *benchBrowser) open(b *testing.B, url string) {
	b.Helper()
	if _, err := io.WriteString(br.in, url+"\n"); err != nil {
		b.Fatal(err)
	}
	for br.out.Scan() {
		if br.out.Text() == "ok" {
			return
		}
	}
	b.Fatal("the browser script ended")
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
