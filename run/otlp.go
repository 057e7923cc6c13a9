package run

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/otlp"
	"github.com/loadplan/loadplan/plan"
)

// otlpOutput builds the exporter of client spans that the plan's `tracing { otlp_endpoint = … }`
// asks for (outputs/otlp); nil when the plan sets no endpoint. It is not an `output` block: the
// tracing block configures it, and it is fed, started and stopped like every output, so its
// drops reach the summary as InfluxDB's do.
func otlpOutput(p *plan.Plan, cfg Config, opts outputs.Options) (outputs.Output, error) {
	tr := p.Tracing
	if tr == nil || tr.OTLPEndpoint == "" {
		return nil, nil
	}
	headers := make(map[string]string, len(tr.OTLPHeaders))
	for _, kv := range tr.OTLPHeaders {
		v, err := kv.Value.String(nil) // constant: plan folds otlp_headers at load
		if err != nil {
			return nil, fmt.Errorf("tracing: otlp_headers %q: %w", kv.Name, err)
		}
		headers[kv.Name] = v
	}
	servers := make(map[string]otlp.Server, len(p.Targets))
	for _, t := range p.Targets {
		if t.Sensitive {
			continue // a secret base URL is not shown, not even as a span attribute
		}
		u, err := url.Parse(t.BaseURL)
		if err != nil || u.Hostname() == "" {
			continue
		}
		port, _ := strconv.Atoi(u.Port())
		if port == 0 {
			port = map[string]int{"http": 80, "ws": 80, "https": 443, "wss": 443}[u.Scheme]
		}
		servers[t.Name] = otlp.Server{Address: u.Hostname(), Port: port}
	}
	o, err := otlp.New(otlp.Config{Endpoint: tr.OTLPEndpoint, EndpointSecret: tr.OTLPSensitive, Headers: headers, Run: cfg.Name, Servers: servers,
		Version: cfg.Version}, opts)
	if err != nil {
		return nil, err
	}
	return o, nil
}
