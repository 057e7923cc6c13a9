package plan

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

const (
	envSecret = "s3cr3t-XYZ" // SECRET_TOKEN
	varSecret = "v4r-hunter2"
)

// secretPlan uses both secrets in every attribute that names a check or a tag.
const secretPlan = `
variable "pw" {
  type      = string
  sensitive = true
}
target "api" {
  base_url = "http://127.0.0.1:1/${env("SECRET_TOKEN")}"
  headers  = { Authorization = "Bearer ${var.pw}" }
}
scenario "s" {
  target     = target.api
  think_time = "0s"
  http "a" {
    method  = "POST"
    path    = "/echo"
    query   = { token = env("SECRET_TOKEN") }
    headers = { X-Token = var.pw }
    json    = { token = env("SECRET_TOKEN"), user = "u${vu.id}" }
    check {
      status         = [200, env("SECRET_STATUS")]
      body_contains  = [env("SECRET_TOKEN"), "plain", var.pw, "${env("SECRET_TOKEN")}-missing"]
      body_matches   = "${var.pw}.*"
      headers        = { X-Echo = env("SECRET_TOKEN"), X-Plain = "visible" }
      header_matches = { X-Echo = "^${env("SECRET_TOKEN")}$" }
      json           = { token = env("SECRET_TOKEN"), user = "u1" }
      max_duration   = env("SECRET_DURATION")
    }
    capture "tok" { regex = "(${env("SECRET_TOKEN")})" }
  }
  http "b" {
    url  = "http://127.0.0.1:1/${var.pw}/x"
    name = env("SECRET_TOKEN")
  }
  websocket "w" {
    url     = "ws://127.0.0.1:1/${env("SECRET_TOKEN")}"
    name    = var.pw
    headers = { X-Token = env("SECRET_TOKEN") }
    send "a" {
      json = { token = env("SECRET_TOKEN") }
    }
    expect "b" {
      json   = { token = var.pw }
      within = "1s"
    }
    expect "c" {
      regex  = var.pw
      within = "1s"
    }
  }
}
threshold "http_req_duration" {
  conditions = ["p(95) < 300ms", env("SECRET_CONDITION"), "max < ${var.pw == "" ? 1 : 2}s"]
}
load {
  vus      = 1
  duration = "1s"
}
`

var secretEnv = map[string]string{
	"SECRET_TOKEN":      envSecret,
	"SECRET_STATUS":     "201",
	"SECRET_DURATION":   "7s",
	"SECRET_CONDITION":  "p(99) < 900ms",
	"LOADPLAN_VAR_pw":   varSecret,
	"UNRELATED_SETTING": "not read by the plan",
}

// TestNamesHideSecrets: check names, url tags and threshold conditions built from env() or a
// sensitive variable say (sensitive) for the secret part; the values themselves still work.
func TestNamesHideSecrets(t *testing.T) {
	p, diags := LoadSource("s.hcl", []byte(secretPlan), Options{Env: secretEnv})
	if diags.HasErrors() {
		t.Fatalf("diagnostics:\n%s", renderDiags(diags))
	}
	a := p.Scenarios[0].Steps[0].HTTP
	var names []string
	for _, c := range a.Checks {
		names = append(names, c.Name)
	}
	eq(t, "check names", names, []string{
		"status in (200, (sensitive))",
		"body contains (sensitive)",
		`body contains "plain"`,
		"body contains (sensitive) #2",
		"body contains (sensitive) #3",
		"body =~ (sensitive)",
		"header X-Echo == (sensitive)",
		"header X-Plain == visible",
		"header X-Echo =~ (sensitive)",
		"json token == (sensitive)",
		`json user == "u1"`,
		"duration <= (sensitive)",
	})
	// The values are used as written.
	eq(t, "body_contains value", a.Checks[1].Value, envSecret)
	eq(t, "status", a.Checks[0].Statuses, []int{200, 201})
	eq(t, "header_matches", a.Checks[8].Regexp.String(), "^"+envSecret+"$")
	eq(t, "capture regexp", a.Captures[0].Regexp.String(), "("+envSecret+")")
	b := p.Scenarios[0].Steps[1].HTTP
	eq(t, "url tag from a sensitive name", b.URLTag, Hidden)
	eq(t, "url", str(t, "url", b.URL, nil), "http://127.0.0.1:1/"+varSecret+"/x")
	eq(t, "websocket url tag from a sensitive name", p.Scenarios[0].Steps[2].WebSocket.URLTag, Hidden)
	var conds []string
	for _, c := range p.Thresholds[0].Conditions {
		conds = append(conds, c.Source)
	}
	eq(t, "conditions", conds, []string{"p(95) < 300ms", Hidden, Hidden + " #2"})
	eq(t, "variable shown", p.Variables[0].Value, Hidden)

	if n := len(findStrings(reflect.ValueOf(&Check{Name: envSecret, Value: envSecret}), "Check", envSecret)); n != 1 {
		t.Fatalf("findStrings finds %d leaks in a check named by its secret, want 1", n)
	}
	for _, leak := range findStrings(reflect.ValueOf(p), "Plan", envSecret, varSecret) {
		t.Errorf("a secret is in %s, which is shown", leak)
	}
}

