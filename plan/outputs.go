package plan

import (
	"net"
	"net/url"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// OutputKinds are the kinds an output block may have.
var OutputKinds = []string{"csv", "json", "prometheus", "influxdb"}

// Defaults of output blocks.
const (
	DefaultResultsDir     = "results/"
	DefaultPrometheusAddr = "127.0.0.1:9646"
	DefaultBatchSize      = 5000
	DefaultFlushInterval  = time.Second
)

var outputSchemas = map[string]*hcl.BodySchema{
	"csv":  {Attributes: []hcl.AttributeSchema{{Name: "path"}, {Name: "aggregated"}}},
	"json": {Attributes: []hcl.AttributeSchema{{Name: "path"}}},
	"prometheus": {Attributes: []hcl.AttributeSchema{
		{Name: "listen"}, {Name: "linger"}, {Name: "push_gateway"}, {Name: "testid"},
	}},
	"influxdb": {Attributes: []hcl.AttributeSchema{
		{Name: "url", Required: true}, {Name: "org"}, {Name: "bucket", Required: true}, {Name: "token"},
		{Name: "batch_size"}, {Name: "flush_interval"}, {Name: "required"}, {Name: "testid"},
	}},
}

func (l *loader) loadOutputs() {
	for _, fb := range l.blocks("output") {
		b := fb.block
		kind := b.Labels[0]
		schema := outputSchemas[kind]
		if schema == nil {
			l.errorAt(labelRange(b), "Unknown output kind", "There is no output %q.%s", kind, didYouMean(kind, OutputKinds))
			continue
		}
		content, diags := b.Body.Content(schema)
		l.add(diags)
		sc := &scope{src: fb.src, what: "an output block"}
		o := &Output{Kind: kind, Pos: posOf(b.DefRange)}
		attr := content.Attributes
		str := func(name string, dst *string) {
			a := attr[name]
			if a == nil {
				return
			}
			v, sensitive, ok := l.constantMarked(a, sc)
			if !ok {
				return
			}
			if sensitive {
				if o.Secret == nil {
					o.Secret = map[string]bool{}
				}
				o.Secret[name] = true
			}
			if v, ok = l.convertTo(a, v, cty.String, `Write it in quotes, e.g. "text".`); ok {
				*dst = v.AsString()
			}
		}
		switch kind {
		case "csv", "json":
			o.Path = DefaultResultsDir
			str("path", &o.Path)
			if a := attr["aggregated"]; a != nil {
				o.Aggregated, _ = l.boolean(a, sc)
			}
			if o.Path == "" {
				l.errorAt(attr["path"].Expr.Range(), "Empty path", "Give a file (results/run.csv) or a folder ending in / (results/).")
			}
		case "prometheus":
			o.Listen = DefaultPrometheusAddr
			str("listen", &o.Listen)
			if a := attr["listen"]; a != nil {
				if _, _, err := net.SplitHostPort(o.Listen); err != nil {
					l.errorAt(a.Expr.Range(), "Invalid listen address", "%s is not host:port; write e.g. \"127.0.0.1:9646\" or \":9646\".", quoted(o.Listen, o.Secret["listen"]))
				}
			}
			if a := attr["linger"]; a != nil {
				o.Linger, _ = l.duration(a, sc)
			}
			str("push_gateway", &o.PushGateway)
			l.checkURL(attr["push_gateway"], o.PushGateway)
			str("testid", &o.TestID)
		case "influxdb":
			o.BatchSize, o.FlushInterval, o.Required = DefaultBatchSize, DefaultFlushInterval, true
			str("url", &o.URL)
			l.checkURL(attr["url"], o.URL)
			str("org", &o.Org)
			str("bucket", &o.Bucket)
			str("token", &o.Token)
			str("testid", &o.TestID)
			if a := attr["batch_size"]; a != nil {
				o.BatchSize, _ = l.integer(a, sc, 1)
			}
			if a := attr["flush_interval"]; a != nil {
				if d, ok := l.duration(a, sc); ok && d > 0 {
					o.FlushInterval = d
				} else if ok {
					l.errorAt(a.Expr.Range(), "Invalid flush_interval", "flush_interval must be longer than 0, e.g. \"1s\".")
				}
			}
			if a := attr["required"]; a != nil {
				o.Required, _ = l.boolean(a, sc)
			}
		}
		l.plan.Outputs = append(l.plan.Outputs, o)
	}
}

func (l *loader) checkURL(a *hcl.Attribute, s string) {
	if a == nil || s == "" {
		return
	}
	if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.errorAt(a.Expr.Range(), "Invalid URL", "%s must be an http(s) URL such as \"http://127.0.0.1:8086\".", a.Name)
	}
}

// finalChecks checks the plan as a whole.
func (l *loader) finalChecks() {
	used := map[*Feeder]bool{}
	for _, sc := range l.plan.Scenarios {
		for _, f := range sc.Feeders {
			used[f] = true
		}
	}
	for _, fb := range l.blocks("data") {
		if f := l.feeders[fb.block.Labels[0]]; f != nil && !used[f] && !l.diags.HasErrors() && len(l.plan.Scenarios) > 0 {
			l.warnAt(labelRange(fb.block), "Unused data feeder",
				"No step reads data.%s.COLUMN, so its rows are never used. Use it in a step or remove the block.", f.Name)
		}
	}
	if len(l.plan.Scenarios) == 0 && !l.diags.HasErrors() {
		rng := hcl.Range{Filename: l.sources[0].name, Start: hcl.InitialPos, End: hcl.InitialPos}
		l.errorAt(rng, "No scenario", "A plan needs at least one scenario \"NAME\" { ... } block with http or websocket steps.")
	}
}
