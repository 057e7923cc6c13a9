// Package registry lists the output kinds loadplan ships, and is the one place that turns an
// `output` block or an `--out` flag into a running output: plan decodes and checks blocks against
// the kinds' schemas (Schemas, handed in through plan.Options), and Build calls the kind's
// constructor. A new output kind is its own package exporting an outputs.Kind, plus one line in
// Default.
//
// It is the only package under outputs that imports the output kinds; none of them imports it.
package registry

import (
	"fmt"
	"strings"

	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/csv"
	"github.com/loadplan/loadplan/outputs/influxdb"
	"github.com/loadplan/loadplan/outputs/jsonl"
	"github.com/loadplan/loadplan/outputs/prometheus"
	"github.com/loadplan/loadplan/plan"
)

// Registry is a list of output kinds, in the order messages name them.
type Registry []outputs.Kind

// Default is loadplan's output kinds.
var Default = Registry{
	csv.Kind,
	jsonl.Kind,
	prometheus.Kind,
	influxdb.Kind,
	prometheus.RemoteWriteKind,
}

// Schemas returns the kinds' schemas, for plan.Options.Outputs.
func (r Registry) Schemas() []*plan.OutputSchema {
	out := make([]*plan.OutputSchema, len(r))
	for i, k := range r {
		out[i] = k.Schema
	}
	return out
}

// Kind returns the kind called name (or one of its aliases).
func (r Registry) Kind(name string) (outputs.Kind, bool) {
	for _, k := range r {
		if k.Schema.Kind == name {
			return k, true
		}
		for _, a := range k.Aliases {
			if a == name {
				return k, true
			}
		}
	}
	return outputs.Kind{}, false
}

// Names returns the kinds' names, in order.
func (r Registry) Names() []string {
	out := make([]string, len(r))
	for i, k := range r {
		out[i] = k.Schema.Kind
	}
	return out
}

// Flag turns `--out KIND[=VALUE]` into an output block, as k6's --out does. The block has no
// source position; Build fills its defaults.
func (r Registry) Flag(spec string) (*plan.OutputBlock, error) {
	name, val, _ := strings.Cut(spec, "=")
	k, ok := r.Kind(name)
	if !ok {
		return nil, fmt.Errorf("--out %q: unknown output kind %q; use %s", spec, name, orList(r.Names()))
	}
	b := &plan.OutputBlock{Kind: k.Schema.Kind}
	if k.Flag != nil {
		if err := k.Flag(val, b); err != nil {
			return nil, fmt.Errorf("--out %s %w", name, err)
		}
	}
	return b, nil
}

// Build fills b's defaults and builds its output, which has not started. A block from plan.Load
// was checked there; the constructor checks again what a flag may have set.
func (r Registry) Build(b *plan.OutputBlock, opts outputs.Options) (outputs.Output, error) {
	k, ok := r.Kind(b.Kind)
	if !ok {
		return nil, fmt.Errorf("unknown output kind %q", b.Kind)
	}
	k.Schema.FillDefaults(b)
	return k.New(b, opts)
}

// Files is how many file descriptors the output of b holds at once (Kind.Files; 1 when the kind
// does not say, or is unknown), for the open-file check made before a run.
func (r Registry) Files(b *plan.OutputBlock) int {
	if k, ok := r.Kind(b.Kind); ok && k.Files != nil {
		return k.Files(b)
	}
	return 1
}

// orList renders names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
