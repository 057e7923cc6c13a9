package plan

import (
	"reflect"
	"strings"
	"testing"
)

const tracingPlan = `
tracing {
  propagator    = "w3c"
  sampling      = 0.1
  baggage       = ["step", "run", "scenario"]
  otlp_endpoint = "http://127.0.0.1:4318/v1/traces"
  otlp_headers  = { Authorization = "Bearer ${env("OTLP_TOKEN")}", X-Scope = "team" }
}
target "api" {
  base_url = "http://127.0.0.1:8000"
}
target "old" {
  base_url = "http://127.0.0.1:8001"
  tracing {
    propagator = "b3"
  }
}
target "quiet" {
  base_url = "http://127.0.0.1:8002"
  tracing {
    propagator = "none"
  }
}
scenario "s" {
  target = target.api
  http "a" {
    path = "/"
  }
}
load {
  stage {
    duration = "1s"
    target   = 1
  }
}
`

// TestTracingBlock: the plan's block is decoded with baggage in the header's order, a target's
// override keeps what it does not set, "none" turns tracing off for its target, and the OTLP
// header from env() is marked sensitive and never shown.
func TestTracingBlock(t *testing.T) {
	p, diags := LoadSource("t.hcl", []byte(tracingPlan), Options{Env: map[string]string{"OTLP_TOKEN": "tok-SECRET"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tr := p.Tracing
	if tr == nil || tr.Propagator != "w3c" || tr.Sampling != 0.1 || tr.OTLPEndpoint != "http://127.0.0.1:4318/v1/traces" {
		t.Fatalf("plan tracing = %+v", tr)
	}
	if !reflect.DeepEqual(tr.Baggage, []string{"run", "scenario", "step"}) {
		t.Errorf("baggage = %v, want the header's order", tr.Baggage)
	}
	if len(tr.OTLPHeaders) != 2 || tr.OTLPHeaders[0].Name != "Authorization" || !tr.OTLPHeaders[0].Value.Sensitive() ||
		tr.OTLPHeaders[1].Value.Sensitive() {
		t.Fatalf("otlp headers = %+v", tr.OTLPHeaders)
	}
	if v, _ := tr.OTLPHeaders[0].Value.String(nil); v != "Bearer tok-SECRET" {
		t.Errorf("Authorization = %q, want the secret's value to be used", v)
	}
	d := tr.Describe()
	if strings.Contains(d, "tok-SECRET") || strings.Contains(d, "team") || !strings.Contains(d, "Authorization, X-Scope") {
		t.Errorf("Describe = %q: header names only, never values", d)
	}
	byName := map[string]*Target{}
	for _, x := range p.Targets {
		byName[x.Name] = x
	}
	if got := p.TracingFor(byName["api"]); got != tr {
		t.Errorf("api inherits the plan's block, got %+v", got)
	}
	old := p.TracingFor(byName["old"])
	if old == nil || old.Propagator != "b3" || old.Sampling != 0.1 || len(old.Baggage) != 3 || old.OTLPEndpoint != "" {
		t.Errorf("old = %+v, want b3 with the plan's sampling and baggage", old)
	}
	if got := p.TracingFor(byName["quiet"]); got != nil {
		t.Errorf("quiet = %+v, want nil (propagator none)", got)
	}
	if p.TracingFor(nil) != tr || !p.Traced() {
		t.Error("a step with its own URL takes the plan's block")
	}
}

// TestTracingOff: no block, no tracing; a target's block alone turns it on for that target.
func TestTracingOff(t *testing.T) {
	src := strings.Replace(tracingPlan, tracingPlan[:strings.Index(tracingPlan, "target \"api\"")], "\n", 1)
	p, diags := LoadSource("t.hcl", []byte(src), Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if p.Tracing != nil || p.TracingFor(nil) != nil {
		t.Fatalf("tracing = %+v, want none", p.Tracing)
	}
	if !p.Traced() {
		t.Error("target old has a b3 block: the plan is traced")
	}
	for _, x := range p.Targets {
		if x.Name == "old" && (x.Tracing.Sampling != DefaultSampling || x.Tracing.Propagator != "b3") {
			t.Errorf("old = %+v, want b3 at the default sampling", x.Tracing)
		}
	}
	p.Targets = p.Targets[:1]
	if p.Traced() {
		t.Error("no block left: not traced")
	}
}

// TestTracingSecretsNotShown: a bad otlp_endpoint or propagator from env() is reported at its
// place without its value.
func TestTracingSecretsNotShown(t *testing.T) {
	src := `
tracing {
  propagator    = env("PROP")
  otlp_endpoint = env("EP")
}
scenario "s" {
  http "a" {
    url = "http://127.0.0.1:1/"
  }
}
load {
  stage {
    duration = "1s"
    target   = 1
  }
}
`
	_, diags := LoadSource("t.hcl", []byte(src), Options{Env: map[string]string{"PROP": "w3c-hunter2", "EP": "ftp://user:hunter2@x/"}})
	got := RenderDiags(diags)
	if !strings.Contains(got, "t.hcl:3:19: error: Invalid propagator") || !strings.Contains(got, "t.hcl:4:19: error: Invalid otlp_endpoint") {
		t.Fatalf("diagnostics:\n%s", got)
	}
	if strings.Contains(got, "hunter2") {
		t.Errorf("a secret is shown:\n%s", got)
	}
}
