package ui

import (
	"embed"
	"net/http"
	"strings"

	"github.com/loadplan/loadplan/internal/webassets"
	"github.com/loadplan/loadplan/internal/webview"
)

// The page and its script and style, embedded: the page loads nothing from the network.
//
//go:embed assets/index.html assets/ui.js assets/ui.css
var assets embed.FS

// contentSecurityPolicy lets the page load only from this server: no inline script, no other
// origin, no frame around it (clickjacking the Stop button).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

func serveIndex(w http.ResponseWriter, _ *http.Request) {
	b, _ := assets.ReadFile("assets/index.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// assetHandler serves /assets/: the page's own files, the shared renderer (internal/webview's
// view.js and view.css, the HTML report's too) and uPlot with its license.
func assetHandler() http.Handler {
	files := map[string]struct{ typ, body string }{
		"uPlot.js":      {"text/javascript; charset=utf-8", webassets.UPlotJS},
		"uPlot.css":     {"text/css; charset=utf-8", webassets.UPlotCSS},
		"uPlot.LICENSE": {"text/plain; charset=utf-8", webassets.UPlotLicense},
		"view.js":       {"text/javascript; charset=utf-8", webview.JS},
		"view.css":      {"text/css; charset=utf-8", webview.CSS},
	}
	for _, name := range []string{"ui.js", "ui.css"} {
		b, _ := assets.ReadFile("assets/" + name)
		typ := "text/javascript; charset=utf-8"
		if strings.HasSuffix(name, ".css") {
			typ = "text/css; charset=utf-8"
		}
		files[name] = struct{ typ, body string }{typ, string(b)}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[strings.TrimPrefix(r.URL.Path, "/assets/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", f.typ)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write([]byte(f.body))
	})
}
