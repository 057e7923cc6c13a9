package outputs

import (
	"fmt"
	"net/url"

	"github.com/loadplan/loadplan/plan"
)

// Kind is one output kind as outputs/registry lists it: the schema `plan` decodes and checks its
// blocks against (so `validate` reports a bad attribute at its line and column before anything
// runs), how `--out NAME=VALUE` becomes a block, and the constructor. Each output package
// exports its Kind; a new output kind is that package plus one line in the registry.
type Kind struct {
	Schema *plan.OutputSchema // Schema.Kind is the kind's name, as in `output "csv" { ... }`
	// Aliases are other names --out accepts for the kind (jsonl for json).
	Aliases []string
	// Flag sets the attributes of a block made from `--out KIND=VALUE` ("" when no = was given).
	// The error says how to write the flag.
	Flag func(value string, b *plan.OutputBlock) error
	// New builds the output from a block whose defaults are filled. Nothing is started.
	New func(b *plan.OutputBlock, opts Options) (Output, error)
}

// CheckHTTPURL is the check of an attribute that, when set, must be an http(s) URL with a host.
func CheckHTTPURL(b *plan.OutputBlock, name string) []plan.OutputProblem {
	s := b.String(name)
	if s == "" {
		return nil
	}
	if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return []plan.OutputProblem{{Attr: name, Summary: "Invalid URL",
			Detail: fmt.Sprintf("%s must be an http(s) URL such as \"http://127.0.0.1:8086\".", name)}}
	}
	return nil
}

// CheckPath is the check of a file output's path: written, it may not be empty, which names no
// file and no folder.
func CheckPath(b *plan.OutputBlock) []plan.OutputProblem {
	if a := b.Attr("path"); a != nil && a.Set && b.String("path") == "" {
		return []plan.OutputProblem{{Attr: "path", Summary: "Empty path",
			Detail: "Give a file (results/run.csv) or a folder ending in / (results/)."}}
	}
	return nil
}

// Constructor makes a Kind's New from a package's ConfigOf and New(cfg, opts): a failed New
// gives a nil Output, never a typed nil.
func Constructor[C any, O Output](configOf func(*plan.OutputBlock) C, newOutput func(C, Options) (O, error)) func(*plan.OutputBlock, Options) (Output, error) {
	return func(b *plan.OutputBlock, opts Options) (Output, error) {
		o, err := newOutput(configOf(b), opts)
		if err != nil {
			return nil, err
		}
		return o, nil
	}
}
