package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/loadplan/loadplan/internal/ui"
	"github.com/loadplan/loadplan/internal/webview"
	"github.com/loadplan/loadplan/run"
)

// uiTokenEnv is the environment variable that holds the web UI's token, so that it need not be
// on the command line (where ps shows it).
const uiTokenEnv = "LOADPLAN_UI_TOKEN"

// uiFlags are the web UI's flags, shared by apply (--ui ADDR) and `loadplan ui` (--addr).
type uiFlags struct {
	addr   string
	linger bool
	token  string
}

// register adds apply's --ui, --ui-linger and --ui-token to fs.
func (u *uiFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&u.addr, "ui", "", "serve the live web UI on `ADDR` while the run goes on (:8089 is 127.0.0.1:8089; another interface needs --ui-token)")
	fs.BoolVar(&u.linger, "ui-linger", false, "keep serving the web UI with the final summary and the result files after the run, until Ctrl-C")
	fs.StringVar(&u.token, "ui-token", "", "require `TOKEN` on every web UI request (default $"+uiTokenEnv+"); needed to bind a non-loopback address")
}

// check takes the token from the environment when the flag does not give one and refuses a
// non-loopback address without a token, before anything is loaded or sent.
func (u *uiFlags) check() error {
	if u.token == "" {
		u.token = os.Getenv(uiTokenEnv)
	}
	if u.addr == "" {
		if u.linger {
			return fmt.Errorf("--ui-linger needs --ui ADDR")
		}
		return nil
	}
	_, loopback, err := ui.ResolveAddr(u.addr)
	if err != nil {
		return err
	}
	if !loopback && u.token == "" {
		return fmt.Errorf("--ui %s: %w", u.addr, ui.ErrNeedToken)
	}
	return nil
}

// applyUI is apply's live page: one run, watched. A nil *applyUI does nothing.
type applyUI struct {
	srv     *ui.Server
	page    *ui.Page
	id      int
	linger  bool
	summary bytes.Buffer // the terminal summary, as the page shows it
}

// newApplyUI returns the page of apply --ui, not yet serving; nil without --ui.
func newApplyUI(opts *applyOptions) *applyUI {
	if opts.ui.addr == "" {
		return nil
	}
	return &applyUI{}
}

// tee returns stdout, also copied to the page's summary with --ui.
func (a *applyUI) tee(stdout io.Writer) io.Writer {
	if a == nil {
		return stdout
	}
	return io.MultiWriter(stdout, &a.summary)
}

// interruptNote is the summary's note for a stopped run: with a web page, its Stop button is
// one way to stop it.
func interruptNote(opts *applyOptions) string {
	switch {
	case opts.hook != nil:
		return "interrupted (the web UI's Stop or Ctrl-C): the run stopped early"
	case opts.ui.addr != "":
		return "interrupted (Ctrl-C or the web UI's Stop): the run stopped early"
	}
	return "interrupted by a signal: the run stopped early"
}

// start serves the page and puts r on it; the URL goes to stderr even with --quiet, since the
// user asked for it. Without --ui it does nothing.
func (a *applyUI) start(opts *applyOptions, r *run.Run, stderr io.Writer) error {
	if a == nil {
		return nil
	}
	srv, err := ui.Listen(ui.Config{Addr: opts.ui.addr, Token: opts.ui.token})
	if err != nil {
		return err
	}
	a.srv, a.linger = srv, opts.ui.linger
	a.page = ui.NewPage(srv, nil, 0)
	srv.Serve()
	a.id = a.page.Watch(r, viewInfo(opts), "")
	fmt.Fprintf(stderr, "web UI: %s\n", srv.URL())
	return nil
}

// finish shows how the run ended: its result (or the error that kept it from starting), the
// summary and the files it wrote.
func (a *applyUI) finish(res *run.Result, err error, files []string) {
	if a == nil {
		return
	}
	a.page.Finish(a.id, res, a.summary.String(), files, err)
}

// close ends the page; with --ui-linger first waits for Ctrl-C (or SIGTERM).
func (a *applyUI) close(stderr io.Writer) {
	if a == nil {
		return
	}
	if a.linger {
		fmt.Fprintf(stderr, "web UI: the result stays on %s until Ctrl-C\n", a.srv.URL())
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		<-sigs
		signal.Stop(sigs)
	}
	a.srv.Close()
}

// viewInfo names the run in its View: the plan's name and files, loadplan's version.
func viewInfo(opts *applyOptions) webview.Info {
	return webview.Info{PlanName: planName(opts.paths[0]), PlanFile: strings.Join(opts.paths, " "), Version: version}
}

// resultFiles are the files a run wrote, for the page's downloads: the summary export, JUnit,
// and the file outputs' files (the CSV output's raw file and Locust files).
func resultFiles(opts *applyOptions, r *run.Run) []string {
	var out []string
	for _, f := range []string{opts.export, opts.junit, opts.report} {
		if f != "" {
			out = append(out, f)
		}
	}
	return append(out, r.Files()...)
}

// runHook is how `loadplan ui` follows a run it started through applyPlan: started receives the
// run once its Start succeeded; done is closed when applyPlan returned, with the result (nil
// when the run never ran) and the files it wrote. A nil *runHook (apply) does nothing.
type runHook struct {
	run   chan *run.Run // buffered: started never waits
	done  chan struct{}
	res   *run.Result // set before done is closed
	files []string
}

func newRunHook() *runHook { return &runHook{run: make(chan *run.Run, 1), done: make(chan struct{})} }

func (h *runHook) started(r *run.Run) {
	if h != nil {
		h.run <- r
	}
}

func (h *runHook) finished(res *run.Result, files []string) {
	if h != nil {
		h.res, h.files = res, files
	}
}
