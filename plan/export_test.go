package plan

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// RenderDiags is renderDiags for the external tests (package plan_test), which may import the
// output kinds' packages: they import plan, so plan's own tests cannot.
var RenderDiags = renderDiags

// renderDiags renders diagnostics as the golden files hold them: one line per diagnostic with
// file:line:col, severity and summary, then the detail indented.
func renderDiags(diags hcl.Diagnostics) string {
	var sb strings.Builder
	for _, d := range diags {
		pos := "-"
		if d.Subject != nil {
			pos = fmt.Sprintf("%s:%d:%d", filepath.ToSlash(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column)
		}
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		fmt.Fprintf(&sb, "%s: %s: %s\n", pos, sev, d.Summary)
		if d.Detail != "" {
			fmt.Fprintf(&sb, "    %s\n", d.Detail)
		}
	}
	return sb.String()
}
