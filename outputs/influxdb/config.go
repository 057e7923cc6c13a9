package influxdb

import (
	"errors"
	"time"

	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// Config is the configuration of the InfluxDB output: the fields of `output "influxdb" { ... }`.
type Config struct {
	URL           string        // http(s)://host:port, optionally /DATABASE (the bucket, as k6 takes it)
	Org           string        // InfluxDB 2.x organisation
	Bucket        string        // "db/retention" for 1.8; "" means the URL's database or DefaultBucket
	Token         string        // secret: never logged, never in an error
	BatchSize     int           // points per write; 0 means DefaultBatchSize
	FlushInterval time.Duration // 0 means DefaultFlushInterval
	Required      bool          // unreachable at Start is an error (the block's default is true)
	TestID        string        // the testid tag; "" means the plan name
}

// Kind is the influxdb output kind for outputs/registry: `output "influxdb" { url = ..., bucket = ... }`
// and `--out influxdb=URL`.
var Kind = outputs.Kind{
	Schema: &plan.OutputSchema{
		Kind: "influxdb",
		Attrs: []plan.AttrSpec{
			{Name: "url", Type: plan.TypeString, Required: true, Show: true},
			{Name: "org", Type: plan.TypeString},
			{Name: "bucket", Type: plan.TypeString, Required: true, Show: true},
			{Name: "token", Type: plan.TypeString, Secret: true, Show: true},
			{Name: "batch_size", Type: plan.TypeInt, Min: 1, Default: DefaultBatchSize},
			{Name: "flush_interval", Type: plan.TypeDuration, Default: DefaultFlushInterval},
			{Name: "required", Type: plan.TypeBool, Default: true},
			{Name: "testid", Type: plan.TypeString},
		},
		Check: check,
	},
	Flag: func(value string, b *plan.OutputBlock) error {
		if value == "" {
			return errors.New("needs a URL: --out influxdb=http://127.0.0.1:8086/DATABASE")
		}
		b.Set("url", value)
		return nil
	},
	New: outputs.Constructor(ConfigOf, New),
}

// ConfigOf reads a decoded `output "influxdb"` block.
func ConfigOf(b *plan.OutputBlock) Config {
	return Config{URL: b.String("url"), Org: b.String("org"), Bucket: b.String("bucket"), Token: b.String("token"),
		BatchSize: b.Int("batch_size"), FlushInterval: b.Duration("flush_interval"), Required: b.Bool("required"),
		TestID: b.String("testid")}
}

func check(b *plan.OutputBlock) []plan.OutputProblem {
	out := outputs.CheckHTTPURL(b, "url")
	if a := b.Attr("flush_interval"); a != nil && a.Set && b.Duration("flush_interval") <= 0 {
		out = append(out, plan.OutputProblem{Attr: "flush_interval", Summary: "Invalid flush_interval",
			Detail: "flush_interval must be longer than 0, e.g. \"1s\"."})
	}
	return out
}
