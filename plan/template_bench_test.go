package plan

import (
	"testing"
)

// benchTemplates loads a plan whose http steps cover the three kinds of template: a constant URL
// (folded at load), a fast-path URL (literals and runtime references only) and a general one (a
// function called on a runtime value, evaluated by HCL per iteration), plus a per-iteration JSON body.
func benchTemplates(b *testing.B) (constant, fast, general, body *Template) {
	src := `
target "api" { base_url = "http://127.0.0.1:8080" }
scenario "s" {
  target = target.api
  http "const" { path = "/api/stocks" }
  http "fast" { path = "/api/items/${vu.id}/${iter}" }
  http "general" { path = "/api/users/${upper(scenario.name)}-${format("%05d", vu.id)}" }
  http "body" {
    method = "POST"
    path   = "/api/login"
    json   = { user = "u${vu.id}", password = "secret", iter = iter }
  }
}
load {
  vus      = 1
  duration = "1s"
}
`
	p, diags := LoadSource("bench.hcl", []byte(src), Options{})
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	st := p.Scenarios[0].Steps
	constant, fast, general, body = st[0].HTTP.URL, st[1].HTTP.URL, st[2].HTTP.URL, st[3].HTTP.JSON
	if !constant.IsConstant() || fast.IsConstant() || general.IsConstant() || body.IsConstant() {
		b.Fatalf("template kinds: constant %v fast %v general %v body %v", constant.IsConstant(), fast.IsConstant(), general.IsConstant(), body.IsConstant())
	}
	return constant, fast, general, body
}

func benchRuntime() *Runtime {
	return &Runtime{VU: 42, Iter: 7, Scenario: "s", Captures: map[string]string{}, Rows: map[string][]string{}}
}

// BenchmarkTemplateConstant is a folded constant appended into a reused buffer: no evaluation.
func BenchmarkTemplateConstant(b *testing.B) {
	c, _, _, _ := benchTemplates(b)
	rt := benchRuntime()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = c.AppendString(buf[:0], rt); err != nil {
			b.Fatal(err)
		}
	}
	if string(buf) != "http://127.0.0.1:8080/api/stocks" {
		b.Fatalf("got %q", buf)
	}
}

// BenchmarkTemplateFast is the fast path: literals, vu.id and iter appended, no HCL evaluation.
func BenchmarkTemplateFast(b *testing.B) {
	_, f, _, _ := benchTemplates(b)
	rt := benchRuntime()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = f.AppendString(buf[:0], rt); err != nil {
			b.Fatal(err)
		}
	}
	if string(buf) != "http://127.0.0.1:8080/api/items/42/7" {
		b.Fatalf("got %q", buf)
	}
}

// BenchmarkTemplateGeneral is the general path: the HCL expression evaluated with the runtime
// namespaces because it calls functions on runtime values.
func BenchmarkTemplateGeneral(b *testing.B) {
	_, _, g, _ := benchTemplates(b)
	rt := benchRuntime()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = g.AppendString(buf[:0], rt); err != nil {
			b.Fatal(err)
		}
	}
	if string(buf) != "http://127.0.0.1:8080/api/users/S-00042" {
		b.Fatalf("got %q", buf)
	}
}

// BenchmarkTemplateJSONBody is a per-iteration json body encoded per request.
func BenchmarkTemplateJSONBody(b *testing.B) {
	_, _, _, j := benchTemplates(b)
	rt := benchRuntime()
	var out []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, err = j.JSON(rt); err != nil {
			b.Fatal(err)
		}
	}
	if string(out) != `{"iter":7,"password":"secret","user":"u42"}` {
		b.Fatalf("got %s", out)
	}
}
