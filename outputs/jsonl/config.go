package jsonl

import (
	"errors"

	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// Config is the configuration of a JSON lines output: the fields of `output "json" { ... }`.
type Config struct {
	// Path is a file (".gz" compresses) or a folder (timestamped file name); "" means results/.
	Path string
}

// Kind is the json output kind for outputs/registry: `output "json" { path = ... }` and
// `--out json=FILE` (or jsonl=FILE, as k6 names it).
var Kind = outputs.Kind{
	Schema: &plan.OutputSchema{
		Kind:  "json",
		Attrs: []plan.AttrSpec{{Name: "path", Type: plan.TypeString, Default: "results/", Show: true}},
		Check: outputs.CheckPath,
	},
	Aliases: []string{"jsonl"},
	Flag: func(value string, b *plan.OutputBlock) error {
		if value == "" {
			return errors.New("needs a file: --out json=results/run.jsonl")
		}
		b.Set("path", value)
		return nil
	},
	New: outputs.Constructor(ConfigOf, New),
}

// ConfigOf reads a decoded `output "json"` block.
func ConfigOf(b *plan.OutputBlock) Config { return Config{Path: b.String("path")} }
