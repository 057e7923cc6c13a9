#!/usr/bin/env bash
# install-bench-deps.sh installs the peer tools that only the benchmark (`make bench`, bench/run.sh)
# compares loadplan with, beyond what scripts/install-test-deps.sh already installs (wrk, hey):
#   - h2load, from the Debian package nghttp2-client (the HTTP/2 peer);
#   - vegeta, built with `go install` at a pinned version (VEGETA_VERSION);
#   - k6, only when K6_VERSION is set (see below), also with `go install`.
# It is idempotent: what is already there (in PATH or GOPATH/bin) is skipped, and a second run only
# prints the versions. `make test` never calls it: CI does not need these tools.
#
# k6 is not installed by default: its module is under the AGPL, and this project's machines are
# set up not to fetch it. The harness measures k6 whenever a k6 binary is on PATH (or K6=path is
# given to bench/run.sh); install one yourself, or set K6_VERSION (e.g. v1.8.1) where your
# environment allows `go install go.k6.io/k6@VERSION`. Without it the k6 rows of bench/RESULTS.md
# say "not measured".
#
# Environment: SUDO (default "sudo" when not root), VEGETA_VERSION (default v12.13.0), K6_VERSION
# (default empty: do not install k6).
set -euo pipefail

VEGETA_VERSION="${VEGETA_VERSION:-v12.13.0}"
K6_VERSION="${K6_VERSION:-}"
if [ "$(id -u)" -eq 0 ]; then SUDO="${SUDO:-}"; else SUDO="${SUDO:-sudo}"; fi
GOBIN_DIR="$(go env GOBIN 2>/dev/null || true)"
if [ -z "$GOBIN_DIR" ]; then GOBIN_DIR="$(go env GOPATH)/bin"; fi

# have NAME: the binary is in PATH or in GOPATH/bin.
have() { command -v "$1" >/dev/null 2>&1 || [ -x "$GOBIN_DIR/$1" ]; }
# bin NAME: its path, for the version lines.
bin() { command -v "$1" 2>/dev/null || echo "$GOBIN_DIR/$1"; }

if ! have h2load; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-bench-deps: h2load is missing and there is no apt-get here; install nghttp2-client by hand" >&2
    exit 1
  fi
  echo "install-bench-deps: installing nghttp2-client (h2load)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nghttp2-client
fi

# GOFLAGS=-mod=mod and cd /: the tools are built in module mode outside this repository.
if ! have vegeta; then
  echo "install-bench-deps: building vegeta $VEGETA_VERSION (about 30 s on a cold cache)"
  (cd / && GOFLAGS=-mod=mod go install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION")
fi

if [ -n "$K6_VERSION" ] && ! have k6; then
  echo "install-bench-deps: building k6 $K6_VERSION (several minutes on a cold cache)"
  (cd / && GOFLAGS=-mod=mod go install "go.k6.io/k6@$K6_VERSION")
fi

echo "h2load:                 $(h2load --version 2>&1 | head -1)"
echo "vegeta:                 $(go version -m "$(bin vegeta)" 2>/dev/null | awk '$1 == "mod" {print $3}') ($(bin vegeta))"
if have k6; then
  echo "k6:                     $("$(bin k6)" version 2>&1 | head -1) ($(bin k6))"
else
  echo "k6:                     not installed (the bench's k6 rows will say \"not measured\"; see this script's header)"
fi
