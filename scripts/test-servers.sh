#!/usr/bin/env bash
# test-servers.sh starts (or stops) the real servers loadplan's outputs talk to, on loopback, for
# trying outputs and dashboards by hand. The Go integration tests do not need it: they start
# their own servers on free ports (outputs/integration). Install the servers first with
# scripts/install-test-deps.sh.
#
#   scripts/test-servers.sh start    # Prometheus :9090 (scraping 127.0.0.1:9646 every second),
#                                    # InfluxDB 1.8 :8086 (database "loadplan"), Pushgateway :9091
#                                    # (not scraped: its copy would double the dashboards' sums)
#   loadplan apply --demo plans/smoke.hcl --out prometheus --out influxdb=http://127.0.0.1:8086/loadplan
#   scripts/test-servers.sh status
#   scripts/test-servers.sh stop     # stops what start started (by pid); data stays in $DIR
#
# Environment: DIR (default ${TMPDIR:-/tmp}/loadplan-servers), PROM_PORT, INFLUX_PORT, PUSHGW_PORT,
# SCRAPE_TARGET (default 127.0.0.1:9646).
set -euo pipefail

DIR="${DIR:-${TMPDIR:-/tmp}/loadplan-servers}"
PROM_PORT="${PROM_PORT:-9090}"
INFLUX_PORT="${INFLUX_PORT:-8086}"
PUSHGW_PORT="${PUSHGW_PORT:-9091}"
SCRAPE_TARGET="${SCRAPE_TARGET:-127.0.0.1:9646}"

find_bin() {
  command -v "$1" 2>/dev/null && return
  for d in "$(go env GOBIN 2>/dev/null)" "$(go env GOPATH 2>/dev/null)/bin" "$HOME/go/bin"; do
    if [ -n "$d" ] && [ -x "$d/$1" ]; then echo "$d/$1"; return; fi
  done
  echo "test-servers: $1 not found; run scripts/install-test-deps.sh" >&2
  exit 1
}

wait_ready() { # name url
  for _ in $(seq 1 150); do
    if curl -fsS -o /dev/null "$2" 2>/dev/null; then echo "test-servers: $1 ready on $2"; return; fi
    sleep 0.2
  done
  echo "test-servers: $1 did not become ready; see $DIR/$1.log" >&2
  exit 1
}

running() { [ -f "$DIR/$1.pid" ] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }

start_one() { # name cmd...
  local name="$1"; shift
  if running "$name"; then echo "test-servers: $name already running (pid $(cat "$DIR/$name.pid"))"; return; fi
  "$@" >"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

start() {
  mkdir -p "$DIR/prometheus" "$DIR/influxdb"
  cat >"$DIR/prometheus/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: loadplan
    scrape_timeout: 900ms
    static_configs:
      - targets: ["$SCRAPE_TARGET"]
YAML
  cat >"$DIR/influxdb/influxdb.conf" <<TOML
reporting-disabled = true
bind-address = "127.0.0.1:$((INFLUX_PORT + 2))"
[meta]
  dir = "$DIR/influxdb/meta"
[data]
  dir = "$DIR/influxdb/data"
  wal-dir = "$DIR/influxdb/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$INFLUX_PORT"
  log-enabled = false
[logging]
  level = "warn"
[monitor]
  store-enabled = false
TOML
  start_one pushgateway "$(find_bin prometheus-pushgateway)" --web.listen-address="127.0.0.1:$PUSHGW_PORT"
  start_one prometheus "$(find_bin prometheus)" --config.file="$DIR/prometheus/prometheus.yml" \
    --storage.tsdb.path="$DIR/prometheus/data" --web.listen-address="127.0.0.1:$PROM_PORT"
  start_one influxd "$(find_bin influxd)" run -config "$DIR/influxdb/influxdb.conf"
  wait_ready pushgateway "http://127.0.0.1:$PUSHGW_PORT/-/ready"
  wait_ready prometheus "http://127.0.0.1:$PROM_PORT/-/ready"
  wait_ready influxd "http://127.0.0.1:$INFLUX_PORT/ping"
  curl -fsS -o /dev/null -XPOST "http://127.0.0.1:$INFLUX_PORT/query" --data-urlencode "q=CREATE DATABASE loadplan"
  echo "test-servers: database loadplan exists; data and logs in $DIR"
}

stop() {
  for name in influxd prometheus pushgateway; do
    if running "$name"; then
      kill "$(cat "$DIR/$name.pid")" && echo "test-servers: stopped $name"
    fi
    rm -f "$DIR/$name.pid"
  done
}

status() {
  for name in pushgateway prometheus influxd; do
    if running "$name"; then echo "$name: running (pid $(cat "$DIR/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
