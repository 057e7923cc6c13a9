package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// python is the interpreter of the traced FastAPI app: Debian's, with its python3-fastapi,
// python3-uvicorn and python3-prometheus-client (scripts/install-test-deps.sh).
const python = "/usr/bin/python3"

// tracedApp is testdata/traced_app.py running on 127.0.0.1, as a child process of the test.
type tracedApp struct {
	*server
}

// startTracedApp starts the FastAPI app on a free loopback port and waits until it answers; it
// is stopped when t ends, and ends by itself after two minutes in any case. Without Python or
// its modules the test fails under CI and is skipped otherwise, as need does for the servers.
func startTracedApp(t *testing.T) *tracedApp {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import fastapi, uvicorn, prometheus_client").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("the traced app needs %s with fastapi, uvicorn and prometheus_client (scripts/install-test-deps.sh): %v %s",
			python, err, strings.TrimSpace(string(out)))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "traced_app.py"))
	if err != nil {
		t.Fatal(err)
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(addr, ":")
	s, err := start("traced_app", python, t.TempDir(), addr, "/seen", script, port, "120")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return &tracedApp{s}
}

// traceparentRE is a valid W3C traceparent of version 00: trace id, parent (span) id, flags.
var traceparentRE = regexp.MustCompile(`^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$`)

// seenTraces is what the app's middleware recorded, sorted out.
type seenTraces struct {
	requests int
	invalid  []string        // headers that are no valid traceparent ("" when none came)
	sampled  map[string]bool // trace ids with the sampled flag
	// unsampled are the trace ids without it.
	unsampled map[string]bool
	// spans are the "trace_id/span_id" pairs: each the client span a backend span is the child of.
	spans map[string]bool
}

// seen reads the traceparents the app recorded and checks each.
func (a *tracedApp) seen(t *testing.T) seenTraces {
	t.Helper()
	resp, err := http.Get(a.url() + "/seen")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var headers []string
	if err := json.NewDecoder(resp.Body).Decode(&headers); err != nil {
		t.Fatal(err)
	}
	s := seenTraces{requests: len(headers), sampled: map[string]bool{}, unsampled: map[string]bool{}, spans: map[string]bool{}}
	for _, h := range headers {
		m := traceparentRE.FindStringSubmatch(h)
		flags, _ := strconv.ParseUint(valueAt(m, 3), 16, 8)
		if m == nil || m[1] == strings.Repeat("0", 32) || m[2] == strings.Repeat("0", 16) || flags&^1 != 0 {
			s.invalid = append(s.invalid, h)
			continue
		}
		if flags&1 == 1 {
			s.sampled[m[1]] = true
		} else {
			s.unsampled[m[1]] = true
		}
		s.spans[m[1]+"/"+m[2]] = true
	}
	return s
}

// valueAt is m[i], or "" when m did not match.
func valueAt(m []string, i int) string {
	if i < len(m) {
		return m[i]
	}
	return ""
}

// promExemplar is one exemplar of /api/v1/query_exemplars.
type promExemplar struct {
	Series  map[string]string
	TraceID string
	SpanID  string
	Value   float64
}

// exemplarsOf returns the exemplars the Prometheus s holds for the series q selects, over the
// last five minutes, as Grafana asks for a panel's.
func exemplarsOf(s *server, q string) ([]promExemplar, error) {
	return exemplarsIn(s, q, time.Now().Add(-5*time.Minute), time.Now().Add(time.Minute))
}

// exemplarsIn returns the exemplars s holds for the series q selects over [from, to]: the one
// reader of /api/v1/query_exemplars for every exemplar test.
func exemplarsIn(s *server, q string, from, to time.Time) ([]promExemplar, error) {
	v := url.Values{"query": {q}, "start": {fmt.Sprint(from.Unix())}, "end": {fmt.Sprint(to.Unix() + 1)}}
	resp, err := http.PostForm(s.url()+"/api/v1/query_exemplars", v)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status, Error string
		Data          []struct {
			SeriesLabels map[string]string `json:"seriesLabels"`
			Exemplars    []struct {
				Labels map[string]string `json:"labels"`
				Value  string            `json:"value"`
			} `json:"exemplars"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query_exemplars %q: %s", q, r.Error)
	}
	var out []promExemplar
	for _, d := range r.Data {
		for _, e := range d.Exemplars {
			v, err := strconv.ParseFloat(e.Value, 64)
			if err != nil {
				return nil, fmt.Errorf("exemplar value %q: %w", e.Value, err)
			}
			out = append(out, promExemplar{Series: d.SeriesLabels, TraceID: e.Labels["trace_id"], SpanID: e.Labels["span_id"], Value: v})
		}
	}
	return out, nil
}

// waitValue polls the instant query q on s until it equals want, for up to 15 s (the last
// scrapes of a run), and returns the last value read.
func waitValue(t *testing.T, s *server, q string, want float64) float64 {
	t.Helper()
	var got float64
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		var ok bool
		if got, ok = promValueAt(t, s, q, time.Time{}); ok && got == want {
			break
		}
	}
	return got
}
