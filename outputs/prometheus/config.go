package prometheus

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
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
// and `--out prometheus[=ADDR][,linger=DUR,push_gateway=URL,testid=ID]`.
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
	Flag:  parseFlag,
	New:   outputs.Constructor(ConfigOf, New),
	Files: func(*plan.OutputBlock) int { return 1 + 4 }, // the listener and a few scrapes or pushes at once
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

// flagOptions are the options `--out prometheus=…` takes after the address, as NAME=VALUE.
var flagOptions = []string{"listen", "linger", "push_gateway", "testid"}

// flagExample is what the flag's errors suggest.
const flagExample = "--out prometheus=0.0.0.0:9646,linger=15s"

// parseFlag reads the value of `--out prometheus[=ADDR][,NAME=VALUE…]` into b: a bare element is
// the listen address, the others are the block's attributes (linger, push_gateway, testid), so
// that a container can keep the last scrape (`--out prometheus=0.0.0.0:9646,linger=15s`)
// without a plan edit. No value leaves listen unset: the CLI may take LOADPLAN_PROMETHEUS_ADDR,
// else the default.
func parseFlag(value string, b *plan.OutputBlock) error {
	if value == "" {
		return nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(value, ",") {
		name, val, hasValue := strings.Cut(part, "=")
		if !hasValue {
			name, val = "listen", part
		}
		name = strings.TrimSpace(name)
		switch {
		case part == "":
			return fmt.Errorf("has an empty option in %q: separate options by one comma, e.g. %s", value, flagExample)
		case !slices.Contains(flagOptions, name):
			return fmt.Errorf("has no option %q: it takes an address and %s, e.g. %s", name, strings.Join(flagOptions[1:], "=…, ")+"=…", flagExample)
		case seen[name]:
			return fmt.Errorf("has %s twice in %q: give it once", name, value)
		case val == "":
			return fmt.Errorf("option %s has no value: write %s=VALUE, e.g. %s", name, name, flagExample)
		}
		seen[name] = true
		switch name {
		case "listen":
			if _, _, err := net.SplitHostPort(val); err != nil {
				return fmt.Errorf("listen address %q is not host:port: write e.g. 127.0.0.1:9646 or :9646", val)
			}
			b.Set(name, val)
		case "linger":
			d, err := time.ParseDuration(val)
			if err != nil || d < 0 {
				return fmt.Errorf("linger %q is not a duration of 0 or more: write e.g. linger=15s", val)
			}
			b.Set(name, d)
		case "push_gateway":
			if u, err := url.Parse(val); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("push_gateway %q is not an http(s) URL: write e.g. push_gateway=http://127.0.0.1:9091", val)
			}
			b.Set(name, val)
		default:
			b.Set(name, val)
		}
	}
	return nil
}
