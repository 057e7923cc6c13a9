package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
)

// tailPlan: 100 iterations/s of one request for 3 s, every one sampled.
const tailPlan = `
variable "host" {
  type = string
}

tracing {
  sampling = 1
}

target "api" {
  base_url = var.host
}

scenario "tail" {
  target = target.api
  http "get" {
    path = "/api/stocks/AAPL"
  }
}

load {
  model             = "arrival_rate"
  rate              = 100
  duration          = "3s"
  pre_allocated_vus = 20
}
`

// allCounted matches an exposition whose request count is the run's 300.
var allCounted = regexp.MustCompile(`(?m)^loadplan_http_reqs_total\{[^}]*\} 300(\.0)?$`)

// bucketExemplarRE finds an exposed bucket's exemplar: le, then trace_id.
var bucketExemplarRE = regexp.MustCompile(`loadplan_http_req_duration_seconds_bucket\{[^}]*le="([^"]+)"\} \d+ # \{trace_id="([0-9a-f]{32})"`)

// TestTraceE2ETailRequestKeepsItsExemplar: a server answers at once except its 50th request of
// every hundred, which it holds 150 ms (a p99 outlier); loadplan samples every trace. The
// exemplar loadplan exposes on that latency's bucket (le=0.25) is the last slow request's trace,
// as the server received it — not lost to the dozen fast requests that end in the same 250 ms
// aggregation (the latest-wins rule of metrics.Series.Exemplar lost it: no exemplar at all
// there).
func TestTraceE2ETailRequestKeepsItsExemplar(t *testing.T) {
	bin := testkit.Binary(t)
	var n atomic.Int64
	var mu sync.Mutex
	var slow []string // traceparents of the slow requests, in order
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%100 == 50 {
			mu.Lock()
			slow = append(slow, r.Header.Get("traceparent"))
			mu.Unlock()
			time.Sleep(150 * time.Millisecond)
		}
	}))
	defer srv.Close()
	scrape, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(t.TempDir(), "tail.hcl")
	if err := os.WriteFile(planFile, []byte(tailPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	// The context ends loadplan's linger once the test has scraped.
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "apply", "--quiet", "-var", "host="+srv.URL, "--out", "prometheus="+scrape+",linger=10s", planFile)
	done := make(chan struct{})
	var code int
	var out string
	go func() { defer close(done); code, out = runCmd(cmd) }()
	defer func() { cancel(); <-done }()

	// Scrape during the linger: once the server has had all 300 requests and loadplan's count
	// says so.
	var text string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no complete exposition within 30 s (server saw %d requests):\n%s", n.Load(), text)
		}
		select {
		case <-done:
			t.Fatalf("loadplan ended (exit %d) before the scrape:\n%s", code, out)
		default:
		}
		text = scrapeOpenMetrics(scrape)
		if n.Load() == 300 && allCounted.MatchString(text) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(slow) != 3 {
		t.Fatalf("the server held %d requests, want 3 of 300", len(slow))
	}
	m := traceparentRE.FindStringSubmatch(slow[2])
	if m == nil {
		t.Fatalf("the last slow request's traceparent %q is not valid", slow[2])
	}
	byLE := map[string][]string{}
	for _, e := range bucketExemplarRE.FindAllStringSubmatch(text, -1) {
		byLE[e[1]] = append(byLE[e[1]], e[2])
	}
	if got := byLE["0.25"]; !slices.Equal(got, []string{m[1]}) {
		t.Errorf("the le=0.25 bucket's exemplar is %q, want the last slow request's trace %s (exemplars by bucket: %v)", got, m[1], byLE)
	}
	t.Logf("server: 300 requests, 3 held 150 ms; exemplars by bucket: %v", byLE)
}

// scrapeOpenMetrics returns the OpenMetrics exposition at addr, "" when it did not answer.
func scrapeOpenMetrics(addr string) string {
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/metrics", addr), nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
