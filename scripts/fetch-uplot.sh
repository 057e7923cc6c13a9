#!/usr/bin/env bash
# fetch-uplot.sh fetches the chart library the live web UI and the HTML report embed (uPlot, MIT)
# at a pinned version with npm, and copies its minified script, stylesheet and license into
# internal/webassets/uplot, where go:embed picks them up. The copies are committed: building
# loadplan never touches the network; run this script only to change the version, then commit.
#
# Environment: UPLOT_VERSION (default 1.6.32).
set -euo pipefail

UPLOT_VERSION="${UPLOT_VERSION:-1.6.32}"
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/internal/webassets/uplot"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "uplot@$UPLOT_VERSION" >/dev/null && tar xzf "uplot-$UPLOT_VERSION.tgz")
mkdir -p "$dest"
cp "$tmp/package/dist/uPlot.iife.min.js" "$dest/uPlot.iife.min.js"
cp "$tmp/package/dist/uPlot.min.css" "$dest/uPlot.min.css"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
echo "$UPLOT_VERSION" > "$dest/VERSION"
echo "fetch-uplot: uPlot $UPLOT_VERSION in $dest"
