package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/csv"
	"github.com/loadplan/loadplan/outputs/prometheus"
	"github.com/loadplan/loadplan/plan"
	loadrun "github.com/loadplan/loadplan/run" // this package has a func run
)

// profile runs the throughput case in this process through package run, as `loadplan apply`
// runs it (summary and threshold outputs first, then optionally CSV and Prometheus), with a CPU profile over the
// run and an allocation profile at its end, and prints the top of both. It is not part of the
// default cases: `CASES=profile make bench` (or bench/run.sh) runs it alone.
func (h *harness) profile(ctx context.Context) {
	defer h.wsMemory(ctx)
	dir := h.profileDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		h.res.fail("profile: %v", err)
		return
	}
	for _, withOutputs := range []bool{false, true} {
		name := "tput"
		if withOutputs {
			name = "tput-outputs"
		}
		logf("profile: %s, 50 VUs for %s", name, h.cfg.tput)
		cpuPath := filepath.Join(dir, name+"-cpu.prof")
		allocPath := filepath.Join(dir, name+"-allocs.prof")
		reqs, err := h.profileRun(ctx, withOutputs, cpuPath, allocPath)
		if err != nil {
			h.res.fail("profile %s: %v", name, err)
			continue
		}
		h.res.note("profile %s: %s requests in %s; CPU profile %s, allocation profile %s", name, num(reqs, 0), h.cfg.tput, cpuPath, allocPath)
		for _, p := range []struct{ file, sample, title string }{
			{cpuPath, "", "CPU, cumulative"},
			{allocPath, "-sample_index=alloc_space", "allocated bytes"},
		} {
			args := []string{"tool", "pprof", "-top", "-nodecount=30"}
			if p.sample != "" {
				args = append(args, p.sample)
			} else {
				args = append(args, "-cum")
			}
			out, _ := exec.Command("go", append(args, p.file)...).CombinedOutput()
			fmt.Fprintf(os.Stderr, "\n==== %s\n%s\n", p.file, out)
			h.profiles = append(h.profiles, profileText{name: name, title: p.title, text: trimPprof(string(out))})
		}
	}
}

// profileText is the top of one profile, for RESULTS.md.
type profileText struct{ name, title, text string }

// trimPprof drops pprof's header lines (file, build id, time) that change every run.
func trimPprof(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Time:") {
			continue
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

func (h *harness) profileRun(ctx context.Context, withOutputs bool, cpuPath, allocPath string) (float64, error) {
	p, diags := plan.LoadPlan([]string{filepath.Join(h.plans, "throughput.hcl")}, plan.Options{Vars: map[string]string{
		"host": h.srv.URL(), "vus": "50", "duration": h.cfg.tput.String()}})
	if diags.HasErrors() {
		return 0, fmt.Errorf("plan: %s", diags.Error())
	}
	var extra []outputs.Output
	if withOutputs {
		c, err := csv.New(csv.Config{Path: filepath.Join(h.work, "profile.csv")}, outputs.Options{PlanName: "profile"})
		if err != nil {
			return 0, err
		}
		port, err := freePort()
		if err != nil {
			return 0, err
		}
		pr, err := prometheus.New(prometheus.Config{Listen: "127.0.0.1:" + strconv.Itoa(port)}, outputs.Options{PlanName: "profile"})
		if err != nil {
			return 0, err
		}
		extra = append(extra, c, pr)
		defer h.cleanOutputs("profile")
	}
	r, err := loadrun.New(p, loadrun.Config{Name: "profile", Extra: extra})
	if err != nil {
		return 0, err
	}
	f, err := os.Create(cpuPath)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	runtime.MemProfileRate = 64 * 1024
	// From before Start: the load begins inside it; starting the outputs and the one dial of
	// the targets check are a few milliseconds of a run of seconds.
	if err := pprof.StartCPUProfile(f); err != nil {
		return 0, err
	}
	if err := r.Start(ctx); err != nil {
		pprof.StopCPUProfile()
		return 0, err
	}
	defer context.AfterFunc(ctx, r.Abort)() // the harness's Ctrl-C cuts the run short
	<-r.Ended()
	pprof.StopCPUProfile()
	res := r.Wait()
	if err := errors.Join(res.StopErr, res.Executor.Err); err != nil {
		return 0, err
	}
	af, err := os.Create(allocPath)
	if err != nil {
		return 0, err
	}
	defer af.Close()
	if err := pprof.Lookup("allocs").WriteTo(af, 0); err != nil {
		return 0, err
	}
	return metrics.Combine(res.Report.Series, metrics.HTTPReqs, nil).Sum, nil
}
