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
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/browsertest"
	"github.com/loadplan/loadplan/internal/testkit"
	"github.com/loadplan/loadplan/internal/webview"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/run"
)

// BenchmarkUIOverhead measures what watching a run in Chromium costs the load: each iteration is
// a pair of equal runs (4 VUs, no think time, against a loopback server; LOADPLAN_UI_BENCH_SECONDS
// long, 3 s by default), one with the live page open in Chromium and one without (the browser
// then shows about:blank), in alternating order. It reports the medians of both throughputs and
// of their ratio (ui/no-ui; 1.00 is no cost). On a shared machine the throughputs swing with the
// neighbours' load, so it also reports what does not: the loadplan process's CPU time per request
// with the UI over without (cpu/req-ui/no-ui: the server side's cost, SSE frames included) and
// the browser's CPU use while it shows the page (chromium-cores: what the page costs a machine
// that runs both), and the share of the load's time the page spent building and encoding its
// frames (frames-%). Every run's request count must equal the server's.
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
	var with, without, ratios, cpuRatios, browserCPU, frameShare []float64
	round := 0
	for b.Loop() {
		var pair [2]roundResult
		for i := range 2 {
			withUI := (round+i)%2 == 0
			rr := benchRound(b, srv, load, withUI, browser)
			if withUI {
				pair[0] = rr
			} else {
				pair[1] = rr
			}
		}
		ui, no := pair[0], pair[1]
		with, without, ratios = append(with, ui.rps), append(without, no.rps), append(ratios, ui.rps/no.rps)
		cpuRatios = append(cpuRatios, ui.cpuPerReq/no.cpuPerReq)
		browserCPU, frameShare = append(browserCPU, ui.browserCPU), append(frameShare, ui.frameShare)
		b.Logf("round %d: with the UI %.0f req/s (%.0f cpu-ns/req, frames %.3f%% of the time, browser %.1f%% of a core), without %.0f req/s (%.0f cpu-ns/req, browser on about:blank %.1f%%): ratio %.4f",
			round+1, ui.rps, ui.cpuPerReq, 100*ui.frameShare, 100*ui.browserCPU, no.rps, no.cpuPerReq, 100*no.browserCPU, ui.rps/no.rps)
		round++
	}
	b.ReportMetric(median(with), "req/s-ui")
	b.ReportMetric(median(without), "req/s-no-ui")
	b.ReportMetric(median(ratios), "ui/no-ui")
	b.ReportMetric(slices.Min(ratios), "ui/no-ui-min")
	b.ReportMetric(slices.Max(ratios), "ui/no-ui-max")
	b.ReportMetric(median(cpuRatios), "cpu/req-ui/no-ui")
	b.ReportMetric(median(browserCPU), "chromium-cores")
	b.ReportMetric(100*median(frameShare), "frames-%")
}

// roundResult is one run's throughput, the loadplan process's CPU time per request (the UI
// server's share included), and, with the UI, the browser's CPU time per second of the run.
type roundResult struct {
	rps, cpuPerReq, browserCPU float64
	frameShare                 float64 // time building and encoding frames per second of load
}

// benchRound runs the plan once, watched by the page in the browser or not, and returns its
// throughput (requests per second of the load), after checking its count against the server's.
func benchRound(b *testing.B, srv *testkit.Counter, load string, withUI bool, br *benchBrowser) roundResult {
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
		id = page.Watch(r, webview.Info{PlanName: "bench"}, "")
		br.open(b, "http://"+s.Addr()+"/")
		for page.Clients() == 0 { // the page's event stream is open before the load starts
			time.Sleep(10 * time.Millisecond)
		}
	}
	cpu0, bcpu0 := processCPU(), br.cpu()
	if err := r.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	<-r.Ended()
	res := r.Wait()
	cpu, bcpu := processCPU()-cpu0, br.cpu()-bcpu0
	var frames time.Duration
	if withUI {
		page.Finish(id, res, "", nil, nil)
		frames = time.Duration(page.frameTime.Load())
		br.open(b, "about:blank")
		s.Close()
	}
	reqs := metrics.Combine(res.Report.Series, metrics.HTTPReqs, nil).Sum
	if seen := srv.Hits.Load() - before; float64(seen) != reqs {
		b.Fatalf("the run counted %v requests, the server saw %d", reqs, seen)
	}
	secs := res.Executor.End.Sub(res.Executor.Start).Seconds()
	return roundResult{rps: reqs / secs, cpuPerReq: float64(cpu.Nanoseconds()) / reqs, browserCPU: bcpu.Seconds() / secs,
		frameShare: frames.Seconds() / secs}
}

// processCPU is this process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchBrowser is bench_page.js: one Chromium page, told where to go line by line.
type benchBrowser struct {
	in  io.WriteCloser
	out *bufio.Scanner
	pid int // node's; Chromium's processes are its descendants
}

// cpu is the CPU time of the browser's processes so far (node and every Chromium process under
// it), read from /proc; 0 where there is no /proc.
func (br *benchBrowser) cpu() time.Duration {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	ticks := map[int]float64{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the command (which may hold spaces) in ")": state ppid ... utime(14) stime(15).
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		parent[pid], ticks[pid] = ppid, ut+st
	}
	var sum float64
	for pid, t := range ticks {
		for p := pid; p > 1; p = parent[p] {
			if p == br.pid {
				sum += t
				break
			}
		}
	}
	return time.Duration(sum * float64(time.Second) / 100) // USER_HZ is 100 on Linux
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
	return &benchBrowser{in: in, out: bufio.NewScanner(out), pid: cmd.Process.Pid}
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
