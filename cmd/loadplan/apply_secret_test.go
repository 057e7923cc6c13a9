package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/loadplan/loadplan/internal/testkit"
)

const (
	envSecret = "s3cr3t-XYZ"  // SECRET_TOKEN, read with env()
	varSecret = "v4r-hunter2" // LOADPLAN_VAR_pw, a sensitive variable
	// condSecret is a threshold condition read with env(): the figure 0.123456 appears nowhere
	// else, so finding it in an output means the condition was printed.
	condSecret = "count > 0.123456"
)

// secretServer is a loopback target that echoes what it is sent and counts the requests and
// frames that carried the secrets, so that the test knows they were used. It also plays InfluxDB
// (/ping, /api/v2/write), checking the token and keeping the points it was sent.
type secretServer struct {
	srv        *httptest.Server
	httpSeen   atomic.Int64 // echo requests carrying both secrets in every place the plan puts them
	wsSeen     atomic.Int64 // WebSocket frames carrying the secret
	wsDials    atomic.Int64 // handshakes carrying the secret in the query and a header
	influxAuth atomic.Int64 // InfluxDB writes with the secret token
	gate       chan struct{}
	gateOnce   sync.Once
	mu         sync.Mutex // guards influx
	influx     bytes.Buffer
}

func newSecretServer(t *testing.T) *secretServer {
	t.Helper()
	s := &secretServer{gate: make(chan struct{})}
	prefix := "/t-" + envSecret
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case prefix + "/echo":
			var got struct{ Token, Pw string }
			_ = json.Unmarshal(body, &got)
			if r.URL.Query().Get("token") == envSecret && r.Header.Get("Authorization") == "Bearer "+envSecret &&
				r.Header.Get("X-Token") == envSecret && r.Header.Get("X-Pw") == varSecret &&
				got.Token == envSecret && got.Pw == varSecret {
				s.httpSeen.Add(1)
			}
			w.Header().Set("X-Echo", r.Header.Get("X-Token"))
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"token": got.Token, "pw": got.Pw})
		case prefix + "/gate":
			select { // held until the test has scraped /metrics mid-run
			case <-s.gate:
			case <-r.Context().Done():
			}
		case prefix + "/ws":
			if r.URL.Query().Get("token") == envSecret && r.Header.Get("X-Token") == envSecret {
				s.wsDials.Add(1)
			}
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			for {
				typ, msg, err := c.Read(r.Context())
				if err != nil {
					return
				}
				if bytes.Contains(msg, []byte(envSecret)) {
					s.wsSeen.Add(1)
				}
				if err := c.Write(r.Context(), typ, msg); err != nil {
					return
				}
			}
		case "/ping":
			w.WriteHeader(http.StatusNoContent)
		case "/api/v2/write":
			if r.Header.Get("Authorization") == "Token "+envSecret {
				s.influxAuth.Add(1)
			}
			s.mu.Lock()
			s.influx.Write(body)
			s.influx.WriteByte('\n')
			s.mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() { s.open(); s.srv.Close() })
	return s
}

// open lets the requests held at /gate through.
func (s *secretServer) open() { s.gateOnce.Do(func() { close(s.gate) }) }

// secretApplyPlan uses the secrets in every attribute that takes a value: base_url, target and
// step headers, query, json body, every kind of check, a capture regex, WebSocket url, headers,
// send and expect, a threshold condition and an output token.
const secretApplyPlan = `variable "host" {
  type = string
}

variable "pw" {
  type      = string
  sensitive = true
}

target "api" {
  base_url = "${var.host}/t-${env("SECRET_TOKEN")}"
  headers  = { Authorization = "Bearer ${env("SECRET_TOKEN")}" }
}

scenario "rest" {
  target = target.api

  http "login" {
    method  = "POST"
    path    = "/echo"
    query   = { token = env("SECRET_TOKEN") }
    headers = { X-Token = env("SECRET_TOKEN"), X-Pw = var.pw }
    json    = { token = env("SECRET_TOKEN"), pw = var.pw, user = "u${vu.id}" }
    check {
      status         = 200
      body_contains  = [env("SECRET_TOKEN"), var.pw, "${env("SECRET_TOKEN")}-missing"]
      body_matches   = "\"${env("SECRET_TOKEN")}\""
      headers        = { X-Echo = env("SECRET_TOKEN") }
      header_matches = { X-Echo = "^${env("SECRET_TOKEN")}$" }
      json           = { token = env("SECRET_TOKEN"), pw = var.pw }
    }
    capture "tok" { regex = "(${env("SECRET_TOKEN")})" }
  }

  http "again" {
    method  = "POST"
    path    = "/echo"
    name    = env("SECRET_TOKEN")
    query   = { token = capture.tok }
    headers = { X-Token = capture.tok, X-Pw = var.pw }
    json    = { token = capture.tok, pw = var.pw }
    check { json = { token = env("SECRET_TOKEN") } }
  }

  websocket "stream" {
    path    = "/ws?token=${env("SECRET_TOKEN")}"
    headers = { X-Token = env("SECRET_TOKEN") }
    send "hello" {
      json = { token = env("SECRET_TOKEN") }
    }
    expect "hello_back" {
      json   = { token = env("SECRET_TOKEN") }
      within = "5s"
    }
    send "text" {
      text = "plain ${env("SECRET_TOKEN")}"
    }
    expect "text_back" {
      regex  = env("SECRET_TOKEN")
      within = "5s"
    }
    close {}
  }

  # A pause of 250 ms or more pushes the VU's buffered samples, so that /metrics has every
  # series while the VU is held at the gate.
  sleep {
    duration = "300ms"
  }

  http "gate" {
    path = "/gate"
  }
}

load {
  model      = "shared_iterations"
  vus        = 2
  iterations = 4
}

threshold "http_reqs" {
  condition = env("SECRET_CONDITION")
}

threshold "checks" {
  condition = "rate > 0.5"
}

output "csv" {
  path = "OUT/csv/"
}

output "json" {
  path = "OUT/samples.jsonl"
}

output "prometheus" {
  listen = "PROM"
}

output "influxdb" {
  url    = "INFLUX"
  org    = "o"
  bucket = "b"
  token  = env("SECRET_TOKEN")
}
`

