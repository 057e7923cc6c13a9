package importer

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FuzzImport: no input makes an importer panic or hang, and whatever it generates parses as HCL.
func FuzzImport(f *testing.F) {
	f.Add(0, chromiumJSON)
	f.Add(0, chromiumANSI)
	f.Add(1, chromeHAR)
	f.Add(2, `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/a/{b":{"post":{"responses":{"200":{"description":"x","content":{"application/json":{"schema":{"properties":{"id":{"type":"integer"}}}}}}}}},"/a/{b}/c":{"get":{"responses":{"200":{"description":"x"}}}}}}`)
	f.Fuzz(func(t *testing.T, kind int, in string) {
		var res *Result
		var err error
		switch kind % 3 {
		case 0:
			res, err = Curl([]string{in}, "")
		case 1:
			res, err = HAR([]byte(in), HAROptions{})
		default:
			res, err = OpenAPI([]byte(in), OpenAPIOptions{})
		}
		if err != nil {
			return
		}
		if _, diags := hclsyntax.ParseConfig(res.Plan, "fuzz.hcl", hcl.InitialPos); diags.HasErrors() {
			t.Fatalf("generated plan does not parse: %s\n%s", diags.Error(), res.Plan)
		}
	})
}
