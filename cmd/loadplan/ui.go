package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/internal/ui"
	"github.com/loadplan/loadplan/outputs/registry"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/run"
)

// runUI is `loadplan ui [FOLDER]`, Locust's web mode: a page that lists FOLDER's plans (validated,
// with their diagnostics), starts one from a form like Locust's (host and the other variables,
// users, run time, scenarios), watches it, stops it, starts again, and keeps the session's
// history. One run at a time; each writes its summary export, JUnit file and Locust CSV files
// into a folder of its own under --results. Ctrl-C stops a run going on (again: aborts it), then
// exits.
func runUI(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var u uiFlags
	fs.StringVar(&u.addr, "addr", "127.0.0.1:8089", "serve the web UI on `ADDR` (:8089 is 127.0.0.1:8089; another interface needs --ui-token)")
	fs.StringVar(&u.token, "ui-token", "", "require `TOKEN` on every request (default $"+uiTokenEnv+"); needed to bind a non-loopback address")
	results := fs.String("results", "results", "each run's files go into a folder of its own under `DIR`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan ui [flags] [FOLDER]")
		fmt.Fprintln(stderr, "Serves a web page that lists FOLDER's plans (default: the current folder) and starts, watches and stops them.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	folder := "."
	switch fs.NArg() {
	case 0:
	case 1:
		folder = fs.Arg(0)
	default:
		fmt.Fprintln(stderr, "loadplan ui: give one folder of plans")
		return exitUsage
	}
	if st, err := os.Stat(folder); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "loadplan ui: %s: not a folder\n", folder)
		return exitUsage
	}
	if err := u.check(); err != nil {
		fmt.Fprintln(stderr, "loadplan ui:", err)
		return exitUsage
	}
	srv, err := ui.Listen(ui.Config{Addr: u.addr, Token: u.token})
	if err != nil {
		fmt.Fprintln(stderr, "loadplan ui:", err)
		return exitRuntime
	}
	env := environ()
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "loadplan: "+format+"\n", a...) }
	us := &uiSession{folder: folder, results: *results, env: env, stdout: stdout, stderr: stderr, logf: logf}
	page := ui.NewPage(srv, &ui.Session{Folder: folder, Results: *results, Plans: us.plans, Start: us.start}, 0)
	srv.Serve()
	fmt.Fprintf(stderr, "web UI: %s (plans in %s; each run's files in %s/; Ctrl-C to exit)\n", srv.URL(), folder, *results)

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	<-sigs
	if r := page.Running(); r != nil {
		logf("stopping the run going on (Ctrl-C again to abort its in-flight requests)")
		r.Stop()
		go func() {
			<-sigs
			logf("aborting in-flight requests")
			r.Abort()
		}()
		page.WaitIdle()
	}
	srv.Close()
	return exitOK
}

// uiSession starts `loadplan ui`'s runs the way apply does: the form becomes apply's flags.
type uiSession struct {
	folder, results string
	env             map[string]string
	stdout, stderr  io.Writer
	logf            func(string, ...any)
}

// plans lists the folder's plans, each loaded and validated as apply would load it.
func (s *uiSession) plans() []ui.PlanInfo {
	files, err := findPlanFiles([]string{s.folder})
	if err != nil {
		return []ui.PlanInfo{{Path: s.folder, Name: s.folder, Diagnostics: err.Error()}}
	}
	out := make([]ui.PlanInfo, 0, len(files))
	for _, f := range files {
		rel, _ := filepath.Rel(s.folder, f)
		info := ui.PlanInfo{Path: f, Name: rel}
		p, parsed, diags := plan.LoadFiles([]string{f}, plan.Options{Env: s.env, Outputs: registry.Default.Schemas()})
		if diags.HasErrors() || p == nil {
			var b bytes.Buffer
			printDiagnostics(&b, parsed, diags)
			info.Diagnostics = b.String()
			out = append(out, info)
			continue
		}
		info.Valid = true
		for _, v := range p.Variables {
			vi := ui.VarInfo{Name: v.Name, Type: v.Type, Description: v.Description, Default: v.Value, Sensitive: v.Sensitive}
			if v.Sensitive {
				vi.Default = "(sensitive)" // never the value, whatever plan renders
			}
			if v.Name == "host" { // host first, as in Locust's form
				info.Variables = append([]ui.VarInfo{vi}, info.Variables...)
			} else {
				info.Variables = append(info.Variables, vi)
			}
		}
		for _, sc := range p.Scenarios {
			info.Scenarios = append(info.Scenarios, sc.Name)
		}
		if e, err := executor.New(executor.Config{Plan: p}); err == nil {
			sched := e.Schedule()
			info.Load = fmt.Sprintf("as planned: %s, up to %d VUs", sched.Total, sched.PeakVUs())
		}
		out = append(out, info)
	}
	return out
}

