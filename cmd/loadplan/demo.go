package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/loadplan/loadplan/internal/demo"
)

// runDemo serves the built-in demo backend until SIGINT or SIGTERM.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8000", "listen address (host:port; port 0 picks a free one)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan demo [--addr 127.0.0.1:8000]\n\nServes the demo backend the example plans run against, until Ctrl-C.")
		printFlags(stderr, fs)
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadplan demo: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	return serveDemo(*addr, stdout, stderr, sig)
}

// serveDemo serves the demo backend on addr until stop receives, then closes it and prints what
// it served.
func serveDemo(addr string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	srv, err := demo.Listen(addr)
	if err != nil {
		fmt.Fprintln(stderr, "loadplan:", err)
		return exitRuntime
	}
	fmt.Fprintf(stdout, "demo backend listening on %s\n", srv.URL())
	fmt.Fprintf(stdout, "  REST:      %s/api/health, /api/stocks, /api/stocks/{symbol}, POST /api/login, /api/portfolio, /api/slow, /api/flaky\n", srv.URL())
	fmt.Fprintf(stdout, "  WebSocket: ws%s/api/oscilloscope/ws, /api/market/ws\n", strings.TrimPrefix(srv.URL(), "http"))
	fmt.Fprintf(stdout, "run a plan against it: loadplan apply -var host=%s plans/smoke.hcl\n", srv.URL())

	<-stop
	fmt.Fprintln(stdout, "shutting down")
	if err := srv.Close(); err != nil {
		fmt.Fprintln(stderr, "loadplan demo:", err)
		return exitRuntime
	}
	c := srv.Counts()
	fmt.Fprintf(stdout, "served %d requests, %d WebSocket sessions, %d frames in, %d frames out\n",
		c.Total(), c.WSSessions, c.WSFramesReceived, c.WSFramesSent)
	return exitOK
}
