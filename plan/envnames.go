package plan

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// SensitiveDefaults returns the literal string defaults of the variables the plan files declare
// sensitive, by name, for the same masking as EnvNames: loading renders them as Hidden.
func SensitiveDefaults(files []string) map[string]string {
	out := map[string]string{}
	for _, body := range parsedBodies(files) {
		for _, b := range body.Blocks {
			if b.Type != "variable" || len(b.Labels) != 1 {
				continue
			}
			sens, def := b.Body.Attributes["sensitive"], b.Body.Attributes["default"]
			if sens == nil || def == nil {
				continue
			}
			s, d1 := sens.Expr.Value(nil)
			v, d2 := def.Expr.Value(nil)
			if !d1.HasErrors() && !d2.HasErrors() && s.Type() == cty.Bool && s.IsKnown() && s.True() &&
				v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
				out[b.Labels[0]] = v.AsString()
			}
		}
	}
	return out
}

// parsedBodies parses files, skipping those that do not read or parse as HCL bodies.
func parsedBodies(files []string) []*hclsyntax.Body {
	var out []*hclsyntax.Body
	for _, f := range files {
		src, diags := ReadPlanFile(f)
		if diags.HasErrors() {
			continue
		}
		file, _ := ParsePlanSource(f, src)
		if body, ok := file.Body.(*hclsyntax.Body); ok {
			out = append(out, body)
		}
	}
	return out
}

// EnvNames returns the names of the environment variables the plan files read with env("NAME"),
// for masking their values where a plan's traffic is shown (apply --http-debug): those values are
// secrets. A name that is not a literal string cannot be known here and is not listed. Files that
// do not parse are skipped (loading reports them).
func EnvNames(files []string) []string {
	var names []string
	seen := map[string]bool{}
	for _, body := range parsedBodies(files) {
		_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			call, ok := n.(*hclsyntax.FunctionCallExpr)
			if !ok || call.Name != "env" || len(call.Args) == 0 {
				return nil
			}
			v, diags := call.Args[0].Value(nil)
			if !diags.HasErrors() && v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
				if name := v.AsString(); !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
			}
			return nil
		})
	}
	return names
}
