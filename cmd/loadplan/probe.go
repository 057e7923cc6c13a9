package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// probe is `loadplan probe`: one GET that says whether a service answers, for the places that
// have no shell and no curl — the compose healthcheck of the demo backend runs in a FROM-scratch
// image — and for CI steps that must wait for a backend before `apply` (--wait).
type probe struct {
	url     *url.URL
	wait    time.Duration // retry until success or this long has passed; 0: one attempt
	timeout time.Duration // one attempt's bound (connect, send, response headers, body)
	client  *http.Client
}

// probeMaxBody is how much of a response body a probe reads before it closes the connection: a
// health answer is small, and a probe must not hang on an endless one.
const probeMaxBody = 64 << 10

// probeMaxBackoff caps the pause between attempts of --wait: the pause doubles from 100 ms so a
// backend that comes up quickly is seen quickly, and a slow one is not hammered.
const probeMaxBackoff = time.Second

// runProbe GETs URL: exit 0 on a 2xx or 3xx answer (redirects are not followed: a 3xx is an
// answer), 1 otherwise with the reason on stderr, 2 for bad usage.
func runProbe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	p := &probe{}
	fs.DurationVar(&p.wait, "wait", 0, "retry until the URL answers 2xx/3xx or this `DURATION` has passed (0: one attempt)")
	fs.DurationVar(&p.timeout, "timeout", 5*time.Second, "bound of one attempt, `DURATION`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan probe [--wait DURATION] [--timeout DURATION] URL")
		fmt.Fprintln(stderr, "GETs URL: exit 0 on 2xx/3xx, 1 otherwise (the reason on stderr). A healthcheck for images")
		fmt.Fprintln(stderr, "without a shell, or a wait for a backend in CI: loadplan probe --wait 60s http://app:8000/health")
		printFlags(stderr, fs)
	}
	pos, code, ok := parsePositional(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "loadplan probe: give one URL (loadplan probe [--wait DURATION] [--timeout DURATION] URL)")
		return exitUsage
	}
	u, err := url.Parse(pos[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "loadplan probe: %q is not an http:// or https:// URL with a host\n", redactURL(pos[0]))
		return exitUsage
	}
	if p.wait < 0 || p.timeout <= 0 {
		fmt.Fprintln(stderr, "loadplan probe: --wait must be 0 or more and --timeout more than 0")
		return exitUsage
	}
	p.url = u
	p.client = &http.Client{
		// A fresh connection per attempt: a probe asks whether the service accepts connections
		// now, not whether an old one still works.
		Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	status, attempts, took, err := p.run(context.Background())
	if err != nil {
		fmt.Fprintf(stderr, "loadplan probe: %s: %v (%d attempt%s in %s)\n", u.Redacted(), err, attempts, plural(attempts), took.Round(time.Millisecond))
		return exitRuntime
	}
	fmt.Fprintf(stdout, "%s: %s\n", u.Redacted(), status)
	return exitOK
}

// run makes attempts until one succeeds or the wait is over, and returns the successful status,
// the number of attempts (each one request sent or tried) and the time taken, or the last
// attempt's reason. The whole run lasts at most wait + timeout.
func (p *probe) run(ctx context.Context) (string, int, time.Duration, error) {
	start := time.Now()
	deadline := start.Add(p.wait)
	backoff := 100 * time.Millisecond
	for attempts := 1; ; attempts++ {
		status, err := p.once(ctx)
		if err == nil {
			return status, attempts, time.Since(start), nil
		}
		if time.Now().Add(backoff).After(deadline) {
			return "", attempts, time.Since(start), err
		}
		select {
		case <-ctx.Done():
			return "", attempts, time.Since(start), ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, probeMaxBackoff)
	}
}

// once makes one GET and says why it failed: a status outside 2xx/3xx, or the transport error.
func (p *probe) once(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("User-Agent", "loadplan-probe")
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already, and redacted there
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return "", fmt.Errorf("no answer within --timeout %s", p.timeout)
		}
		return "", err
	}
	_, rerr := io.Copy(io.Discard, io.LimitReader(resp.Body, probeMaxBody))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return "", fmt.Errorf("HTTP %s", resp.Status)
	}
	if rerr != nil && !errors.Is(rerr, io.EOF) {
		return "", fmt.Errorf("HTTP %s, then reading the body: %w", resp.Status, rerr)
	}
	return "HTTP " + resp.Status, nil
}

// redactURL masks the password of a URL that may not parse, for error messages.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(an unparsable URL)"
}
