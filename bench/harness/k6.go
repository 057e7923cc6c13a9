package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

// k6 runs generated scripts, one per case, each filled from the templates below. Each script's
// handleSummary writes the end-of-test metrics as {"metrics": {NAME: values}, "state": …}: the
// layout of --summary-export, which loadplan's export follows, so the harness reads both with one
// type (export). handleSummary rather than --summary-export: it is in every k6 since v0.30 and
// stays in v2, where deprecated flags were removed.

// k6Params fill a script template.
type k6Params struct {
	URL       string // target URL (http, https or ws)
	VUs       int
	Duration  string // constant-vus duration, k6 syntax ("10s")
	Ramp      string // ramping cases: time to reach VUs
	Hold      string // ramping cases: time at VUs
	SessionMs int64  // WebSocket cases: how long each session stays open
	Export    string // where handleSummary writes the metrics (set by k6Script)
}

// k6Summary ends every script: it writes the metrics for the harness and prints nothing.
const k6Summary = `
export function handleSummary(data) {
  const metrics = {};
  for (const name in data.metrics) { metrics[name] = data.metrics[name].values; }
  return { '{{js .Export}}': JSON.stringify({ metrics: metrics, state: data.state }) };
}
`

// k6Scripts are the cases' scripts. Each mirrors a bench plan: tput = throughput.hcl and h2.hcl
// (http.get in a loop, no think time), idle = vus.hcl (one request a second per VU), wsidle =
// websocket.hcl (a persistent session receiving the server's ticks), echo = echo.hcl (send, then
// wait for the echo, on a persistent session: k6's event loop sends the next frame from the
// message handler).
var k6Scripts = map[string]*template.Template{
	"tput": k6Template(`import http from 'k6/http';
export const options = {
  insecureSkipTLSVerify: true,
  summaryTrendStats: ['avg', 'med', 'p(99)'],
  scenarios: { tput: { executor: 'constant-vus', vus: {{.VUs}}, duration: '{{.Duration}}', gracefulStop: '5s' } },
};
export default function () { http.get('{{.URL}}'); }
`),
	"idle": k6Template(`import http from 'k6/http';
import { sleep } from 'k6';
export const options = {
  summaryTrendStats: ['avg', 'med', 'p(99)'],
  scenarios: { idle: { executor: 'ramping-vus', startVUs: 0, gracefulRampDown: '5s', gracefulStop: '5s',
    stages: [{ duration: '{{.Ramp}}', target: {{.VUs}} }, { duration: '{{.Hold}}', target: {{.VUs}} }] } },
};
export default function () { http.get('{{.URL}}'); sleep(1); }
`),
	"wsidle": k6Template(`import ws from 'k6/ws';
export const options = {
  summaryTrendStats: ['avg', 'med', 'p(99)'],
  scenarios: { wsidle: { executor: 'ramping-vus', startVUs: 0, gracefulRampDown: '10s', gracefulStop: '10s',
    stages: [{ duration: '{{.Ramp}}', target: {{.VUs}} }, { duration: '{{.Hold}}', target: {{.VUs}} }] } },
};
export default function () {
  ws.connect('{{.URL}}', null, function (socket) {
    socket.on('message', function () {});
    socket.setTimeout(function () { socket.close(); }, {{.SessionMs}});
  });
}
`),
	"echo": k6Template(`import ws from 'k6/ws';
export const options = {
  summaryTrendStats: ['avg', 'med', 'p(99)'],
  scenarios: { echo: { executor: 'constant-vus', vus: {{.VUs}}, duration: '{{.Duration}}', gracefulStop: '5s' } },
};
export default function () {
  ws.connect('{{.URL}}', null, function (socket) {
    socket.on('open', function () { socket.send('ping'); });
    socket.on('message', function () { socket.send('ping'); });
    socket.setTimeout(function () { socket.close(); }, {{.SessionMs}});
  });
}
`),
}

func k6Template(text string) *template.Template {
	return template.Must(template.New("k6").Parse(text + k6Summary))
}

// k6Script renders the named script with p into the work folder and returns its path and the
// path its handleSummary writes.
func (h *harness) k6Script(name string, p k6Params) (script, export string, err error) {
	h.seq++
	script = filepath.Join(h.work, fmt.Sprintf("k6-%s-%03d.js", name, h.seq))
	p.Export = strings.TrimSuffix(script, ".js") + ".json"
	var b strings.Builder
	if err := k6Scripts[name].Execute(&b, p); err != nil {
		return "", "", err
	}
	return script, p.Export, os.WriteFile(script, []byte(b.String()), 0o644)
}

// runK6 runs `k6 run --quiet SCRIPT` and reads what its handleSummary wrote. k6 exits 0, or 99
// when a threshold failed (none are set here); anything else is an error.
func (h *harness) runK6(ctx context.Context, script string, p k6Params, timeout time.Duration, during func(stop <-chan struct{})) (lpRun, error) {
	path, exp, err := h.k6Script(script, p)
	if err != nil {
		return lpRun{}, err
	}
	defer os.Remove(path)
	defer os.Remove(exp)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		if during != nil {
			during(stop)
		}
	}()
	proc, err := runChildEnv(ctx, timeout, 0, []string{"K6_NO_USAGE_REPORT=true"}, h.k6,
		"run", "--quiet", "--no-color", path)
	close(stop)
	<-done
	if err != nil {
		return lpRun{Proc: proc}, err
	}
	if proc.Exit != 0 && proc.Exit != 99 {
		return lpRun{Proc: proc}, fmt.Errorf("k6 run %s exited %d: %s", script, proc.Exit, tail(proc.Stderr+proc.Stdout, 400))
	}
	e, err := readExport(exp)
	if err != nil {
		return lpRun{Proc: proc}, fmt.Errorf("k6 %s: %w", script, err)
	}
	return lpRun{Proc: proc, Export: e}, nil
}

// readExport reads a --summary-export file (loadplan's or k6's).
func readExport(path string) (*export, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("no summary export: %w", err)
	}
	var e export
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("summary export: %w", err)
	}
	return &e, nil
}

// exportRun is a throughput run as an export reports it (loadplan's and k6's use the same names).
func exportRun(r lpRun) toolRun {
	e := r.Export
	return toolRun{
		Requests: e.num("http_reqs", "count"), RPS: e.num("http_reqs", "rate"),
		P50: e.num("http_req_duration", "med"), P99: e.num("http_req_duration", "p(99)"),
		Errors: e.num("http_req_failed", "passes"), Proc: r.Proc,
	}
}

// runK6Tput runs the tput script: conns VUs, each http.get in a loop, for d.
func (h *harness) runK6Tput(ctx context.Context, url string, conns int, d time.Duration) (toolRun, error) {
	r, err := h.runK6(ctx, "tput", k6Params{URL: url, VUs: conns, Duration: d.String()}, d+90*time.Second, nil)
	if err != nil {
		return toolRun{}, err
	}
	return exportRun(r), nil
}
