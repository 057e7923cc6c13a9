// Package integration runs loadplan's outputs against real servers — Prometheus, InfluxDB 1.8
// (through its /api/v2/write endpoint) and the Pushgateway — started by the tests on loopback
// ports with temporary data folders. scripts/install-test-deps.sh installs them. When a server
// binary is missing the tests fail if the CI environment variable is set, and are skipped with a
// loud message otherwise.
package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
)

// env is what TestMain started; nil fields mean "not available" (see need).
var env struct {
	prom       *server // Prometheus, scraping promTarget every second
	influx     *server // InfluxDB 1.8 with the database influxDB created
	pushgw     *server // Pushgateway
	promTarget string  // where the loadplan Prometheus output must listen to be scraped
	// appTarget is scraped as job "app": where a test serves an application's own metrics, for
	// the dashboards' Application row.
	appTarget string
	// kindTargets are scraped too: the dashboard test's HTTP-only and WebSocket-only runs, at the
	// same time, and its exemplar feed.
	kindTargets [3]string
	// fleetTargets are two more scraped addresses, for the two segments of the fleet test.
	fleetTargets [2]string
	missing      []string
	root         string // temporary folder of everything; removed at the end
}

// tempDir returns a new folder under the run's root that outlives a single test.
func tempDir() (string, error) { return os.MkdirTemp(env.root, "run-") }

const influxDB = "loadplan"

// server is a child process listening on addr.
type server struct {
	name string
	addr string
	dir  string
	cmd  *exec.Cmd
	log  *os.File
	// exited is closed when the process has ended (its one Wait has returned).
	exited chan struct{}
}

func (s *server) url() string { return "http://" + s.addr }

// stop kills the process (by its own pid) and waits for it. It is idempotent.
func (s *server) stop() {
	if s == nil || s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.log.Close()
}

