package integration

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// TestEveryDashboardQueryReturnsData runs every panel query and every variable query of both
// dashboards against the real Prometheus and InfluxDB after the shared run, with Grafana's
// variables substituted the way Grafana would, and requires at least one real value from each:
// no panel may silently show "No data".
func TestEveryDashboardQueryReturnsData(t *testing.T) {
	r := sharedRun(t)
	// Make sure Prometheus has ingested the final scrape before querying ranges.
	if _, err := pollProm(fmt.Sprintf(`sum(max_over_time(loadplan_http_reqs_total{testid=%q}[10m]))`, r.testID), r.count(metrics.HTTPReqs)); err != nil {
		t.Fatal(err)
	}
	from, to := r.start.Add(-2*time.Second), r.end.Add(4*time.Second)
	rangeSecs := int(math.Ceil(to.Sub(from).Seconds()))

	t.Run("prometheus", func(t *testing.T) {
		d, err := loadDashboard(filepath.Join(dashboardsDir, "loadplan-prometheus.json"))
		if err != nil {
			t.Fatal(err)
		}
		sub := strings.NewReplacer(
			"$testid", regexp.QuoteMeta(r.testID), "$scenario", ".*",
			"$__rate_interval", "4s", "$__interval", "1s", "$__range", fmt.Sprintf("%ds", rangeSecs))
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			q, _ := v.QueryText()
			vals, err := promLabelValues(sub.Replace(q), from, to)
			if err != nil {
				t.Errorf("variable %s: %v", v.Name, err)
				continue
			}
			want := map[string]string{"testid": r.testID, "scenario": "rest"}[v.Name]
			if !contains(vals, want) {
				t.Errorf("variable %s (%s) = %v, want it to include %q", v.Name, q, vals, want)
			}
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				q := sub.Replace(tg.Expr)
				var res *promResult
				if tg.Instant != nil && *tg.Instant {
					res, err = promQuery(q, to, time.Time{}, 0)
				} else {
					res, err = promQuery(q, from, to, time.Second)
				}
				if err != nil {
					t.Errorf("panel %q %s: %v", p.Title, tg.RefID, err)
					continue
				}
				if !promHasValue(res) {
					t.Errorf("panel %q %s: no data for %s", p.Title, tg.RefID, q)
				}
			}
		}
	})

	t.Run("influxdb", func(t *testing.T) {
		d, err := loadDashboard(filepath.Join(dashboardsDir, "loadplan-influxdb.json"))
		if err != nil {
			t.Fatal(err)
		}
		sub := strings.NewReplacer(
			"$testid", regexp.QuoteMeta(r.testID), "$scenario", ".*",
			"$timeFilter", fmt.Sprintf("time >= %dms and time <= %dms", from.UnixMilli(), to.UnixMilli()),
			"$__interval_ms", "1000", "$__interval", "1s")
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			q, _ := v.QueryText()
			res, err := influxQuery(env.influx, sub.Replace(q))
			if err != nil {
				t.Errorf("variable %s: %v", v.Name, err)
				continue
			}
			var vals []string
			for _, s := range res.Results[0].Series {
				for _, row := range s.Values {
					vals = append(vals, fmt.Sprint(row[len(row)-1]))
				}
			}
			want := map[string]string{"testid": r.testID, "scenario": "rest"}[v.Name]
			if !contains(vals, want) {
				t.Errorf("variable %s (%s) = %v, want it to include %q", v.Name, q, vals, want)
			}
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				q := sub.Replace(tg.Query)
				res, err := influxQuery(env.influx, q)
				if err != nil {
					t.Errorf("panel %q %s: %v", p.Title, tg.RefID, err)
					continue
				}
				if !influxHasValue(res) {
					t.Errorf("panel %q %s: no data for %s", p.Title, tg.RefID, q)
				}
			}
		}
	})
}

func contains(vals []string, want string) bool {
	for _, v := range vals {
		if v == want {
			return true
		}
	}
	return false
}

var labelValuesRE = regexp.MustCompile(`^label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)$`)

// promLabelValues evaluates Grafana's label_values(selector, label) with the label values API.
func promLabelValues(q string, from, to time.Time) ([]string, error) {
	m := labelValuesRE.FindStringSubmatch(strings.TrimSpace(q))
	if m == nil {
		return nil, fmt.Errorf("not a label_values query: %s", q)
	}
	v := url.Values{"match[]": {m[1]}, "start": {strconv.FormatInt(from.Unix(), 10)}, "end": {strconv.FormatInt(to.Unix()+1, 10)}}
	resp, err := http.Get(env.prom.url() + "/api/v1/label/" + m[2] + "/values?" + v.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Status string   `json:"status"`
		Error  string   `json:"error"`
		Data   []string `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	if out.Status != "success" {
		return nil, fmt.Errorf("%s: %s", q, out.Error)
	}
	return out.Data, nil
}

// promHasValue reports whether a result holds at least one number that is not NaN.
func promHasValue(r *promResult) bool {
	for _, s := range r.Data.Result {
		pairs := s.Values
		if s.Value != nil {
			pairs = append(pairs, s.Value)
		}
		for _, p := range pairs {
			if len(p) == 2 {
				if f, err := strconv.ParseFloat(fmt.Sprint(p[1]), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
					return true
				}
			}
		}
	}
	return false
}

// influxHasValue reports whether a result holds at least one non-null value besides the time.
func influxHasValue(r *influxResult) bool {
	for _, res := range r.Results {
		for _, s := range res.Series {
			for _, row := range s.Values {
				for i, v := range row {
					if i < len(s.Columns) && s.Columns[i] == "time" {
						continue
					}
					if v != nil {
						return true
					}
				}
			}
		}
	}
	return false
}
