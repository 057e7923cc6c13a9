package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// startPrometheus starts a Prometheus in root/prometheus that scrapes targets every second as
// job loadplan, with extra command-line flags.
func startPrometheus(bin, root string, targets []string, flags ...string) (*server, error) {
	return startPrometheusJobs(bin, root, map[string][]string{"loadplan": targets}, flags...)
}

// startPrometheusJobs is startPrometheus with several scrape jobs, by job name.
func startPrometheusJobs(bin, root string, jobs map[string][]string, flags ...string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, "prometheus")
	os.MkdirAll(dir, 0o755)
	cfg := `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
`
	names := make([]string, 0, len(jobs))
	for name := range jobs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		cfg += fmt.Sprintf(`  - job_name: %s
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: [%s]
`, name, quoteAll(jobs[name]))
	}
	// The Pushgateway is checked directly, not scraped: its copy of the final values would add
	// up with the scraped ones in sums over testid.
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	s, err := start("prometheus", bin, dir, addr, "/-/ready", append([]string{
		"--config.file=" + filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr, "--log.level=warn"}, flags...)...)
	if err != nil {
		return nil, err
	}
	// Ready is not scraping: target discovery hands the scrape manager its first targets after
	// about 5 s. A run started before that is not scraped until its end (the first test's run
	// then shows its whole count at once, and rate() and increase() see nothing of it). Every
	// target has been scraped once, answering or not, when it has an `up` sample.
	n := 0
	for _, targets := range jobs {
		n += len(targets)
	}
	if n == 0 { // a receiver only (remote write): nothing to wait for
		return s, nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := promQueryAt(s, "count(up)", time.Time{}, time.Time{}, 0)
		if err == nil && len(r.Data.Result) == 1 && fmt.Sprint(r.Data.Result[0].Value[1]) == fmt.Sprint(n) {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("prometheus: %d targets not all scraped after 30 s (%v)", n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// promResult is the JSON answer of the Prometheus query API.
type promResult struct {
	Status    string `json:"status"`
	Error     string `json:"error"`
	ErrorType string `json:"errorType"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  []any             `json:"value"`  // instant: [ts, "v"]
			Values [][]any           `json:"values"` // range
		} `json:"result"`
	} `json:"data"`
}

// promQuery runs an instant query at t (zero: now) or, when end is after start, a range query.
func promQuery(q string, start, end time.Time, step time.Duration) (*promResult, error) {
	return promQueryAt(env.prom, q, start, end, step)
}

// promQueryAt is promQuery against the Prometheus server s.
func promQueryAt(s *server, q string, start, end time.Time, step time.Duration) (*promResult, error) {
	v := url.Values{"query": {q}}
	path := "/api/v1/query"
	if end.After(start) {
		path = "/api/v1/query_range"
		v.Set("start", fmt.Sprintf("%.3f", float64(start.UnixNano())/1e9))
		v.Set("end", fmt.Sprintf("%.3f", float64(end.UnixNano())/1e9))
		v.Set("step", fmt.Sprintf("%gs", step.Seconds()))
	} else if !start.IsZero() {
		v.Set("time", fmt.Sprintf("%.3f", float64(start.UnixNano())/1e9))
	}
	resp, err := http.PostForm(s.url()+path, v)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r promResult
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("prometheus %q: %w", q, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("prometheus %q: %s: %s", q, r.ErrorType, r.Error)
	}
	return &r, nil
}
