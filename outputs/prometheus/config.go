package prometheus

import (
	"fmt"
	"net"
	"time"

	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// Config is the configuration of the Prometheus output: the fields of `output "prometheus" { ... }`.
type Config struct {
	Listen      string        // listen address; "" means DefaultListen
	Linger      time.Duration // keep serving this long after the run, for a last scrape
	PushGateway string        // when set, push the final values to this Pushgateway URL
	TestID      string        // the testid label; "" means the plan name
}

// Kind is the prometheus output kind for outputs/registry: `output "prometheus" { listen = ... }`
// and `--out prometheus[=ADDR]`.
var Kind = outputs.Kind{
	Schema: &plan.OutputSchema{
		Kind: "prometheus",
		Attrs: []plan.AttrSpec{
			{Name: "listen", Type: plan.TypeString, Default: DefaultListen, Show: true},
			{Name: "linger", Type: plan.TypeDuration},
			{Name: "push_gateway", Type: plan.TypeString, Show: true},
			{Name: "testid", Type: plan.TypeString},
		},
		Check: check,
	},
	Flag: func(value string, b *plan.OutputBlock) error {
		if value != "" { // no value: the CLI may take LOADPLAN_PROMETHEUS_ADDR, else the default
			b.Set("listen", value)
		}
		return nil
	},
	New: outputs.Constructor(ConfigOf, New),
}

// ConfigOf reads a decoded `output "prometheus"` block.
func ConfigOf(b *plan.OutputBlock) Config {
	return Config{Listen: b.String("listen"), Linger: b.Duration("linger"), PushGateway: b.String("push_gateway"),
		TestID: b.String("testid")}
}

func check(b *plan.OutputBlock) []plan.OutputProblem {
	var out []plan.OutputProblem
	if a := b.Attr("listen"); a != nil && a.Set {
		if _, _, err := net.SplitHostPort(b.String("listen")); err != nil {
			out = append(out, plan.OutputProblem{Attr: "listen", Summary: "Invalid listen address",
				Detail: fmt.Sprintf("%s is not host:port; write e.g. \"127.0.0.1:9646\" or \":9646\".", a.Shown())})
		}
	}
	return append(out, outputs.CheckHTTPURL(b, "push_gateway")...)
}
