package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
)

// TestApplyDemoSameNumbersEverywhere is the user's path from the issue, through the binary:
// `loadplan apply --demo plans/smoke.hcl --out prometheus=… --out influxdb=… --out csv=DIR/`,
// with no linger configured. The terminal summary's http_reqs (its JSON export), Prometheus
// (which scraped the run; Stop waits for its final scrape), InfluxDB and the CSV file agree.
func TestApplyDemoSameNumbersEverywhere(t *testing.T) {
	need(t, env.prom, env.influx)
	bin := testkit.Binary(t)
	dir := t.TempDir()
	// A copy of plans/smoke.hcl under a unique name: the name is the default testid, which
	// keeps this run's series apart from any earlier run's (go test -count=N).
	src, err := os.ReadFile(filepath.Join(repoRoot, "plans", "smoke.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("smoke%d", time.Now().UnixNano())
	planPath := filepath.Join(dir, name+".hcl")
	if err := os.WriteFile(planPath, src, 0o644); err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(dir, "summary.json")
	code, out := apply(t, exec.Command(bin, "apply", "--demo", "--quiet", "--duration", "6s", "--summary-export", export,
		"--out", "prometheus="+env.promTarget, "--out", "influxdb="+env.influx.url()+"/"+influxDB,
		"--out", "csv="+filepath.Join(dir, "results")+"/", planPath))
	if code != 0 && code != 99 { // 99: a threshold of the plan failed on a loaded machine; the numbers still count
		t.Fatalf("exit %d:\n%s", code, out)
	}
	want := exportedCount(t, export, "http_reqs")
	if want < 5 {
		t.Fatalf("summary http_reqs %v:\n%s", want, out)
	}

	if got, err := pollProm(fmt.Sprintf(`sum(max_over_time(loadplan_http_reqs_total{testid=%q}[10m]))`, name), want); err != nil || got != want {
		t.Errorf("prometheus http_reqs %v (%v), summary %v", got, err, want)
	}
	res, err := influxQuery(env.influx, fmt.Sprintf(`SELECT sum("value") FROM "http_reqs" WHERE "testid" = '%s'`, name))
	if err != nil {
		t.Fatal(err)
	}
	if !influxHasValue(res) || res.Results[0].Series[0].Values[0][1] != want {
		t.Errorf("influxdb http_reqs %+v, summary %v", res.Results, want)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "results", name+"-*.csv"))
	var raw string
	for _, f := range files {
		if m, _ := filepath.Match(name+"-*_*.csv", filepath.Base(f)); !m {
			raw = f
		}
	}
	if n, err := countCSV(raw, "http_reqs"); err != nil || float64(n) != want {
		t.Errorf("csv %s: %d http_reqs rows (%v), summary %v", raw, n, err, want)
	}
	t.Logf("http_reqs = %v in the summary, Prometheus, InfluxDB and %s", want, filepath.Base(raw))
}
