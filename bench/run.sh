#!/usr/bin/env bash
# bench/run.sh — what `make bench` runs. It installs the peer tools when missing (wrk and hey through
# scripts/install-test-deps.sh; h2load and vegeta, at a pinned version, through
# scripts/install-bench-deps.sh, which only the bench calls), builds loadplan, the bench target server
# and the harness, raises the open-file limit for the 10,000-VU and 10,000-session cases, and runs the
# harness, which measures loadplan against wrk, hey, vegeta, h2load and k6 (when a k6 binary is
# there) on 127.0.0.1 only and writes bench/RESULTS.md.
#
# Environment:
#   ROUNDS=N    rounds of every case (default 3, 2 with QUICK; the tools alternate within each round)
#   QUICK=1     short durations: a smoke run of the harness (about 5 minutes), not figures to publish
#   CASES=a,b   only these cases: throughput,h2,echo,memory,websocket,open,soak,gobench,profile
#               (default all)
#   OUT=FILE    where to write the results (default bench/RESULTS.md)
#   K6=PATH     the k6 binary to compare with (default: k6 in PATH or GOPATH/bin, if any; the install
#               script does not install k6 unless K6_VERSION is set, see its header)
# A full run takes about 25 minutes on a 2-core machine without k6 (k6's memory cases add ~5).
set -euo pipefail

cd "$(dirname "$0")/.."
# A QUICK run does 2 rounds unless told otherwise: still paired ratios with a range, in ~5 minutes.
if [ "${QUICK:-0}" != 0 ]; then ROUNDS="${ROUNDS:-2}"; else ROUNDS="${ROUNDS:-3}"; fi
OUT="${OUT:-bench/RESULTS.md}"
CASES="${CASES:-throughput,h2,echo,memory,websocket,open,soak,gobench,profile}"

./scripts/install-test-deps.sh
./scripts/install-bench-deps.sh

# 10,000 VUs each keep a connection, and so does the target for each of them: both processes
# need well over 10,000 descriptors. Raise the soft limit to the hard one, and the hard one when
# we may (root).
want=65536
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$want" ]; then
  ulimit -Hn "$want" 2>/dev/null || true
fi
ulimit -Sn "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 20000 ]; then
  echo "bench: the open-file limit is $(ulimit -n); the 10,000-VU cases need 20000 (raise the hard limit)" >&2
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/loadplan-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "bench: building loadplan, the target server and the harness"
go build -o "$work/loadplan" ./cmd/loadplan
go build -o "$work/server" ./bench/server
go build -o "$work/harness" ./bench/harness

args=(-rounds "$ROUNDS" -loadplan "$work/loadplan" -server "$work/server" -plans bench/plans
  -commit "$(git describe --always --dirty 2>/dev/null || echo unknown)"
  -out "$OUT" -work "$work" -cases "$CASES")
if [ "${QUICK:-0}" != 0 ]; then
  args+=(-quick)
fi
if [ -n "${K6:-}" ]; then
  args+=(-k6 "$K6")
fi
"$work/harness" "${args[@]}"
