package csv

import (
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// Config is the configuration of a CSV output: the fields of `output "csv" { ... }`.
type Config struct {
	// Path is a file (".gz" compresses) or a folder (timestamped file names); "" means results/.
	Path string
	// Aggregated also writes Locust-style PREFIX_stats.csv, _stats_history.csv and _failures.csv.
	Aggregated bool
}

// Kind is the csv output kind for outputs/registry: `output "csv" { path = ..., aggregated = ... }`
// and `--out csv[=FILE|FOLDER/]` (which writes the aggregated files too, as Locust's --csv does).
var Kind = outputs.Kind{
	Schema: &plan.OutputSchema{
		Kind: "csv",
		Attrs: []plan.AttrSpec{
			{Name: "path", Type: plan.TypeString, Default: DefaultFolder + "/", Show: true},
			{Name: "aggregated", Type: plan.TypeBool, Show: true},
		},
		Check: outputs.CheckPath,
	},
	Flag: func(value string, b *plan.OutputBlock) error {
		if value != "" {
			b.Set("path", value)
		}
		b.Set("aggregated", true)
		return nil
	},
	New: outputs.Constructor(ConfigOf, New),
}

// ConfigOf reads a decoded `output "csv"` block.
func ConfigOf(b *plan.OutputBlock) Config {
	return Config{Path: b.String("path"), Aggregated: b.Bool("aggregated")}
}
