// Command harness is the measuring half of `make bench` (bench/run.sh builds it and runs it). On
// this machine, against one loopback bench server (bench/server: plain http, https, h2 and
// WebSocket), it runs loadplan and its peers — wrk, hey, vegeta, h2load and k6 (when installed) —
// round by round, measures each child's CPU (rusage) and peak memory (VmHWM), reads
// what each tool reports and what the server counted, and writes bench/RESULTS.md with the median
// and min–max of every figure across rounds.
//
// Every run is bounded in time and sends traffic only to 127.0.0.1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// config is how long and how hard each case runs. full() is the real run; quick() a smoke run.
type config struct {
	rounds     int
	quick      bool
	pause      time.Duration // between runs: lets the target and the kernel settle
	scrape     time.Duration // Prometheus scrape period in the outputs cases
	tput       time.Duration
	memVUs     []int
	memRamp    time.Duration
	memHold    time.Duration
	wsSessions int
	wsRamp     time.Duration
	wsHold     time.Duration
	rates      []int
	open       time.Duration
	soak       time.Duration
	soakWarm   time.Duration
	soakRate   int
	echo       time.Duration // WebSocket round trips: how long the 50 sessions send → expect
	k6VUs      int           // VUs and sessions of the k6 memory comparisons (k6 needs ~10× loadplan's memory)
	commit     string
}

func full(rounds int) config {
	return config{rounds: rounds, pause: 2 * time.Second, scrape: 5 * time.Second,
		tput: 10 * time.Second, memVUs: []int{1000, 10000}, memRamp: 8 * time.Second, memHold: 12 * time.Second,
		wsSessions: 10000, wsRamp: 15 * time.Second, wsHold: 20 * time.Second,
		rates: []int{1000, 5000, 10000, 20000}, open: 10 * time.Second,
		soak: 2 * time.Minute, soakWarm: 30 * time.Second, soakRate: 2000, echo: 5 * time.Second, k6VUs: 5000}
}

func quick(rounds int) config {
	return config{rounds: rounds, quick: true, pause: time.Second, scrape: 2 * time.Second,
		tput: 2 * time.Second, memVUs: []int{1000, 10000}, memRamp: 3 * time.Second, memHold: 3 * time.Second,
		wsSessions: 10000, wsRamp: 5 * time.Second, wsHold: 5 * time.Second,
		rates: []int{1000, 5000, 20000}, open: 3 * time.Second,
		soak: 20 * time.Second, soakWarm: 5 * time.Second, soakRate: 1000, echo: 2 * time.Second, k6VUs: 1000}
}

