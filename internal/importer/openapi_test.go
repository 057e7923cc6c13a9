package importer

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/loadplan/loadplan/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

// checkPlan asserts what every generated plan must be: fmt-clean (the formatter `loadplan fmt`
// runs) and valid (plan.LoadPlan, what `loadplan validate` runs), with its files beside it.
func checkPlan(t *testing.T, res *Result) string {
	t.Helper()
	if got := hclwrite.Format(res.Plan); !bytes.Equal(got, res.Plan) {
		t.Errorf("generated plan is not fmt-clean; formatted:\n%s", got)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "plan.hcl")
	if err := os.WriteFile(file, res.Plan, 0o644); err != nil {
		t.Fatal(err)
	}
	for rel, data := range res.Files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, diags := plan.LoadPlan([]string{file}, plan.Options{}); diags.HasErrors() {
		t.Fatalf("generated plan does not validate: %s\n%s", diags.Error(), res.Plan)
	}
	return file
}

// golden compares got with testdata/name, rewritten with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, got)
	}
}

// TestOpenAPIFastAPIGolden: a FastAPI-shaped 3.1 document (path and query parameters, a JSON
// body, a form login, OAuth2 bearer and API-key security, tags, anyOf-null optionals, a 2XX
// response) gives the golden plan, per tag and in one scenario.
func TestOpenAPIFastAPIGolden(t *testing.T) {
	doc, err := os.ReadFile("testdata/fastapi.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		golden string
		single bool
	}{{"fastapi.golden", false}, {"fastapi-single.golden", true}} {
		t.Run(c.golden, func(t *testing.T) {
			res, err := OpenAPI(doc, OpenAPIOptions{Source: "testdata/fastapi.json", SingleScenario: c.single, Feeder: "data/api-params.csv"})
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, res)
			golden(t, c.golden, res.Plan)
			if got := string(res.Files["data/api-params.csv"]); got != "username\nstring\n" {
				t.Errorf("feeder stub = %q", got)
			}
			text := string(res.Plan)
			for _, want := range []string{
				`Authorization = "Bearer ${vu.token}"`,              // the setup login's token
				`capture "token" { json = "access_token" }`,         // FastAPI's OAuth2 answer
				`capture "item_id" { json = "id" }`,                 // the created item…
				`path    = "/items/${capture.item_id}"`,             // …is the one read and deleted
				`path    = "/users/${data.params.username}/orders"`, // no example: the feeder
				`X-API-Key = local.apikeyheader_key`,
				`env("LOADPLAN_APIKEYHEADER", "")`,
				`query   = { limit = 5, q = "string" }`, // skip has only a default: not sent
				`check { status = 201 }`, `check { status = 204 }`, `check { status = "2xx" }`,
			} {
				if !strings.Contains(text, want) {
					t.Errorf("plan lacks %s", want)
				}
			}
		})
	}
}

// TestOpenAPIYAML30Inline: a 3.0 YAML document without a feeder gets values inline, the
// server's URL as host, and -var host wins over it.
func TestOpenAPIYAML30Inline(t *testing.T) {
	doc := []byte(`openapi: 3.0.3
info: {title: Pets, version: "1"}
servers:
  - url: https://{env}.pets.example/v1
    variables:
      env: {default: staging}
paths:
  /pets/{petId}:
    get:
      operationId: showPetById
      parameters:
        - {name: petId, in: path, required: true, schema: {type: string, format: uuid}}
        - {name: verbose, in: query, required: true, schema: {type: boolean}}
      responses:
        "200": {description: ok}
  /pets:
    put:
      security: [{basic: []}]
      requestBody:
        content:
          application/json:
            example: {name: "Rex ${x}", kind: dog}
      responses:
        "200": {description: ok}
components:
  securitySchemes:
    basic: {type: http, scheme: basic}
`)
	res, err := OpenAPI(doc, OpenAPIOptions{Source: "pets.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, res)
	text := string(res.Plan)
	for _, want := range []string{
		`default     = "https://staging.pets.example/v1"`,
		`path  = "/pets/00000000-0000-4000-8000-000000000000"`,
		`query = { verbose = true }`,
		`json    = { kind = "dog", name = "Rex $${x}" }`, // a literal ${ is escaped, not a template
		`Authorization = "Basic ${base64encode(local.basic_credentials)}"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %s:\n%s", want, text)
		}
	}
	res, err = OpenAPI(doc, OpenAPIOptions{Source: "pets.yaml", Host: "http://127.0.0.1:9"})
	if err != nil || !strings.Contains(string(res.Plan), `default     = "http://127.0.0.1:9"`) {
		t.Errorf("-var host not the default: %v\n%s", err, res.Plan)
	}
}

// TestOpenAPIBadInput: what cannot be converted is a clear error, never a panic.
func TestOpenAPIBadInput(t *testing.T) {
	for _, c := range []struct{ name, doc, want string }{
		{"swagger2", `{"swagger": "2.0", "info": {"title": "x", "version": "1"}, "paths": {}}`, "not supported"},
		{"no operations", `{"openapi": "3.1.0", "info": {"title": "x", "version": "1"}, "paths": {}}`, "no operations"},
		{"external ref", `{"openapi": "3.0.0", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"get": {"responses": {"200": {"$ref": "http://127.0.0.1:1/r.json"}}}}}}`, "external references"},
		{"not a document", `<html>`, "openapi:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := OpenAPI([]byte(c.doc), OpenAPIOptions{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to say %q", err, c.want)
			}
		})
	}
}

// TestOpenAPIRecursiveSchemaBounded: a schema whose required properties refer back to it (six
// per level) builds a bounded body instead of 6^8 values.
func TestOpenAPIRecursiveSchemaBounded(t *testing.T) {
	doc := `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
 "paths": {"/n": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/N"}}}}, "responses": {"200": {"description": "ok"}}}}},
 "components": {"schemas": {"N": {"type": "object", "required": ["a", "b", "c", "d", "e", "f"], "properties": {
  "a": {"$ref": "#/components/schemas/N"}, "b": {"$ref": "#/components/schemas/N"}, "c": {"$ref": "#/components/schemas/N"},
  "d": {"$ref": "#/components/schemas/N"}, "e": {"$ref": "#/components/schemas/N"}, "f": {"$ref": "#/components/schemas/N"}}}}}}`
	res, err := OpenAPI([]byte(doc), OpenAPIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(res.Plan), "a ="); n > maxNodes {
		t.Errorf("%d values built, the bound is %d", n, maxNodes)
	}
	checkPlan(t, res)
}
