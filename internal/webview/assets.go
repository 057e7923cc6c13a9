package webview

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/loadplan/loadplan/internal/webassets"
)

// JS is view.js: it defines window.loadplanView = { render(el, view), update(el, view),
// charts(el) } and needs uPlot (webassets.UPlotJS) loaded before it.
//
//go:embed view.js
var JS string

// CSS is view.css, the page's styles (uPlot's own are webassets.UPlotCSS).
//
//go:embed view.css
var CSS string

// WriteHTML writes v as one self-contained HTML page: uPlot (its license in a comment beside
// it), view.js, the styles and the View inline, nothing fetched, readable offline from a file.
// The embedded files hold no "</script" or "</style" (TestAssetsCannotCloseTheirElement), and
// the View is JSON with <, > and & escaped, so no name in it can close its script element.
func WriteHTML(w io.Writer, v *View) error {
	b, err := json.Marshal(v) // escapes <, > and & as \u003c...
	if err != nil {
		return fmt.Errorf("webview: encode view: %w", err)
	}
	title := "loadplan report · " + v.Meta.Plan
	if v.Meta.Final {
		title += " · " + v.Meta.Status
	}
	var p strings.Builder
	p.Grow(len(b) + len(webassets.UPlotJS) + len(JS) + 8192)
	p.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	p.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	p.WriteString("<meta name=\"generator\" content=\"loadplan " + html.EscapeString(v.Meta.Version) + "\">\n")
	p.WriteString("<title>" + html.EscapeString(title) + "</title>\n")
	p.WriteString("<style>" + webassets.UPlotCSS + "</style>\n<style>" + CSS + "</style>\n</head>\n<body>\n")
	p.WriteString("<div id=\"loadplan\"></div>\n<script id=\"loadplan-view\" type=\"application/json\">")
	p.Write(b)
	p.WriteString("</script>\n<!-- uPlot " + webassets.UPlotVersion() + ", embedded; its license:\n")
	p.WriteString(strings.ReplaceAll(webassets.UPlotLicense, "--", "- -"))
	p.WriteString("-->\n<script>" + webassets.UPlotJS + "</script>\n<script>" + JS + "</script>\n")
	p.WriteString("<script>loadplanView.render(document.getElementById('loadplan'), " +
		"JSON.parse(document.getElementById('loadplan-view').textContent));</script>\n</body>\n</html>\n")
	_, err = io.WriteString(w, p.String())
	return err
}
