#!/usr/bin/env bash
# End-to-end benchmark of a locally running EventShop (called by `infra/eventshop bench`; see docs/benchmark.md).
# Starts the system if it is not running, runs the default profile (limit probes, a max-throughput phase, an offered
# 100 orders/s phase; about two minutes on 2 cores once the system is up) and writes
# results/<timestamp>/{report.md,report.json,latency.svg}.
# Extra arguments go to the load generator, e.g. `infra/eventshop bench --rate 150 --max-concurrency 96`.
# Exit code: 0 when every invariant held, 1 when one did not, 2 on bad arguments or a load generator that does not build.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUN_DIR="$ROOT/.run"
CONFIGURATION=${CONFIGURATION:-Release}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { echo "[bench] $*" >&2; }

running() {
  local name _
  while read -r name _; do
    case "$name" in '' | '#'*) continue ;; esac
    [ -f "$RUN_DIR/pids/$name" ] && kill -0 "$(cat "$RUN_DIR/pids/$name")" 2>/dev/null || return 1
  done < "$ROOT/infra/services"
}

started_here=false
if running; then
  log "EventShop is already running; benchmarking it as it is (its build may be older than the working tree)"
else
  log "starting EventShop"
  # 'start' starts only the services that are not running, then waits until every one is healthy.
  "$ROOT/infra/eventshop" start >/dev/null
  started_here=true
fi

stop_if_started() {
  if $started_here && [ "${BENCH_KEEP_RUNNING:-0}" != 1 ]; then
    log "stopping the EventShop this bench started (BENCH_KEEP_RUNNING=1 keeps it)"
    "$ROOT/infra/eventshop" stop
  fi
}
trap stop_if_started EXIT

OUT="$ROOT/results/$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
log "building the load generator"
if ! build_output=$(dotnet build "$ROOT/tests/EventShop.LoadTests/EventShop.LoadTests.csproj" -c "$CONFIGURATION" -v quiet -nologo 2>&1); then
  log "the load generator does not build:"; echo "$build_output" | tail -30 >&2; exit 2
fi

# The database probe connects the way the services do: over the Unix socket when 'start' uses it.
pg_host=()
[ -s "$RUN_DIR/pg-socket" ] && pg_host=(--pg-host "$(cat "$RUN_DIR/pg-socket")")

# The probes and counters act as the administrators ensure-infra.sh created (passwords in .run/secrets, ADR 0020).
secrets=${EVENTSHOP_SECRETS_DIR:-$RUN_DIR/secrets}
admins=(--rabbit-user eventshop-admin --rabbit-password "$(cat "$secrets/rabbitmq-admin")"
  --pg-user eventshop_admin --pg-password "$(cat "$secrets/postgres-admin")")

set +e
dotnet "$ROOT/tests/EventShop.LoadTests/bin/$CONFIGURATION/net10.0/EventShop.LoadTests.dll" \
  --gateway http://localhost:8080 --out "$OUT" --pids "$RUN_DIR/pids" "${pg_host[@]}" "${admins[@]}" "$@" | tee "$OUT/console.log"
status=${PIPESTATUS[0]}
set -e

log "report: $OUT/report.md (also report.json, latency.svg, console.log)"
exit "$status"