// usedFields hold a secret to use it (send it, compare with it, mask it: Plan.Secrets); nothing
// prints them.
var usedFields = map[string]bool{"Value": true, "JSONValue": true, "BaseURL": true, "Secrets": true}

// findStrings walks the exported fields of v and returns the paths of strings holding a secret,
// except usedFields.
func findStrings(v reflect.Value, path string, secrets ...string) []string {
	var out []string
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			out = append(out, findStrings(v.Elem(), path, secrets...)...)
		}
	case reflect.Struct:
		if v.Type().PkgPath() != reflect.TypeOf(Plan{}).PkgPath() && v.Type().Name() != "Tags" && v.Type().Name() != "Condition" {
			return nil // regexp.Regexp and the like: not shown
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || usedFields[f.Name] {
				continue
			}
			out = append(out, findStrings(v.Field(i), path+"."+f.Name, secrets...)...)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			out = append(out, findStrings(v.Index(i), path+"[]", secrets...)...)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			out = append(out, findStrings(k, path+"{key}", secrets...)...)
			out = append(out, findStrings(v.MapIndex(k), path+"{}", secrets...)...)
		}
	case reflect.String:
		for _, s := range secrets {
			if strings.Contains(v.String(), s) {
				out = append(out, path+" = "+v.String())
			}
		}
	}
	return out
}

// TestSensitiveVariableMarked: a sensitive variable is marked like env(), so a value built from it
// is a sensitive template; an ordinary one is not.
func TestSensitiveVariableMarked(t *testing.T) {
	src := `
variable "pw" {
  sensitive = true
  default   = "` + varSecret + `"
}
variable "user" { default = "alice" }
target "api" { base_url = "http://127.0.0.1:1" }
scenario "s" {
  target = target.api
  http "a" {
    path    = "/"
    headers = { A = var.user, B = "x${var.pw}" }
  }
}
`
	p, diags := LoadSource("v.hcl", []byte(src), Options{})
	if diags.HasErrors() {
		t.Fatalf("diagnostics:\n%s", renderDiags(diags))
	}
	h := p.Scenarios[0].Steps[0].HTTP.Headers
	eq(t, "plain header sensitive", h[0].Value.Sensitive(), false)
	eq(t, "secret header sensitive", h[1].Value.Sensitive(), true)
	eq(t, "secret header display", h[1].Value.Display(), `"x${var.pw}"`)
	eq(t, "secret header value", str(t, "B", h[1].Value, nil), "x"+varSecret)
	eq(t, "plan shows", [2]string{p.Variables[0].Value, p.Variables[1].Value}, [2]string{Hidden, "alice"})
}

// TestSensitiveVariableBadValue: a sensitive variable given a value of the wrong type from the
// environment is reported without the value.
func TestSensitiveVariableBadValue(t *testing.T) {
	src := `
variable "n" {
  type      = number
  sensitive = true
}
`
	_, diags := LoadSource("v.hcl", []byte(src), Options{Env: map[string]string{"LOADPLAN_VAR_n": "pa$$w0rd-not-a-number"}})
	got := renderDiags(diags)
	if !diags.HasErrors() || strings.Contains(got, "pa$$w0rd") || !strings.Contains(got, Hidden) {
		t.Errorf("diagnostics:\n%s", got)
	}
}

// TestScrubDiagnostics: the last pass replaces any secret text left in a diagnostic (here one made
// by hand, as a message added later without care would be) and drops HCL's "with local.x as ..."
// context when the local holds a secret.
func TestScrubDiagnostics(t *testing.T) {
	src := `target "api" { base_url = env("SECRET_TOKEN") }` + "\n" + `locals { short = env("S", "abc") }`
	l := newLoader(Options{Env: map[string]string{"SECRET_TOKEN": envSecret}})
	l.parse("s.hcl", []byte(src))
	l.loadVariables()
	expr, _ := hclsyntax.ParseExpression([]byte("local.t"), "x.hcl", hcl.InitialPos)
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{
		"local": cty.ObjectVal(map[string]cty.Value{"t": cty.ObjectVal(map[string]cty.Value{"k": cty.StringVal("x").Mark(SensitiveMark)})}),
	}}
	l.diags = hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "Bad " + envSecret, Detail: "got " + envSecret + " and abc", Expression: expr, EvalContext: ctx},
	}
	l.scrubDiagnostics()
	d := l.diags[0]
	eq(t, "summary", d.Summary, "Bad (sensitive)")
	eq(t, "detail", d.Detail, "got (sensitive) and abc") // a 3-letter default is too short to look for
	if d.EvalContext != nil {
		t.Error("the context of a diagnostic whose expression reads a secret is kept")
	}
}

// TestFunctionErrorsHideSecrets: a function that fails on a secret argument does not get to
// quote it, whole (tonumber) or in part (jsondecode quotes the first bad character).
func TestFunctionErrorsHideSecrets(t *testing.T) {
	src := `locals {
  n = tonumber(env("S"))
  j = jsondecode(env("S"))
}
`
	_, diags := LoadSource("f.hcl", []byte(src), Options{Env: map[string]string{"S": "q3cr3t-XYZ{"}})
	got := renderDiags(diags)
	if len(diags) != 2 || strings.Contains(got, "q3cr3t") || strings.Contains(got, "'q'") ||
		strings.Count(got, "the argument is sensitive") != 2 {
		t.Errorf("diagnostics:\n%s", got)
	}
}