// TestApplyNeverPrintsSecrets runs a plan that uses an env() secret and a sensitive variable in
// every attribute that accepts one, against a loopback server that counts the requests and frames
// that carried them, and reads every output — terminal, CSV and Locust files, JSON lines, summary
// export, JUnit, segment summary, Prometheus /metrics mid-run, the InfluxDB points — for either
// secret or the secret threshold condition.
func TestApplyNeverPrintsSecrets(t *testing.T) {
	srv := newSecretServer(t)
	dir := t.TempDir()
	promAddr := freeAddr(t)
	src := strings.NewReplacer("OUT", dir, "PROM", promAddr, "INFLUX", srv.srv.URL).Replace(secretApplyPlan)
	file := filepath.Join(dir, "secret.hcl")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(dir, "export.json")
	junit := filepath.Join(dir, "junit.xml")
	segment := filepath.Join(dir, "segment.json")

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testkit.Binary(t), "apply", "-var", "host="+srv.srv.URL,
		"--summary-export", export, "--junit", junit, "--segment-summary", segment, file)
	cmd.Env = append(os.Environ(), "SECRET_TOKEN="+envSecret, "LOADPLAN_VAR_pw="+varSecret, "SECRET_CONDITION="+condSecret)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Scrape while the first iterations are held at /gate: by then every check has a series.
	metricsBody := scrapeUntil(t, "http://"+promAddr+"/metrics", `check="`, exited)
	srv.open()
	err := <-exited
	// Exit 0: the check that fails on purpose (one of ten) leaves the checks rate above 0.5.
	if code := exitCode(t, err); code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	// The secrets were used: the server saw them wherever the plan put them.
	if n := srv.httpSeen.Load(); n != 8 {
		t.Errorf("the server saw both secrets in %d echo requests, want 8 (4 iterations × login, again)", n)
	}
	if n := srv.wsDials.Load(); n != 4 {
		t.Errorf("the server saw the secret in %d WebSocket handshakes, want 4", n)
	}
	if n := srv.wsSeen.Load(); n != 8 {
		t.Errorf("the server saw the secret in %d WebSocket frames, want 8", n)
	}
	if srv.influxAuth.Load() == 0 {
		t.Error("InfluxDB never received the token")
	}
	if got := exportedCount(t, export, "http_reqs"); got != 12 {
		t.Errorf("http_reqs = %v, want 12 (4 iterations × 3 requests)", got)
	}

	outputs := map[string]string{
		"stdout":          stdout.String(),
		"stderr":          stderr.String(),
		"prometheus":      metricsBody,
		"influxdb points": srv.influxText(),
	}
	err = filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || path == file {
			return err
		}
		b, err := os.ReadFile(path)
		outputs[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"export.json", "junit.xml", "segment.json", "samples.jsonl", "_stats.csv", "_failures.csv", "_stats_history.csv"} {
		found := false
		for name := range outputs {
			found = found || strings.HasSuffix(name, want)
		}
		if !found {
			t.Errorf("no output file *%s; files: %v", want, keys(outputs))
		}
	}
	for name, text := range outputs {
		for _, secret := range []string{envSecret, varSecret, "0.123456"} {
			if i := strings.Index(text, secret); i >= 0 {
				t.Errorf("%s holds the secret %q: …%s…", name, secret, text[max(0, i-80):min(len(text), i+40)])
			}
		}
	}
	// The names are still there, with the secret part hidden: the check that fails on purpose
	// is in the Locust failures file and the summary.
	failures := ""
	for name, text := range outputs {
		if strings.HasSuffix(name, "_failures.csv") {
			failures = text
		}
	}
	if !strings.Contains(failures, "body contains (sensitive) #3") {
		t.Errorf("_failures.csv lacks the failed check, named without its secret:\n%s", failures)
	}
	if !strings.Contains(stdout.String(), "body contains (sensitive) #3") || !strings.Contains(stdout.String(), "'(sensitive)'") {
		t.Errorf("the summary does not list the check and the condition as (sensitive):\n%s", stdout.String())
	}
}

// influxText returns the InfluxDB line protocol the server received.
func (s *secretServer) influxText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.influx.String()
}

// scrapeUntil polls url until its body contains want and returns the body; it fails the test
// when the process exits first or a minute passes.
func scrapeUntil(t *testing.T, url, want string, exited <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	last := ""
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("loadplan exited (%v) before /metrics showed %q; last scrape:\n%s", err, want, last)
		default:
		}
		if resp, err := http.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			if strings.Contains(last, want) {
				return last
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/metrics never showed %q; last scrape:\n%s", want, last)
	return ""
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, filepath.Base(k))
	}
	return out
}
