package registry_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/csv"
	"github.com/loadplan/loadplan/outputs/influxdb"
	"github.com/loadplan/loadplan/outputs/jsonl"
	"github.com/loadplan/loadplan/outputs/prometheus"
	"github.com/loadplan/loadplan/outputs/registry"
	"github.com/loadplan/loadplan/plan"
)

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// render is the golden files' rendering: file:line:col, severity, summary, then the detail.
func render(diags hcl.Diagnostics) string {
	var sb strings.Builder
	for _, d := range diags {
		pos := "-"
		if d.Subject != nil {
			pos = fmt.Sprintf("%s:%d:%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		fmt.Fprintf(&sb, "%s: %s\n    %s\n", pos, d.Summary, d.Detail)
	}
	return sb.String()
}

// TestFullPlanOutputs loads plan's full fixture with the registry's schemas: every output block
// decodes to its kind's Config, with the kind's defaults, and the env() token stays secret.
func TestFullPlanOutputs(t *testing.T) {
	p, diags := plan.LoadPlan([]string{"../../plan/testdata/valid/full.hcl"}, plan.Options{
		Env: map[string]string{"LOADPLAN_TEST_INFLUX": "s3cret"}, Outputs: registry.Default.Schemas()})
	if diags.HasErrors() {
		t.Fatal(render(diags))
	}
	eq(t, "len(Outputs)", len(p.Outputs), 4)
	eq(t, "csv", csv.ConfigOf(p.Outputs[0]), csv.Config{Path: "results/run.csv.gz", Aggregated: true, Layout: csv.LayoutCompact})
	eq(t, "prometheus", prometheus.ConfigOf(p.Outputs[1]), prometheus.Config{Listen: "127.0.0.1:0", Linger: 5 * time.Second, TestID: "t1"})
	eq(t, "influxdb", influxdb.ConfigOf(p.Outputs[2]), influxdb.Config{URL: "http://127.0.0.1:8086", Bucket: "db/rp", Token: "s3cret",
		BatchSize: 100, FlushInterval: 2 * time.Second, Required: false})
	eq(t, "json", jsonl.ConfigOf(p.Outputs[3]), jsonl.Config{Path: "results/"})
	for _, o := range p.Outputs {
		for _, a := range o.Attrs {
			if secret := a.Name == "token"; a.Secret != secret {
				t.Errorf("%s.%s: Secret = %v, want %v", o.Kind, a.Name, a.Secret, secret)
			}
		}
	}
	if tok := p.Outputs[2].Attr("token"); tok.Shown() != plan.Hidden {
		t.Errorf("the token is shown as %s", tok.Shown())
	}
	// A default is filled, not set: `loadplan plan` shows it, and it points at the block.
	if l := p.Outputs[1].Attr("listen"); !l.Set {
		t.Error("listen is written in the fixture")
	}
	if d := p.Outputs[2].Attr("required"); d == nil || !d.Set || d.Value != false {
		t.Errorf("required = %+v", d)
	}
	if j := p.Outputs[3].Attr("path"); j == nil || j.Set || j.Pos != p.Outputs[3].Pos {
		t.Errorf("json path default = %+v", j)
	}
}

// TestFlag: `--out KIND[=VALUE]` becomes a block of the kind through the same registry, with
// the messages the CLI prints for a flag written wrong.
func TestFlag(t *testing.T) {
	for _, c := range []struct {
		spec, kind string
		attrs      map[string]any
		err        string
	}{
		{spec: "csv", kind: "csv", attrs: map[string]any{"aggregated": true}},
		{spec: "csv=results/x.csv", kind: "csv", attrs: map[string]any{"path": "results/x.csv", "aggregated": true}},
		{spec: "json=r.jsonl", kind: "json", attrs: map[string]any{"path": "r.jsonl"}},
		{spec: "jsonl=r.jsonl", kind: "json", attrs: map[string]any{"path": "r.jsonl"}},
		{spec: "prometheus", kind: "prometheus", attrs: map[string]any{}},
		{spec: "prometheus=:9999", kind: "prometheus", attrs: map[string]any{"listen": ":9999"}},
		{spec: "influxdb=http://127.0.0.1:8086/k6", kind: "influxdb", attrs: map[string]any{"url": "http://127.0.0.1:8086/k6"}},
		{spec: "json", err: "--out json needs a file: --out json=results/run.jsonl"},
		{spec: "jsonl", err: "--out jsonl needs a file: --out json=results/run.jsonl"},
		{spec: "influxdb", err: "--out influxdb needs a URL: --out influxdb=http://127.0.0.1:8086/DATABASE"},
		{spec: "carrier-pigeon", err: `--out "carrier-pigeon": unknown output kind "carrier-pigeon"; use csv, json, prometheus, influxdb or prometheus_remote_write`},
	} {
		b, err := registry.Default.Flag(c.spec)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("Flag(%q) error = %v, want %q", c.spec, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Flag(%q): %v", c.spec, err)
			continue
		}
		got := map[string]any{}
		for _, a := range b.Attrs {
			got[a.Name] = a.Value
		}
		eq(t, c.spec+" kind", b.Kind, c.kind)
		eq(t, c.spec+" attrs", got, c.attrs)
	}
}

// TestBuild: Build fills the kind's defaults before its constructor runs, and refuses a kind the
// registry does not hold.
func TestBuild(t *testing.T) {
	b, err := registry.Default.Flag("influxdb=http://127.0.0.1:1/k6")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.Default.Build(b, outputs.Options{PlanName: "t"}); err != nil {
		t.Fatal(err)
	}
	eq(t, "influxdb defaults", influxdb.ConfigOf(b), influxdb.Config{URL: "http://127.0.0.1:1/k6", BatchSize: influxdb.DefaultBatchSize,
		FlushInterval: influxdb.DefaultFlushInterval, Required: true})
	if _, err := registry.Default.Build(&plan.OutputBlock{Kind: "carrier-pigeon"}, outputs.Options{}); err == nil {
		t.Error("Build accepted an unknown kind")
	}
	// The descriptors each output holds, for apply's open-file check.
	for spec, files := range map[string]int{"csv=a.csv": 4, "json=a.jsonl": 1, "prometheus": 5, "influxdb=http://127.0.0.1:1": 2} {
		b, err := registry.Default.Flag(spec)
		if err != nil {
			t.Fatal(err)
		}
		eq(t, spec+" files", registry.Default.Files(b), files)
	}
	csvBlock := &plan.OutputBlock{Kind: "csv"}
	eq(t, "csv without aggregated files", registry.Default.Files(csvBlock), 1)
	want := []string{"csv", "json", "prometheus", "influxdb", "prometheus_remote_write"}
	eq(t, "Names", registry.Default.Names(), want)
	for i, s := range registry.Default.Schemas() {
		eq(t, "Schemas kind", s.Kind, want[i])
	}
}

// counter is a test-only output kind: it counts the samples it is given.
type counter struct {
	name    string
	samples *atomic.Int64
}

func (c *counter) Name() string                   { return "count:" + c.name }
func (c *counter) Start(context.Context) error    { return nil }
func (c *counter) Emit(batch []metrics.Sample)    { c.samples.Add(int64(len(batch))) }
func (c *counter) Stop(ctx context.Context) error { return nil }

// countKind is everything a new output kind declares; the registry line is the append below.
func countKind(samples *atomic.Int64) outputs.Kind {
	return outputs.Kind{
		Schema: &plan.OutputSchema{
			Kind: "count",
			Attrs: []plan.AttrSpec{
				{Name: "name", Type: plan.TypeString, Required: true, Show: true},
				{Name: "every", Type: plan.TypeInt, Min: 1, Default: 1},
			},
			Check: func(b *plan.OutputBlock) []plan.OutputProblem {
				if b.String("name") == "nobody" {
					return []plan.OutputProblem{{Attr: "name", Summary: "Reserved name", Detail: "Call it something else."}}
				}
				return nil
			},
		},
		Flag: func(value string, b *plan.OutputBlock) error { b.Set("name", value); return nil },
		New: func(b *plan.OutputBlock, _ outputs.Options) (outputs.Output, error) {
			return &counter{name: b.String("name"), samples: samples}, nil
		},
	}
}

const countPlan = `target "api" {
  base_url = "http://127.0.0.1:8000"
}
scenario "rest" {
  http "health" { path = "/api/health" }
}
output "count" {
  %s
}
`

// TestNewKindIsOneLine: a kind declared in its own package (here, this test) and appended to
// the registry is checked by plan at its positions, reachable from --out, and receives every
// sample the Manager is given.
func TestNewKindIsOneLine(t *testing.T) {
	var samples atomic.Int64
	reg := append(slices.Clone(registry.Default), countKind(&samples))

	for body, want := range map[string]string{
		`name = "nobody"`:              "t.hcl:8:10: Reserved name\n    Call it something else.\n",
		`name = "a"` + "\n  every = 0": "t.hcl:9:11: Value out of range\n    every must be at least 1; got 0.\n",
		`nme = "a"`: "t.hcl:7:16: Missing required argument\n    The argument \"name\" is required, but no definition was found.\n" +
			"t.hcl:8:3: Unsupported argument\n    An argument named \"nme\" is not expected here. Did you mean \"name\"?\n",
	} {
		_, diags := plan.LoadSource("t.hcl", fmt.Appendf(nil, countPlan, body), plan.Options{Outputs: reg.Schemas()})
		eq(t, body, render(diags), want)
	}
	// The shipped registry does not know it.
	_, diags := plan.LoadSource("t.hcl", fmt.Appendf(nil, countPlan, `name = "a"`), plan.Options{Outputs: registry.Default.Schemas()})
	eq(t, "default registry", render(diags), "t.hcl:7:8: Unknown output kind\n    There is no output \"count\". Valid values: \"csv\", \"json\", \"prometheus\", \"influxdb\" or \"prometheus_remote_write\".\n")

	p, diags := plan.LoadSource("t.hcl", fmt.Appendf(nil, countPlan, `name = "a"`), plan.Options{Outputs: reg.Schemas()})
	if diags.HasErrors() {
		t.Fatal(render(diags))
	}
	eq(t, "every (default)", p.Outputs[0].Int("every"), 1)
	flagged, err := reg.Flag("count=b")
	if err != nil {
		t.Fatal(err)
	}
	var outs []outputs.Output
	for _, b := range append(p.Outputs, flagged) {
		o, err := reg.Build(b, outputs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, o)
	}
	eq(t, "names", []string{outs[0].Name(), outs[1].Name()}, []string{"count:a", "count:b"})
	m := outputs.NewManager(outs...)
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	pushed := 0
	for i := range 50 {
		batch := make([]metrics.Sample, i%7+1)
		pushed += len(batch)
		m.Push(batch)
	}
	if err := m.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	eq(t, "samples counted by both outputs", samples.Load(), int64(2*pushed))
}
