package webassets

import (
	"strings"
	"testing"
)

// TestEmbedded checks that the committed files are the library and its license, not empty or
// truncated copies: the script defines uPlot, the license is MIT and names the author.
func TestEmbedded(t *testing.T) {
	if !strings.Contains(UPlotJS, "uPlot") || len(UPlotJS) < 40_000 {
		t.Fatalf("uPlot script: %d bytes, does not look like uPlot's build", len(UPlotJS))
	}
	if !strings.Contains(UPlotCSS, ".uplot") {
		t.Fatalf("uPlot stylesheet has no .uplot rule")
	}
	if !strings.Contains(UPlotLicense, "MIT License") || !strings.Contains(UPlotLicense, "Leon Sorokin") {
		t.Fatalf("uPlot license text is not uPlot's MIT license")
	}
	if v := UPlotVersion(); v == "" || strings.Count(v, ".") != 2 {
		t.Fatalf("UPlotVersion() = %q, want a version like 1.6.32", v)
	}
}
