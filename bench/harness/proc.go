package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is what one child process cost and said. CPU and MaxRSS come from the kernel's rusage of
// the child (wait4), which covers every thread of the child for its whole life.
type proc struct {
	Wall   time.Duration
	User   time.Duration
	Sys    time.Duration
	MaxRSS int64 // bytes: the child's peak resident set (VmHWM)
	Exit   int
	Stdout string
	Stderr string
	RSS    []rssPoint // VmRSS sampled while it ran, when asked for
}

// CPU is the child's user + system time.
func (p *proc) CPU() time.Duration { return p.User + p.Sys }

// rssPoint is one VmRSS reading, at an offset from the child's start.
type rssPoint struct {
	At  time.Duration
	RSS int64 // bytes
}

// rssAt returns the last reading taken at or before at (0 when none).
func (p *proc) rssAt(at time.Duration) int64 {
	var v int64
	for _, pt := range p.RSS {
		if pt.At > at {
			break
		}
		v = pt.RSS
	}
	return v
}

// runChild runs name with args, bounded by timeout (SIGKILL at the deadline), and measures it.
// sample > 0 reads the child's VmRSS at that period. A non-zero exit is not an error (callers
// decide); a timeout or a failure to start is.
func runChild(ctx context.Context, timeout, sample time.Duration, name string, args ...string) (*proc, error) {
	return runChildEnv(ctx, timeout, sample, nil, name, args...)
}

// runChildEnv is runChild with env added to the harness's environment.
func runChildEnv(ctx context.Context, timeout, sample time.Duration, env []string, name string, args ...string) (*proc, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", filepath.Base(name), err)
	}
	p := &proc{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	if sample > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(sample)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					if v, ok := procStatus(cmd.Process.Pid, "VmRSS"); ok {
						p.RSS = append(p.RSS, rssPoint{time.Since(start), v})
					}
				}
			}
		}()
	}
	werr := cmd.Wait()
	close(done)
	wg.Wait()
	p.Wall = time.Since(start)
	p.Stdout, p.Stderr = out.String(), errb.String()
	if st := cmd.ProcessState; st != nil {
		p.Exit = st.ExitCode()
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			p.User = time.Duration(ru.Utime.Nano())
			p.Sys = time.Duration(ru.Stime.Nano())
			p.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return p, fmt.Errorf("%s: killed after %s (%s)", filepath.Base(name), timeout, tail(p.Stderr, 300))
	}
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return p, fmt.Errorf("%s: %w", filepath.Base(name), werr)
	}
	return p, nil
}

// procStatus reads a "kB" field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) (int64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0, false
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			return n * 1024, err == nil
		}
	}
	return 0, false
}

// tail returns the last n bytes of s, on one line, for error messages.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return strings.ReplaceAll(s, "\n", " | ")
}

// target is the bench server, run as a child for the whole harness run.
type target struct {
	cmd   *exec.Cmd
	addrs struct{ HTTP, HTTPS, H2 string } // host:port of each listener, from -addr-file
	hc    *http.Client
}

// startTarget starts bin (bench/server) on a free loopback port and waits until it serves.
func startTarget(bin, work string) (*target, error) {
	addrFile := filepath.Join(work, "server.addr")
	os.Remove(addrFile)
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-addr-file", addrFile)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start bench server: %w", err)
	}
	t := &target{cmd: cmd, hc: &http.Client{Timeout: 5 * time.Second}}
	for i := 0; i < 100; i++ {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			if err := json.Unmarshal(b, &t.addrs); err != nil {
				t.stop()
				return nil, fmt.Errorf("bench server address file: %w", err)
			}
			if _, err := t.stats(); err == nil {
				return t, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.stop()
	return nil, errors.New("bench server did not start within 10 s")
}

// URL is the server's plain http base URL.
func (t *target) URL() string { return "http://" + t.addrs.HTTP }

// HTTPSURL is the base URL of its HTTP/1.1-over-TLS listener (ALPN offers http/1.1 only).
func (t *target) HTTPSURL() string { return "https://" + t.addrs.HTTPS }

// H2URL is the base URL of its HTTP/2 listener (ALPN h2).
func (t *target) H2URL() string { return "https://" + t.addrs.H2 }

// serverCounts mirrors bench/server's Counts.
type serverCounts struct {
	Requests       uint64 `json:"requests"`
	RequestsTLS    uint64 `json:"requests_tls"`
	RequestsH2     uint64 `json:"requests_h2"`
	WSSessions     uint64 `json:"ws_sessions"`
	WSActive       int64  `json:"ws_active"`
	FramesSent     uint64 `json:"frames_sent"`
	FramesReceived uint64 `json:"frames_received"`
	EchoSessions   uint64 `json:"echo_sessions"`
	EchoReceived   uint64 `json:"echo_received"`
	EchoSent       uint64 `json:"echo_sent"`
	TLSErrors      uint64 `json:"tls_handshake_errors"`
	Conns          int64  `json:"conns"`
	ConnsPeak      int64  `json:"conns_peak"`
}

func (t *target) stats() (serverCounts, error) { return t.get("/stats") }

// resetPeak returns the counts and restarts the server's peak-connections figure.
func (t *target) resetPeak() (serverCounts, error) { return t.get("/stats?reset_peak=1") }

func (t *target) get(path string) (serverCounts, error) {
	var c serverCounts
	resp, err := t.hc.Get(t.URL() + path)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	return c, json.NewDecoder(resp.Body).Decode(&c)
}

// pid is the server's process id, for its CPU and memory.
func (t *target) pid() int { return t.cmd.Process.Pid }

// stop ends the server (SIGTERM, then SIGKILL after 10 s).
func (t *target) stop() {
	if t.cmd.Process == nil {
		return
	}
	_ = t.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = t.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = t.cmd.Process.Kill()
		<-done
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls url until it answers with a status below 500 or timeout passes.
func waitHTTP(url string, timeout time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := hc.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer within %s", url, timeout)
}

// loadAvg returns the 1-minute load average.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// procCPU returns the user + system CPU time a running process has used so far (/proc/PID/stat,
// clock ticks of 1/100 s).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s) // f[0] is field 3 (state); utime is field 14, stime 15
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