func TestMain(m *testing.M) {
	code := func() int {
		root, err := os.MkdirTemp("", "loadplan-integration-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(root)
		env.root = root
		if err := startAll(root); err != nil {
			fmt.Fprintln(os.Stderr, "integration:", err)
			stopAll()
			return 1
		}
		defer stopAll()
		if len(env.missing) > 0 {
			msg := fmt.Sprintf("\n!!! integration: %s not found (run scripts/install-test-deps.sh); "+
				"the tests that need them are SKIPPED.\n", strings.Join(env.missing, ", "))
			if os.Getenv("CI") != "" {
				fmt.Fprint(os.Stderr, strings.Replace(msg, "SKIPPED", "FAILING because CI is set", 1))
			} else {
				fmt.Fprint(os.Stderr, msg)
			}
		}
		return testkit.Run(m)
	}()
	os.Exit(code)
}

func stopAll() {
	env.prom.stop()
	env.influx.stop()
	env.pushgw.stop()
}

// need fails (CI) or skips the test when a server it needs did not start.
func need(t *testing.T, servers ...*server) {
	t.Helper()
	for _, s := range servers {
		if s == nil {
			msg := fmt.Sprintf("real servers missing: %s (install with scripts/install-test-deps.sh)", strings.Join(env.missing, ", "))
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// findBinary looks on PATH, then in GOBIN / GOPATH/bin / ~/go/bin.
func findBinary(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("GOPATH"); d != "" {
		dirs = append(dirs, filepath.Join(d, "bin"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// freeAddr returns a loopback address with a port nothing listens on right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func startAll(root string) error {
	var err error
	if env.promTarget, err = freeAddr(); err != nil {
		return err
	}
	if env.appTarget, err = freeAddr(); err != nil {
		return err
	}
	for i := range env.fleetTargets {
		if env.fleetTargets[i], err = freeAddr(); err != nil {
			return err
		}
	}
	for i := range env.kindTargets {
		if env.kindTargets[i], err = freeAddr(); err != nil {
			return err
		}
	}
	if bin := findBinary("prometheus-pushgateway"); bin == "" {
		env.missing = append(env.missing, "prometheus-pushgateway")
	} else if env.pushgw, err = startPushgateway(bin, root); err != nil {
		return err
	}
	if bin := findBinary("prometheus"); bin == "" {
		env.missing = append(env.missing, "prometheus")
	} else if env.prom, err = startPrometheusJobs(bin, root, map[string][]string{
		"loadplan": append(append([]string{env.promTarget}, env.fleetTargets[:]...), env.kindTargets[:]...), "app": {env.appTarget}},
		// As the compose stack's Prometheus: native histograms (the dashboards query them; this
		// Prometheus 2.42 then keeps no classic _bucket/_sum/_count series of a histogram that
		// has native buckets) and exemplars.
		"--enable-feature=native-histograms,exemplar-storage"); err != nil {
		return err
	}
	if bin := findBinary("influxd"); bin == "" {
		env.missing = append(env.missing, "influxd")
	} else if env.influx, err = startInflux(bin, filepath.Join(root, "influx")); err != nil {
		return err
	}
	return nil
}

// start runs bin with args, logging to dir/name.log, and waits until GET readyPath answers 2xx.
func start(name, bin, dir, addr, readyPath string, args ...string) (*server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = log, log, dir
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, addr: addr, dir: dir, cmd: cmd, log: log, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url() + readyPath)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return s, nil
			}
		}
		select {
		case <-s.exited:
			b, _ := os.ReadFile(log.Name())
			return nil, fmt.Errorf("%s exited at start:\n%s", name, tail(b))
		case <-time.After(100 * time.Millisecond):
		}
	}
	s.stop()
	b, _ := os.ReadFile(log.Name())
	return nil, fmt.Errorf("%s not ready on %s after 60s:\n%s", name, addr, tail(b))
}

// quoteAll returns the addresses quoted and comma-separated, for a YAML flow list.
func quoteAll(addrs []string) string {
	q := make([]string, len(addrs))
	for i, a := range addrs {
		q[i] = fmt.Sprintf("%q", a)
	}
	return strings.Join(q, ", ")
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func startPushgateway(bin, root string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return start("pushgateway", bin, filepath.Join(root, "pushgateway"), addr, "/-/ready",
		"--web.listen-address="+addr, "--log.level=warn")
}

// startInflux starts InfluxDB 1.8 in dir and creates the test database.
func startInflux(bin, dir string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	rpc, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`reporting-disabled = true
bind-address = %q
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[http]
  bind-address = %q
  log-enabled = false
[logging]
  level = "warn"
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
`, rpc, filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), addr)
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "influxdb.conf"), []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	s, err := start("influxd", bin, dir, addr, "/ping", "run", "-config", filepath.Join(dir, "influxdb.conf"))
	if err != nil {
		return nil, err
	}
	if _, err := influxQuery(s, "CREATE DATABASE "+influxDB); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// influxResult is the JSON answer of InfluxDB 1.x /query.
type influxResult struct {
	Results []struct {
		Series []struct {
			Name    string            `json:"name"`
			Tags    map[string]string `json:"tags"`
			Columns []string          `json:"columns"`
			Values  [][]any           `json:"values"`
		} `json:"series"`
		Error string `json:"error"`
	} `json:"results"`
	Error string `json:"error"`
}

// influxQuery runs InfluxQL q against the test database.
func influxQuery(s *server, q string) (*influxResult, error) {
	resp, err := http.PostForm(s.url()+"/query", url.Values{"db": {influxDB}, "q": {q}, "epoch": {"ms"}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r influxResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("influx %q: %w", q, err)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("influx %q: %s", q, r.Error)
	}
	for _, res := range r.Results {
		if res.Error != "" {
			return nil, fmt.Errorf("influx %q: %s", q, res.Error)
		}
	}
	return &r, nil
}

// exportedCount reads metrics[name].count from a --summary-export file; a missing count fails
// the test.
func exportedCount(t *testing.T, file, name string) float64 {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Metrics map[string]map[string]any `json:"metrics"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	v, ok := sum.Metrics[name]["count"].(float64)
	if !ok {
		t.Fatalf("%s has no %s.count", file, name)
	}
	return v
}
