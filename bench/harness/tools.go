package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// toolRun is what a throughput run of one tool reported, in its own words, plus what it cost.
type toolRun struct {
	Requests float64 // requests the tool counted
	RPS      float64 // requests per second as the tool reports it
	P50, P99 float64 // milliseconds, as the tool reports them (NaN when it reports none)
	Mean     float64 // milliseconds, when the tool reports only a mean (h2load)
	Errors   float64 // failed requests (socket errors, non-2xx) as the tool reports them
	Proc     *proc
}

var (
	wrkTotal = regexp.MustCompile(`(\d+) requests in ([\d.]+)(us|ms|s|m)`)
	wrkRPS   = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkLat   = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$`)
	wrkErrs  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)

	heyRPS  = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	heyLat  = regexp.MustCompile(`(?m)^\s+(50|99)% in ([\d.]+) secs`)
	heyCode = regexp.MustCompile(`\[(\d+)\]\s+(\d+) responses`)
	heyErrs = regexp.MustCompile(`(?m)^\s+\[(\d+)\]\s+\S`)
)

func unitMS(v float64, unit string) float64 {
	switch unit {
	case "us":
		return v / 1000
	case "s":
		return v * 1000
	case "m":
		return v * 60000
	}
	return v
}

func itoa(n int) string { return strconv.Itoa(n) }

func atof(s string) float64 {
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// parseWrk reads `wrk --latency` output.
func parseWrk(out string) (toolRun, error) {
	var r toolRun
	m := wrkTotal.FindStringSubmatch(out)
	rps := wrkRPS.FindStringSubmatch(out)
	if m == nil || rps == nil {
		return r, fmt.Errorf("wrk: unexpected output: %s", tail(out, 300))
	}
	r.Requests, r.RPS = atof(m[1]), atof(rps[1])
	for _, l := range wrkLat.FindAllStringSubmatch(out, -1) {
		v := unitMS(atof(l[2]), l[3])
		if l[1] == "50" {
			r.P50 = v
		} else {
			r.P99 = v
		}
	}
	if e := wrkErrs.FindStringSubmatch(out); e != nil && e[1] != "" {
		r.Errors += atof(e[1]) + atof(e[2]) + atof(e[3]) + atof(e[4])
	}
	if e := wrkNon2.FindStringSubmatch(out); e != nil {
		r.Errors += atof(e[1])
	}
	return r, nil
}

// parseHey reads hey's default text report.
func parseHey(out string) (toolRun, error) {
	var r toolRun
	rps := heyRPS.FindStringSubmatch(out)
	if rps == nil {
		return r, fmt.Errorf("hey: unexpected output: %s", tail(out, 300))
	}
	r.RPS = atof(rps[1])
	for _, l := range heyLat.FindAllStringSubmatch(out, -1) {
		if l[1] == "50" {
			r.P50 = atof(l[2]) * 1000
		} else {
			r.P99 = atof(l[2]) * 1000
		}
	}
	for _, c := range heyCode.FindAllStringSubmatch(out, -1) {
		r.Requests += atof(c[2])
		if c[1] != "200" {
			r.Errors += atof(c[2])
		}
	}
	if _, errs, ok := strings.Cut(out, "Error distribution:"); ok {
		for _, e := range heyErrs.FindAllStringSubmatch(errs, -1) {
			n := atof(e[1])
			r.Requests += n
			r.Errors += n
		}
	}
	return r, nil
}

// runWrk runs `wrk -t2 -cC -dD --latency URL`.
func (h *harness) runWrk(ctx context.Context, url string, conns int, d time.Duration) (toolRun, error) {
	p, err := runChild(ctx, d+30*time.Second, 0, h.wrk, "-t2", "-c"+strconv.Itoa(conns),
		"-d"+strconv.Itoa(int(d.Seconds()))+"s", "--latency", url)
	if err != nil {
		return toolRun{}, err
	}
	if p.Exit != 0 {
		return toolRun{}, fmt.Errorf("wrk exited %d: %s", p.Exit, tail(p.Stderr+p.Stdout, 300))
	}
	r, err := parseWrk(p.Stdout)
	r.Proc = p
	return r, err
}

// runHey runs `hey -c C -z D URL` (HTTP/1.1 also over TLS: hey speaks HTTP/2 only with -h2).
func (h *harness) runHey(ctx context.Context, url string, conns int, d time.Duration) (toolRun, error) {
	p, err := runChild(ctx, d+30*time.Second, 0, h.hey, "-c", strconv.Itoa(conns),
		"-z", strconv.Itoa(int(d.Seconds()))+"s", url)
	if err != nil {
		return toolRun{}, err
	}
	if p.Exit != 0 {
		return toolRun{}, fmt.Errorf("hey exited %d: %s", p.Exit, tail(p.Stderr+p.Stdout, 300))
	}
	r, err := parseHey(p.Stdout)
	r.Proc = p
	return r, err
}

// export is the part of loadplan's --summary-export JSON (k6's layout) the harness reads.
type export struct {
	Metrics map[string]map[string]any `json:"metrics"`
	State   struct {
		TestRunDurationMs float64 `json:"testRunDurationMs"`
	} `json:"state"`
}

// num returns metrics[metric][field], 0 when the metric got no samples.
func (e *export) num(metric, field string) float64 {
	m := e.Metrics[metric]
	if m == nil {
		return 0
	}
	switch v := m[field].(type) {
	case float64:
		return v
	case json.Number:
		f, _ := v.Float64()
		return f
	}
	return 0
}

// seconds is the run's length as loadplan measured it.
func (e *export) seconds() float64 { return e.State.TestRunDurationMs / 1000 }

// lpRun is one loadplan apply run.
type lpRun struct {
	Proc   *proc
	Export *export
}

// lpOpts says how to run loadplan apply.
type lpOpts struct {
	plan    string            // file name in bench/plans
	host    string            // -var host=…; the server's plain http URL when empty
	vars    map[string]string // -var name=value
	outs    []string          // --out values
	timeout time.Duration
	sample  time.Duration              // VmRSS sampling period, 0 for none
	during  func(stop <-chan struct{}) // run in its own goroutine while the child runs (scrapes, polls)
}

// runLoadplan runs `loadplan apply --quiet --summary-export FILE -var ... PLAN` and reads the export.
// Exit codes 0 and 98 (the generator saturated: a figure the harness wants to see) are accepted.
func (h *harness) runLoadplan(ctx context.Context, o lpOpts) (lpRun, error) {
	h.seq++
	exp := filepath.Join(h.work, fmt.Sprintf("summary-%03d.json", h.seq))
	host := o.host
	if host == "" {
		host = h.srv.URL()
	}
	args := []string{"apply", "--quiet", "--summary-export", exp, "-var", "host=" + host}
	for k, v := range o.vars {
		args = append(args, "-var", k+"="+v)
	}
	for _, out := range o.outs {
		args = append(args, "--out", out)
	}
	args = append(args, filepath.Join(h.plans, o.plan))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if o.during != nil {
			o.during(stop)
		}
	}()
	p, err := runChild(ctx, o.timeout, o.sample, h.loadplan, args...)
	close(stop)
	<-done
	if err != nil {
		return lpRun{Proc: p}, err
	}
	if p.Exit != 0 && p.Exit != 98 {
		return lpRun{Proc: p}, fmt.Errorf("loadplan apply %s exited %d: %s", o.plan, p.Exit, tail(p.Stderr+p.Stdout, 400))
	}
	defer os.Remove(exp)
	e, err := readExport(exp)
	if err != nil {
		return lpRun{Proc: p}, fmt.Errorf("loadplan apply %s: %w", o.plan, err)
	}
	return lpRun{Proc: p, Export: e}, nil
}
