package plan

import (
	"net/url"
	"path/filepath"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var targetSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "base_url", Required: true}, {Name: "timeout"}, {Name: "headers"},
		{Name: "insecure_skip_verify"}, {Name: "ca_file"}, {Name: "cert_file"}, {Name: "key_file"},
		{Name: "proxy"}, {Name: "compression"}, {Name: "expected_status"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "tracing"}},
}

// DefaultTimeout is the request timeout of a target that sets none.
const DefaultTimeout = 60 * time.Second

func (l *loader) loadTargets() {
	seen := newNames("target")
	for _, fb := range l.blocks("target") {
		b := fb.block
		name := b.Labels[0]
		if !seen.declare(l, name, labelRange(b)) {
			continue
		}
		t := &Target{Name: name, Timeout: DefaultTimeout, Pos: posOf(b.DefRange)}
		l.targets[name] = t
		content, diags := b.Body.Content(targetSchema)
		l.add(diags)
		sc := &scope{src: fb.src, what: "a target block"}
		if a := content.Attributes["base_url"]; a != nil {
			if v, sensitive, ok := l.constantMarked(a, sc); ok {
				if sensitive {
					l.sensitiveTargets[name] = true
					t.Sensitive = true
				}
				if sv, ok := l.convertTo(a, v, cty.String, `Write a URL such as "http://127.0.0.1:8000".`); ok {
					u, err := url.Parse(sv.AsString())
					switch {
					case err != nil || u.Host == "":
						l.errorAt(a.Expr.Range(), "Invalid base_url",
							"%s is not an absolute URL. Write scheme and host, e.g. \"http://127.0.0.1:8000\".", quoted(sv.AsString(), sensitive))
					case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss":
						l.errorAt(a.Expr.Range(), "Invalid base_url", "The scheme %s is not supported; use http, https, ws or wss.", quoted(u.Scheme, sensitive))
					default:
						t.BaseURL = sv.AsString()
					}
				}
			}
		}
		if a := content.Attributes["timeout"]; a != nil {
			if d, ok := l.duration(a, sc); ok {
				if d == 0 {
					l.errorAt(a.Expr.Range(), "Invalid timeout", "A timeout of 0 would fail every request; write e.g. \"10s\".")
				} else {
					t.Timeout = d
				}
			}
		}
		if a := content.Attributes["headers"]; a != nil {
			t.Headers = l.kvs(a, sc)
		}
		if a := content.Attributes["insecure_skip_verify"]; a != nil {
			t.InsecureSkipVerify, _ = l.boolean(a, sc)
		}
		for _, f := range []struct {
			name string
			dst  *string
		}{{"ca_file", &t.CAFile}, {"cert_file", &t.CertFile}, {"key_file", &t.KeyFile}} {
			a := content.Attributes[f.name]
			if a == nil {
				continue
			}
			if s, ok := l.str(a, sc); ok {
				if !filepath.IsAbs(s) {
					s = filepath.Join(fb.src.baseDir, s)
				}
				*f.dst = s
				l.checkPEMFile(a, s)
			}
		}
		l.targetNet(t, content, sc, b.DefRange)
		l.targetTracing(t, content.Blocks, sc)
		if (t.CertFile == "") != (t.KeyFile == "") {
			l.errorAt(b.DefRange, "Incomplete client certificate", "Set both cert_file and key_file for a client certificate, or neither.")
		}
		l.plan.Targets = append(l.plan.Targets, t)
	}
}

// resolveTarget reads a `target = target.NAME` attribute.
func (l *loader) resolveTarget(a *hcl.Attribute) *Target {
	tr, diags := hcl.AbsTraversalForExpr(a.Expr)
	name := ""
	if !diags.HasErrors() && tr.RootName() == "target" {
		name, _ = traversalAttr(tr, 1)
	} else if s, ok := stringLiteral(a.Expr); ok {
		name = s
	}
	if name == "" {
		l.errorAt(a.Expr.Range(), "Invalid target reference", "Write target = target.NAME, where NAME is the label of a target block.")
		return nil
	}
	t := l.targets[name]
	if t == nil {
		l.errorAt(a.Expr.Range(), "Reference to undeclared target",
			"No target named %q is declared.%s Declare it with target %q { base_url = \"...\" }.",
			name, didYouMean(name, sortedKeys(l.targets)), name)
	}
	return t
}

// stringLiteral returns the value of a quoted string without interpolation.
func stringLiteral(e hcl.Expression) (string, bool) {
	if len(e.Variables()) > 0 {
		return "", false
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}
