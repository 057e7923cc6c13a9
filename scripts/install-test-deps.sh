#!/usr/bin/env bash
# install-test-deps.sh installs what the integration tests and the benchmark harness need, when
# missing: the Debian packages prometheus, prometheus-pushgateway, wrk, hey, curl, chromium (with a
# font, for the browser tests' screenshots), nodejs/npm, and python3-fastapi, python3-uvicorn and
# python3-prometheus-client (the traced FastAPI app of outputs/integration), influxd 1.8 (built with `go install`,
# which takes about 90 s on a cold cache), and playwright-core at the version pinned in
# scripts/browser/package-lock.json (npm ci; it drives Debian's Chromium and downloads no
# browser). It is idempotent: a second run installs nothing and only prints the versions. The
# Makefile's test target calls it first.
#
# It also installs goreleaser (GORELEASER_VERSION, default v2.17.0, the newest that builds on Go
# 1.26) for the release-configuration tests (`goreleaser check`, a one-target snapshot build):
# cold, its `go install` downloads about 1.9 GB of modules and compiles for about 720 CPU-seconds,
# some 6 minutes of a fresh 2-core machine; later runs find it installed.
#
# Environment: SUDO (default "sudo" when not root), INFLUXD_VERSION (default v1.8.10),
# GORELEASER_VERSION (default v2.17.0).
set -euo pipefail

INFLUXD_VERSION="${INFLUXD_VERSION:-v1.8.10}"
if [ "$(id -u)" -eq 0 ]; then SUDO="${SUDO:-}"; else SUDO="${SUDO:-sudo}"; fi
GOBIN_DIR="$(go env GOBIN 2>/dev/null || true)"
if [ -z "$GOBIN_DIR" ]; then GOBIN_DIR="$(go env GOPATH)/bin"; fi

# Debian package → the binary it provides.
declare -A pkgs=(
  [prometheus]=prometheus
  [prometheus-pushgateway]=prometheus-pushgateway
  [wrk]=wrk
  [hey]=hey
  [curl]=curl
  [chromium]=chromium
  [nodejs]=node
)

missing=()
for pkg in "${!pkgs[@]}"; do
  if ! command -v "${pkgs[$pkg]}" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done

# Debian package → the module /usr/bin/python3 must import (the traced app of TestTraceE2EFastAPI).
declare -A pymods=(
  [python3-fastapi]=fastapi
  [python3-uvicorn]=uvicorn
  [python3-prometheus-client]=prometheus_client
)
for pkg in "${!pymods[@]}"; do
  if ! /usr/bin/python3 -c "import ${pymods[$pkg]}" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done

# A font for the pages Chromium renders (screenshots); no binary to look for, so ask dpkg.
if command -v dpkg >/dev/null 2>&1 && ! dpkg -s fonts-dejavu-core >/dev/null 2>&1; then
  missing+=(fonts-dejavu-core)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: missing ${missing[*]} and no apt-get here; install them by hand" >&2
    exit 1
  fi
  echo "install-test-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v influxd >/dev/null 2>&1 && [ ! -x "$GOBIN_DIR/influxd" ]; then
  echo "install-test-deps: building influxd $INFLUXD_VERSION (about 90 s on a cold cache)"
  # GOFLAGS=-mod=mod: influxd is built in module mode outside this repository.
  (cd / && GOFLAGS=-mod=mod go install "github.com/influxdata/influxdb/cmd/influxd@$INFLUXD_VERSION")
fi

# playwright-core for the browser tests, exactly as locked; PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: the
# tests drive Debian's Chromium, never a downloaded one.
here="$(cd "$(dirname "$0")" && pwd)"
want_pw="$(node -p 'require(process.argv[1]).packages["node_modules/playwright-core"].version' "$here/browser/package-lock.json")"
have_pw="$(node -p 'require(process.argv[1]).version' "$here/browser/node_modules/playwright-core/package.json" 2>/dev/null || true)"
if [ "$want_pw" != "$have_pw" ]; then
  echo "install-test-deps: installing playwright-core (scripts/browser)"
  (cd "$here/browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

GORELEASER_VERSION="${GORELEASER_VERSION:-v2.17.0}"
if ! command -v goreleaser >/dev/null 2>&1 && [ ! -x "$GOBIN_DIR/goreleaser" ]; then
  echo "install-test-deps: building goreleaser $GORELEASER_VERSION (about 6 minutes on a cold cache)"
  (cd / && GOFLAGS=-mod=mod go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION")
fi

influxd_bin="$(command -v influxd 2>/dev/null || echo "$GOBIN_DIR/influxd")"
echo "prometheus:             $(prometheus --version 2>&1 | head -1)"
echo "prometheus-pushgateway: $(prometheus-pushgateway --version 2>&1 | head -1)"
echo "wrk:                    $(wrk --version 2>&1 | head -1)"
echo "hey:                    $(command -v hey)"
echo "influxd:                $("$influxd_bin" version 2>&1 | head -1) ($influxd_bin)"
echo "chromium:               $(chromium --version 2>/dev/null | head -1)"
echo "node:                   $(node --version 2>&1)"
echo "python3 fastapi:        $(/usr/bin/python3 -c 'import fastapi, uvicorn, prometheus_client; print(fastapi.__version__, "uvicorn", uvicorn.__version__)' 2>/dev/null || echo missing)"
echo "playwright-core:        $(node -p 'require("./scripts/browser/node_modules/playwright-core/package.json").version' 2>/dev/null || echo missing)"
echo "goreleaser:             $("$(command -v goreleaser 2>/dev/null || echo "$GOBIN_DIR/goreleaser")" --version 2>/dev/null | grep -m1 -i '^GitVersion' || echo missing)"
