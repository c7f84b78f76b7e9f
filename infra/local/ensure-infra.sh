#!/usr/bin/env bash
# Makes sure RabbitMQ (with the management UI) and PostgreSQL are installed, running and set up for EventShop:
# user/vhost on the broker, role and one database per service. Safe to run any number of times.
# Records what it had to start ("started <what>" lines in $EVENTSHOP_STARTED_INFRA, by default .run/started-infra), so the
# caller can stop exactly those: a broker or database that was already running stays up. Installs jq too when it is
# missing: the README's examples use it.
set -euo pipefail

RABBIT_USER=${EVENTSHOP_RABBIT_USER:-eventshop}
RABBIT_PASS=${EVENTSHOP_RABBIT_PASS:-eventshop}
RABBIT_VHOST=${EVENTSHOP_RABBIT_VHOST:-eventshop}
PG_USER=${EVENTSHOP_PG_USER:-eventshop}
PG_PASS=${EVENTSHOP_PG_PASS:-eventshop}
DATABASES=(eventshop_orders eventshop_accounts eventshop_points eventshop_sagas)
STATE_DIR=${EVENTSHOP_STATE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/.run}
STARTED_FILE=${EVENTSHOP_STARTED_INFRA:-$STATE_DIR/started-infra}
mkdir -p "$STATE_DIR"

log() { echo "[infra] $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_missing() {
  local missing=()
  command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || missing+=(rabbitmq-server)
  command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
  command -v jq >/dev/null 2>&1 || missing+=(jq)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} from the distribution's packages"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

start_postgres() {
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $4}' | grep -q online; then
    log "starting PostgreSQL"
    as_root service postgresql start >/dev/null
    echo "started postgresql" >> "$STARTED_FILE"
  fi
  for _ in $(seq 1 30); do
    as_root su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
    sleep 1
  done
  as_root su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='$PG_USER'\"" | grep -q 1 \
    || as_root su postgres -c "psql -qc \"create role $PG_USER login createdb password '$PG_PASS'\""
  for db in "${DATABASES[@]}"; do
    as_root su postgres -c "psql -qtAc \"select 1 from pg_database where datname='$db'\"" | grep -q 1 \
      || as_root su postgres -c "psql -qc 'create database $db owner $PG_USER'"
  done
  allow_socket_login
  # Many connections per service (pools) plus the tests' own databases.
  if [ "$(as_root su postgres -c "psql -qtAc 'show max_connections'")" -lt 400 ]; then
    log "raising max_connections to 400 (restart)"
    as_root su postgres -c "psql -qc 'alter system set max_connections = 400'" >/dev/null
    as_root service postgresql restart >/dev/null
  fi
}

