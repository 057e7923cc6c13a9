package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The peers beside wrk and hey: vegeta (Go, open and closed model), h2load (nghttp2's HTTP/2
// benchmark, C) and k6 (Go + JavaScript VUs). bench/run.sh installs vegeta and h2load through
// scripts/install-bench-deps.sh; k6 is measured only when a k6 binary is found (see that script).

// vegetaReport is the part of `vegeta report -type=json` the harness reads. Latencies are in ns.
type vegetaReport struct {
	Latencies struct {
		P50 float64 `json:"50th"`
		P99 float64 `json:"99th"`
	} `json:"latencies"`
	Duration    float64           `json:"duration"` // ns, from the first request to the last one sent
	Requests    float64           `json:"requests"`
	Rate        float64           `json:"rate"`
	StatusCodes map[string]uint64 `json:"status_codes"` // "0" counts transport errors
	Errors      []string          `json:"errors"`       // distinct error texts
}

// parseVegeta reads `vegeta report -type=json`. Errors are the requests without a 2xx or 3xx
// status (vegeta reports transport errors as status "0").
func parseVegeta(out []byte) (toolRun, error) {
	var v vegetaReport
	if err := json.Unmarshal(out, &v); err != nil {
		return toolRun{}, fmt.Errorf("vegeta report: %w: %s", err, tail(string(out), 300))
	}
	r := toolRun{Requests: v.Requests, RPS: v.Rate, P50: v.Latencies.P50 / 1e6, P99: v.Latencies.P99 / 1e6}
	for code, n := range v.StatusCodes {
		if c, err := strconv.Atoi(code); err != nil || c < 200 || c >= 400 {
			r.Errors += float64(n)
		}
	}
	return r, nil
}

var (
	h2Finished = regexp.MustCompile(`finished in ([\d.]+)(us|ms|s|m), ([\d.]+) req/s`)
	h2Requests = regexp.MustCompile(`requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout`)
	h2Status   = regexp.MustCompile(`status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx`)
	h2Mean     = regexp.MustCompile(`time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)`)
)

// parseH2load reads h2load's text report. Requests are the "done" ones (h2load does not count the
// streams still in flight when -D ends, which the server did answer); errors are failed, errored
// and timed-out requests plus 4xx and 5xx answers. h2load prints no percentiles: P50 and P99 are
// NaN (rendered "—") and Mean carries its mean.
func parseH2load(out string) (toolRun, error) {
	f, rq := h2Finished.FindStringSubmatch(out), h2Requests.FindStringSubmatch(out)
	if f == nil || rq == nil {
		return toolRun{}, fmt.Errorf("h2load: unexpected output: %s", tail(out, 300))
	}
	r := toolRun{Requests: atof(rq[3]), RPS: atof(f[3]), P50: math.NaN(), P99: math.NaN()}
	r.Errors = atof(rq[5]) + atof(rq[6]) + atof(rq[7])
	if s := h2Status.FindStringSubmatch(out); s != nil {
		r.Errors += atof(s[3]) + atof(s[4])
	}
	if m := h2Mean.FindStringSubmatch(out); m != nil {
		r.Mean = unitMS(atof(m[1]), m[2])
	}
	return r, nil
}

// runVegeta runs `vegeta attack -rate=0 -workers=C -max-workers=C -duration=D` (as fast as C
// workers go, each with its keep-alive connection) writing its results to a file, then `vegeta
// report -type=json` on that file. Only the attack's CPU is counted: the report is a separate,
// later process (a pipe would run it beside the attack, on the same 2 cores).
func (h *harness) runVegeta(ctx context.Context, url string, conns int, d time.Duration) (toolRun, error) {
	h.seq++
	res := filepath.Join(h.work, fmt.Sprintf("vegeta-%03d.bin", h.seq))
	defer os.Remove(res)
	targets := filepath.Join(h.work, "vegeta-targets.txt")
	if err := os.WriteFile(targets, []byte("GET "+url+"\n"), 0o644); err != nil {
		return toolRun{}, err
	}
	c := strconv.Itoa(conns)
	args := []string{"attack", "-rate=0", "-workers=" + c, "-max-workers=" + c, "-duration=" + d.String(),
		"-targets=" + targets, "-output=" + res}
	if strings.HasPrefix(url, "https:") {
		// The https listener offers HTTP/1.1 only; -http2=false keeps vegeta from even trying.
		args = append(args, "-insecure", "-http2=false")
	}
	p, err := runChild(ctx, d+30*time.Second, 0, h.vegeta, args...)
	if err != nil {
		return toolRun{}, err
	}
	if p.Exit != 0 {
		return toolRun{}, fmt.Errorf("vegeta attack exited %d: %s", p.Exit, tail(p.Stderr+p.Stdout, 300))
	}
	rep, err := runChild(ctx, 2*time.Minute, 0, h.vegeta, "report", "-type=json", res)
	if err != nil {
		return toolRun{}, err
	}
	if rep.Exit != 0 {
		return toolRun{}, fmt.Errorf("vegeta report exited %d: %s", rep.Exit, tail(rep.Stderr, 300))
	}
	r, err := parseVegeta([]byte(rep.Stdout))
	r.Proc = p
	return r, err
}

// runH2load runs `h2load -c C -m M -t T -D S URL` against the h2 listener: C connections with M
// concurrent streams each, for S seconds.
func (h *harness) runH2load(ctx context.Context, url string, conns, streams int, d time.Duration) (toolRun, error) {
	p, err := runChild(ctx, d+30*time.Second, 0, h.h2load, "-c", strconv.Itoa(conns), "-m", strconv.Itoa(streams),
		"-t", strconv.Itoa(min(numCPU(), conns)), "-D", strconv.Itoa(int(d.Seconds())), url)
	if err != nil {
		return toolRun{}, err
	}
	if p.Exit != 0 {
		return toolRun{}, fmt.Errorf("h2load exited %d: %s", p.Exit, tail(p.Stderr+p.Stdout, 300))
	}
	r, err := parseH2load(p.Stdout)
	if err == nil && r.Requests == 0 {
		err = fmt.Errorf("h2load made no request: %s", tail(p.Stdout, 300))
	}
	if err == nil && !strings.Contains(p.Stdout, "Application protocol: h2") {
		err = fmt.Errorf("h2load did not negotiate h2: %s", tail(p.Stdout, 300))
	}
	r.Proc = p
	return r, err
}
