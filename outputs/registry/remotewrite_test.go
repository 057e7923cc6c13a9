package registry_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/prometheus"
	"github.com/loadplan/loadplan/outputs/registry"
	"github.com/loadplan/loadplan/plan"
)

const rwPlan = `target "api" {
  base_url = "http://127.0.0.1:8000"
}
scenario "rest" {
  http "health" { path = "/api/health" }
}
output "prometheus_remote_write" {
  %s
}
`

// TestRemoteWriteBlock: the block decodes to its Config with the defaults; headers read from
// env() stay secret (never shown); bad values are diagnosed at their positions.
func TestRemoteWriteBlock(t *testing.T) {
	opts := plan.Options{Outputs: registry.Default.Schemas(), Env: map[string]string{"RW_TOKEN": "s3cret-token"}}
	p, diags := plan.LoadSource("t.hcl", fmt.Appendf(nil, rwPlan, `url = "http://127.0.0.1:9009/api/v1/push"
  headers = { Authorization = "Bearer ${env("RW_TOKEN")}", "X-Scope-OrgID" = "team" }
  native_histograms = false`), opts)
	if diags.HasErrors() {
		t.Fatal(render(diags))
	}
	eq(t, "config", prometheus.RemoteWriteConfigOf(p.Outputs[0]), prometheus.RemoteWriteConfig{
		URL: "http://127.0.0.1:9009/api/v1/push", Interval: prometheus.DefaultRemoteWriteInterval,
		Headers:      map[string]string{"Authorization": "Bearer s3cret-token", "X-Scope-OrgID": "team"},
		FlushTimeout: prometheus.DefaultFlushTimeout})
	if h := p.Outputs[0].Attr("headers"); !h.Secret || h.Shown() != plan.Hidden {
		t.Errorf("headers: Secret %v, shown as %s", h.Secret, h.Shown())
	}
	for body, want := range map[string]string{
		`url = "ftp://x"`: "t.hcl:8:9: Invalid URL\n    url must be an http(s) URL such as \"http://127.0.0.1:8086\".\n",
		`url = "http://127.0.0.1:1/w"` + "\n  interval = \"0s\"": "t.hcl:9:14: Invalid interval\n    interval must be longer than 0, e.g. \"5s\".\n",
		`url = "http://127.0.0.1:1/w"` + "\n  headers = { \"a b\" = \"1\" }": "t.hcl:9:13: Invalid header name\n" +
			"    \"a b\" is not an HTTP header name; write e.g. { Authorization = \"Bearer ...\" }.\n",
		`url = "http://127.0.0.1:1/w"` + "\n  headers = \"Bearer x\"": "t.hcl:9:13: Incorrect attribute value type\n" +
			"    headers must be map of string; got string. Write an object of strings, e.g. { team = \"payments\" }.\n",
	} {
		_, diags := plan.LoadSource("t.hcl", fmt.Appendf(nil, rwPlan, body), opts)
		if got := render(diags); got != want {
			t.Errorf("%s:\n got %q\nwant %q", body, got, want)
		}
	}
	if strings.Contains(render(diags), "s3cret") {
		t.Error("a diagnostic shows the token")
	}
}

// TestRemoteWriteFlag: --out prometheus_remote_write=URL builds the output with the defaults,
// and without a URL says how to write it.
func TestRemoteWriteFlag(t *testing.T) {
	b, err := registry.Default.Flag("prometheus_remote_write=http://127.0.0.1:9090/api/v1/write")
	if err != nil {
		t.Fatal(err)
	}
	o, err := registry.Default.Build(b, outputs.Options{PlanName: "t"})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "name", o.Name(), "prometheus_remote_write")
	eq(t, "config", prometheus.RemoteWriteConfigOf(b), prometheus.RemoteWriteConfig{URL: "http://127.0.0.1:9090/api/v1/write",
		Interval: 5 * time.Second, NativeHistograms: true, FlushTimeout: 10 * time.Second})
	if _, ok := o.(outputs.SeriesOutput); !ok {
		t.Error("the output is not fed aggregates")
	}
	if _, ok := o.(outputs.Dropper); !ok {
		t.Error("the output's drops do not reach the summary")
	}
	eq(t, "files", registry.Default.Files(b), 2)
	_, err = registry.Default.Flag("prometheus_remote_write")
	eq(t, "no URL", fmt.Sprint(err), "--out prometheus_remote_write needs a URL: --out prometheus_remote_write=http://127.0.0.1:9090/api/v1/write")
}