# A queue declared by an older build with other arguments (no delivery limit, another dead-letter target, a classic queue)
# cannot be declared again by the current one: the broker refuses different arguments (PRECONDITION_FAILED) and that
# receive endpoint never starts. Every durable queue of the vhost is compared with what the services declare
# (services/Shared/EventShop.Messaging.Hosting/BusExtensions.cs): a quorum queue with the delivery limit and, as its
# dead-letter exchange, the <queue>_error of its receive queue (an _error queue dead-letters to itself). A mismatched queue
# that is empty and has no consumer is dropped, and the services declare it anew at start; one holding messages, or
# consumed by a running service, is never touched, only reported with the arguments that differ.
# MassTransit's own temporary queues (auto-delete, exclusive) and _skipped queues are not ours to judge.
DELIVERY_LIMIT=${EVENTSHOP_DELIVERY_LIMIT:-10}  # RabbitMqSettings.DeliveryLimit
drop_mismatched_empty_queues() {
  as_root rabbitmqctl -q list_queues -p "$RABBIT_VHOST" name type messages consumers durable auto_delete exclusive arguments --formatter json 2>/dev/null \
    | jq -r --argjson limit "$DELIVERY_LIMIT" '
        .[]
        | select(.durable == true and .auto_delete == false and (.exclusive | tostring | IN("", "false")) and (.name | endswith("_skipped") | not))
        | (.name | sub("_error$"; "") + "_error") as $deadLetters
        | {"x-queue-type": "quorum", "x-delivery-limit": $limit, "x-dead-letter-exchange": $deadLetters} as $expected
        | ((.arguments // []) | map({key: .[0], value: .[2]}) | from_entries) as $actual
        | select($actual != $expected)
        | [.name, (.messages | tostring), (.consumers | tostring),
           ([($expected | keys[]), ($actual | keys[])] | unique | map(select($actual[.] != $expected[.]))
            | map("\(.)=\($actual[.] // "none" | tostring) (expected \($expected[.] // "none" | tostring))") | join(", "))]
        | @tsv' \
    | while IFS=$'\t' read -r queue messages consumers difference; do
        if [ "$messages" = 0 ] && [ "$consumers" = 0 ]; then
          as_root rabbitmqctl -q delete_queue -p "$RABBIT_VHOST" "$queue" --if-empty --if-unused </dev/null >/dev/null \
            && log "dropped empty queue $queue declared with other arguments ($difference); the services declare it anew"
        else
          log "queue $queue was declared with other arguments ($difference) and holds $messages messages, $consumers consumers:" \
            "left as it is; its receive endpoint cannot start until it is emptied (moved or purged) and deleted by hand"
        fi
      done
}

start_rabbitmq() {
  if ! as_root rabbitmqctl -q status >/dev/null 2>&1; then
    # Erlang's port mapper (epmd, port 4369) starts with the first node and outlives it: ours to stop too if it was not running.
    epmd -names >/dev/null 2>&1 || echo "started epmd" >> "$STARTED_FILE"
    log "starting RabbitMQ"
    as_root service rabbitmq-server start >/dev/null
    echo "started rabbitmq-server" >> "$STARTED_FILE"
  fi
  as_root rabbitmqctl -q await_startup --timeout 60 >/dev/null
  as_root rabbitmq-plugins -q enable rabbitmq_management >/dev/null
  as_root rabbitmqctl -q list_users | awk '{print $1}' | grep -qx "$RABBIT_USER" \
    || as_root rabbitmqctl -q add_user "$RABBIT_USER" "$RABBIT_PASS" >/dev/null
  as_root rabbitmqctl -q set_user_tags "$RABBIT_USER" administrator >/dev/null
  as_root rabbitmqctl -q list_vhosts | grep -qx "$RABBIT_VHOST" || as_root rabbitmqctl -q add_vhost "$RABBIT_VHOST" >/dev/null
  as_root rabbitmqctl -q set_permissions -p "$RABBIT_VHOST" "$RABBIT_USER" ".*" ".*" ".*" >/dev/null
  drop_mismatched_empty_queues
  for _ in $(seq 1 30); do
    curl -fsS -u "$RABBIT_USER:$RABBIT_PASS" http://localhost:15672/api/overview >/dev/null 2>&1 && break
    sleep 1
  done
}

# The services started on this box (infra/eventshop start, run-plain) and the benchmark talk to PostgreSQL over its Unix
# socket: a round trip skips the kernel's TCP/IP path, a measurable share of an order's CPU on 2 cores (docs/benchmark.md).
# Debian allows only peer login over the socket, so our role gets a password line ahead of the others. The usable socket
# directory goes to $STATE_DIR/pg-socket; without it everything stays on TCP.
allow_socket_login() {
  local hba socket_dir
  hba=$(as_root su postgres -c "psql -qtAc 'show hba_file'")
  if ! grep -qE "^local[[:space:]]+all[[:space:]]+$PG_USER[[:space:]]" "$hba"; then
    log "allowing password login for $PG_USER over the Unix socket ($hba)"
    as_root awk -v line="local   all             $PG_USER                               scram-sha-256" \
      '!done && /^local/ { print line; done = 1 } { print }' "$hba" > "$STATE_DIR/pg_hba.conf.new"
    as_root sh -c "cat '$STATE_DIR/pg_hba.conf.new' > '$hba'" && rm -f "$STATE_DIR/pg_hba.conf.new"
    as_root su postgres -c "psql -qtAc 'select pg_reload_conf()'" >/dev/null
  fi
  socket_dir=$(as_root su postgres -c "psql -qtAc 'show unix_socket_directories'" | cut -d, -f1 | xargs)
  if [ -n "$socket_dir" ] && PGPASSWORD=$PG_PASS psql -h "$socket_dir" -U "$PG_USER" -d "${DATABASES[0]}" -qtAc 'select 1' >/dev/null 2>&1; then
    echo "$socket_dir" > "$STATE_DIR/pg-socket"
  else
    rm -f "$STATE_DIR/pg-socket"
  fi
}

install_missing
start_postgres
start_rabbitmq
log "RabbitMQ and PostgreSQL are ready"