// formArgs turns the start form into apply's command line: the form's fields are apply's flags,
// so they are checked, and they act, exactly as on the command line.
func formArgs(req ui.StartRequest, dir string) []string {
	var args []string
	if h := req.Vars["host"]; h != "" {
		args = append(args, "--host", h)
	}
	for k, v := range req.Vars {
		if k != "host" && v != "" {
			args = append(args, "-var", k+"="+v)
		}
	}
	if req.VUs > 0 {
		args = append(args, "--vus", strconv.Itoa(req.VUs))
	}
	if req.Duration != "" {
		args = append(args, "--duration", req.Duration)
	}
	for _, sc := range req.Scenarios {
		args = append(args, "--scenario", sc)
	}
	return append(args, "--no-progress", "--summary-export", filepath.Join(dir, "summary.json"), "--junit", filepath.Join(dir, "junit.xml"),
		"--report", filepath.Join(dir, "report.html"), "--out", "csv=locust:"+dir+string(filepath.Separator), req.Plan)
}

// choices is the form's choices as flags, for the page and the history; secrets left out.
func choices(req ui.StartRequest, sensitive map[string]bool) string {
	var parts []string
	if h := req.Vars["host"]; h != "" {
		parts = append(parts, "--host "+h)
	}
	for k, v := range req.Vars {
		switch {
		case k == "host" || v == "":
		case sensitive[k]:
			parts = append(parts, "-var "+k+"=(sensitive)")
		default:
			parts = append(parts, "-var "+k+"="+v)
		}
	}
	if req.VUs > 0 {
		parts = append(parts, "--vus "+strconv.Itoa(req.VUs))
	}
	if req.Duration != "" {
		parts = append(parts, "--duration "+req.Duration)
	}
	for _, sc := range req.Scenarios {
		parts = append(parts, "--scenario "+sc)
	}
	return strings.Join(parts, " ")
}

// start starts a run from the form through applyPlan, as `loadplan apply` with the form's
// flags would: parsed, loaded, checked, started (targets reachable). Its messages go to the
// terminal; an error that keeps it from starting is returned for the page to show beside the
// form. Ctrl-C reaches the run as in apply (the first stops it, the second aborts it).
func (s *uiSession) start(req ui.StartRequest) (*ui.Started, error) {
	name := planName(req.Plan)
	dir, err := runFolder(s.results, name, time.Now())
	if err != nil {
		return nil, err
	}
	opts, err := parseApplyFlags(formArgs(req, dir), io.Discard) // the flag package's usage text is not for the form
	if err != nil {
		os.Remove(dir)
		return nil, err
	}
	hook := newRunHook()
	opts.hook = hook
	var summary bytes.Buffer // the run's terminal summary, for the page; read after hook.done
	msgs := &startMsgs{}     // what keeps the run from starting, for the form
	info := func(format string, a ...any) { fmt.Fprintf(s.stderr, format+"\n", a...) }
	go func() {
		defer close(hook.done)
		applyPlan(opts, s.env, io.MultiWriter(s.stdout, &summary), io.MultiWriter(s.stderr, msgs), info, s.logf)
	}()
	var r *run.Run
	select {
	case r = <-hook.run:
	case <-hook.done:
		os.RemoveAll(dir) // ours, made above: only the run that did not start wrote into it
		text := strings.TrimSpace(msgs.String())
		if text == "" {
			text = "the run could not start"
		}
		return nil, errors.New(text)
	}
	sensitive := map[string]bool{}
	for _, pl := range s.plans() {
		if pl.Path == req.Plan {
			for _, v := range pl.Variables {
				sensitive[v.Name] = v.Sensitive
			}
		}
	}
	return &ui.Started{Run: r, Info: viewInfo(opts), Choices: choices(req, sensitive), Wait: func() (*run.Result, string, []string) {
		<-hook.done
		code := -1
		if hook.res != nil {
			code = hook.res.Code
		}
		s.logf("run of %s ended: exit %d (%s); files in %s", name, code, ui.Verdict(code), dir)
		return hook.res, summary.String(), hook.files
	}}, nil
}

// runFolder creates results/<plan>-YYYYMMDD-HHMMSS (with -2, -3 … when taken) for one run.
func runFolder(results, name string, now time.Time) (string, error) {
	if err := os.MkdirAll(results, 0o755); err != nil {
		return "", fmt.Errorf("results folder: %w", err)
	}
	base := filepath.Join(results, name+"-"+now.Format("20060102-150405"))
	dir := base
	for i := 2; ; i++ {
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !os.IsExist(err) || i > 100 {
			return "", fmt.Errorf("results folder: %w", err)
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
}

// startMsgs keeps the first messages of a run started from the form (its error, when it cannot
// start), safe for the run's goroutines, bounded: a long run's later messages are not kept.
type startMsgs struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (m *startMsgs) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if room := 16<<10 - m.buf.Len(); room > 0 {
		m.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (m *startMsgs) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.buf.String()
}
