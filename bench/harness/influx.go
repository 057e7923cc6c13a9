package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// influx is a throwaway InfluxDB 1.8 (with the v2 write API) on loopback, with its data in the
// harness's work folder, for the outputs-overhead case.
type influx struct {
	cmd *exec.Cmd
	url string // http://127.0.0.1:PORT
}

const influxDB = "loadplan"

// startInflux starts bin with a generated config and creates the database.
func startInflux(bin, work string) (*influx, error) {
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	rpcPort, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(work, "influxd")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:%d"
  log-enabled = false
  flux-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
`, rpcPort, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), httpPort)
	confPath := filepath.Join(dir, "influxd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "influxd.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "-config", confPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start influxd: %w", err)
	}
	logf.Close()
	in := &influx{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", httpPort)}
	if err := waitHTTP(in.url+"/ping", 30*time.Second); err != nil {
		in.stop()
		return nil, fmt.Errorf("influxd: %w", err)
	}
	resp, err := http.PostForm(in.url+"/query", url.Values{"q": {"CREATE DATABASE " + influxDB}})
	if err != nil {
		in.stop()
		return nil, fmt.Errorf("influxd: create database: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `"error"`) {
		in.stop()
		return nil, fmt.Errorf("influxd: create database: %s %s", resp.Status, body)
	}
	return in, nil
}

// out is the --out value that points loadplan at the database.
func (in *influx) out() string { return "influxdb=" + in.url + "/" + influxDB }

// stop ends influxd (SIGTERM, SIGKILL after 10 s).
func (in *influx) stop() {
	if in == nil || in.cmd.Process == nil {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = in.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = in.cmd.Process.Kill()
		<-done
	}
}