// harness is one benchmark run.
type harness struct {
	cfg                        config
	loadplan, wrk, hey, plans  string
	vegeta, h2load, k6         string // "" when not installed: their runs are skipped
	peerVer                    map[string]string
	work                       string
	srv                        *target
	influx                     *influx
	res                        *results
	seq                        int
	lpOK                       bool
	started, finished          time.Time
	loadStart, loadEnd         float64
	goVersion, wrkVer, lpVer   string
	cpuModel, kernel, memTotal string
	gobench                    []goBench
	profileDir                 string
	profiles                   []profileText
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s  %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func main() {
	rounds := flag.Int("rounds", 3, "rounds of every case, tools alternating within each round")
	quickRun := flag.Bool("quick", false, "short runs: a smoke test of the harness, not figures to publish")
	lp := flag.String("loadplan", "", "the loadplan binary (required)")
	server := flag.String("server", "", "the bench/server binary (required)")
	plans := flag.String("plans", "bench/plans", "folder of the bench plans")
	out := flag.String("out", "bench/RESULTS.md", "where to write the results")
	work := flag.String("work", "", "scratch folder for summaries and output files (default: a new temporary folder)")
	influxd := flag.String("influxd", "", "influxd (1.8) for the outputs case; empty looks in PATH and GOPATH/bin")
	k6 := flag.String("k6", "", "the k6 binary; empty looks in PATH and GOPATH/bin (k6 is measured only when found)")
	commit := flag.String("commit", "", "the loadplan commit measured, for the results (bench/run.sh passes git describe)")
	cases := flag.String("cases", defaultCases, "which cases to run, comma-separated")
	profileDir := flag.String("profile-dir", "bench/profiles", "where the profile case writes its pprof files")
	flag.Parse()
	if *lp == "" || *server == "" {
		fmt.Fprintln(os.Stderr, "harness: -loadplan and -server are required")
		os.Exit(2)
	}
	if *rounds < 1 {
		fmt.Fprintln(os.Stderr, "harness: -rounds must be at least 1")
		os.Exit(2)
	}
	cfg := full(*rounds)
	if *quickRun {
		cfg = quick(*rounds)
	}
	cfg.commit = *commit
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := run(ctx, cfg, *lp, *server, *plans, *out, *work, *influxd, *k6, *cases, *profileDir); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

// defaultCases are every case, in the order they run.
const defaultCases = "throughput,h2,echo,memory,websocket,open,soak,gobench,profile"

func run(ctx context.Context, cfg config, lp, server, plans, out, work, influxd, k6, cases, profileDir string) error {
	h := &harness{cfg: cfg, loadplan: lp, plans: plans, res: newResults(), profileDir: profileDir}
	var err error
	if h.wrk, err = exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk not found (bench/run.sh installs it): %w", err)
	}
	if h.hey, err = exec.LookPath("hey"); err != nil {
		return fmt.Errorf("hey not found (bench/run.sh installs it): %w", err)
	}
	h.vegeta, h.h2load, h.k6 = findTool("vegeta", ""), findTool("h2load", ""), findTool("k6", k6)
	for name, bin := range map[string]string{"vegeta": h.vegeta, "h2load": h.h2load} {
		if bin == "" {
			h.res.note("%s was not found (scripts/install-bench-deps.sh installs it): its runs were skipped.", name)
		}
	}
	if h.k6 == "" {
		h.res.note("k6 was not found, so its rows say \"not measured\": scripts/install-bench-deps.sh does not install it " +
			"(its module is under the AGPL, which this project's machines do not fetch); put a k6 binary on PATH, or pass " +
			"K6=path to bench/run.sh, to measure it.")
	}
	if work == "" {
		if work, err = os.MkdirTemp("", "loadplan-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	h.work = work
	h.machine()
	h.started, h.loadStart = time.Now().UTC(), loadAvg()
	if h.srv, err = startTarget(server, work); err != nil {
		return err
	}
	defer h.srv.stop()
	logf("target %s; load average %.2f", h.srv.URL(), h.loadStart)
	h.probe(ctx)
	want := map[string]bool{}
	for _, c := range strings.Split(cases, ",") {
		want[strings.TrimSpace(c)] = true
	}
	if want["throughput"] && h.lpOK {
		if bin := findInfluxd(influxd); bin == "" {
			h.res.note("influxd was not found: the outputs-on throughput case ran with CSV and Prometheus only.")
		} else if h.influx, err = startInflux(bin, work); err != nil {
			h.res.note("influxd did not start (%v): the outputs-on throughput case ran with CSV and Prometheus only.", err)
		} else {
			defer h.influx.stop()
		}
	}
	steps := []struct {
		name string
		fn   func(context.Context)
	}{{"throughput", h.throughput}, {"h2", h.h2}, {"echo", h.echo}, {"memory", h.memory}, {"memory", h.k6Memory},
		{"websocket", h.websocket}, {"websocket", h.k6Sessions}, {"open", h.openModel}, {"soak", h.soak},
		{"gobench", h.goBenchmarks}, {"profile", h.profile}}
	for _, s := range steps {
		if !want[s.name] {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.fn(ctx)
	}
	h.finished, h.loadEnd = time.Now().UTC(), loadAvg()
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted; %s not written", out)
	}
	if err := os.WriteFile(out, []byte(h.render()), 0o644); err != nil {
		return err
	}
	logf("wrote %s (%s)", out, h.finished.Sub(h.started).Round(time.Second))
	return nil
}

// probe runs loadplan apply once, briefly; the loadplan cases run only when it works.
func (h *harness) probe(ctx context.Context) {
	r, err := h.runLoadplan(ctx, lpOpts{plan: "throughput.hcl", timeout: 30 * time.Second,
		vars: map[string]string{"vus": "2", "duration": "1s"}})
	if err == nil && r.Export.num("http_reqs", "count") == 0 {
		err = fmt.Errorf("the probe run made no request")
	}
	if err != nil {
		h.res.note("loadplan apply did not work on this build, so its cases were not measured: %v", err)
		logf("loadplan probe failed: %v", err)
		return
	}
	h.lpOK = true
}

// findInfluxd returns the influxd to use, "" when there is none.
func findInfluxd(flagVal string) string { return findTool("influxd", flagVal) }

// findTool returns flagVal when set, else name from PATH or GOPATH/bin (where `go install` puts
// it), "" when there is none.
func findTool(name, flagVal string) string {
	if flagVal != "" {
		return flagVal
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// machine records what the figures were measured on.
func (h *harness) machine() {
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				h.cpuModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.kernel = strings.TrimSpace(string(b))
	}
	if v, ok := procMeminfo("MemTotal"); ok {
		h.memTotal = fmt.Sprintf("%.1f GiB", float64(v)/(1<<30))
	}
	if b, err := exec.Command("go", "version").Output(); err == nil {
		h.goVersion = strings.TrimSpace(string(b))
	}
	if b, err := exec.Command("wrk", "--version").CombinedOutput(); err == nil || len(b) > 0 {
		h.wrkVer = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	}
	if b, err := exec.Command(h.loadplan, "version").Output(); err == nil {
		h.lpVer = strings.TrimSpace(string(b))
	}
	h.peerVer = map[string]string{}
	if h.vegeta != "" { // go install stamps no version into vegeta; the module's is in the binary
		if b, err := exec.Command("go", "version", "-m", h.vegeta).Output(); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Fields(l); len(f) >= 3 && f[0] == "mod" {
					h.peerVer["vegeta"] = f[1] + " " + f[2]
				}
			}
		}
	}
	if h.h2load != "" {
		if b, err := exec.Command(h.h2load, "--version").CombinedOutput(); err == nil {
			h.peerVer["h2load"] = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
		}
	}
	if h.k6 != "" {
		if b, err := exec.Command(h.k6, "version").CombinedOutput(); err == nil {
			h.peerVer["k6"] = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
		}
	}
}

// procMeminfo reads a field of /proc/meminfo, in bytes.
func procMeminfo(field string) (int64, bool) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			var n int64
			if _, err := fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &n); err == nil {
				return n * 1024, true
			}
		}
	}
	return 0, false
}
