// Package webassets holds the files the live web UI and the HTML report embed so that a page
// loads nothing from the network: the chart library uPlot (MIT, its license beside it in
// uplot/LICENSE), fetched at a pinned version by scripts/fetch-uplot.sh and committed.
//
// uPlot was chosen over hand-drawn canvas code and over larger chart libraries: 51 KB minified,
// no dependencies, time-series first (the UI's and the report's charts are all series over
// time), and kept up by its author for years.
package webassets

import (
	_ "embed"
	"strings"
)

// UPlotJS is uPlot's minified browser build (it defines the global uPlot).
//
//go:embed uplot/uPlot.iife.min.js
var UPlotJS string

// UPlotCSS is uPlot's stylesheet.
//
//go:embed uplot/uPlot.min.css
var UPlotCSS string

// UPlotLicense is uPlot's license text, served and embedded beside the library.
//
//go:embed uplot/LICENSE
var UPlotLicense string

//go:embed uplot/VERSION
var uplotVersion string

// UPlotVersion is the embedded uPlot's version, as scripts/fetch-uplot.sh recorded it.
func UPlotVersion() string { return strings.TrimSpace(uplotVersion) }
