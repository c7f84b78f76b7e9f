#!/usr/bin/env bash
# Makes sure RabbitMQ (with the management UI) and PostgreSQL are installed, running and set up for EventShop:
# the broker's vhost and users, one database per service with its roles. Safe to run any number of times.
# Records what it had to start ("started <what>" lines in $EVENTSHOP_STARTED_INFRA, by default .run/started-infra), so the
# caller can stop exactly those: a broker or database that was already running stays up. Installs jq too when it is
# missing (the README's examples use it), and faketime (tests run a saga host or a PostgreSQL with a skewed clock).
#
# No password is committed (ADR 0020): each identity's password is generated on first use into $EVENTSHOP_SECRETS_DIR
# (by default .run/secrets, git-ignored, mode 700) and set on the server on every run, so the file and the server agree.
#   PostgreSQL  eventshop_admin            CREATEDB CREATEROLE: the tests create their databases and roles with it
#               eventshop_<service>_owner  owns eventshop_<service> and runs its migrations; CONNECT to it only
#               eventshop_<service>        the service at run time: DML on what the owner created, no DDL, CONNECT to it only
#   RabbitMQ    eventshop-admin            administrator: the tests create their vhosts with it
#               eventshop-<service>        a service's bus on vhost 'eventshop', only its queues and messages (infra/broker-permissions)
#               eventshop-operator         management tag: the dashboard reads error queues (management API and AMQP)
# The shared identities of earlier versions (broker users 'eventshop' and 'eventshop-services', database role 'eventshop')
# are retired (retire-legacy-identities.sh): a checkout of an earlier version on this machine must upgrade. A database
# that exists with another owner (the retired role's) is reported and left as it is.
set -euo pipefail

RABBIT_VHOST=${EVENTSHOP_RABBIT_VHOST:-eventshop}
SERVICES_WITH_DATABASE=(orders accounts points sagas)
STATE_DIR=${EVENTSHOP_STATE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/.run}
SECRETS_DIR=${EVENTSHOP_SECRETS_DIR:-$STATE_DIR/secrets}
STARTED_FILE=${EVENTSHOP_STARTED_INFRA:-$STATE_DIR/started-infra}
mkdir -p "$STATE_DIR" "$SECRETS_DIR"
chmod 700 "$SECRETS_DIR"

log() { echo "[infra] $*" >&2; }
# shellcheck source=infra/local/service-database.sh
source "$(dirname "$0")/service-database.sh"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# secret NAME: the password in $SECRETS_DIR/NAME, generated (hex, 192 bits) the first time it is asked for.
secret() {
  local file="$SECRETS_DIR/$1"
  [ -s "$file" ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$file")
  cat "$file"
}

# psql as the server's superuser, SQL on stdin, stopping at the first error.
psql_admin() { as_root su postgres -c "psql -qtA -v ON_ERROR_STOP=1 ${1:+-d $1}"; }

# ensure_role NAME PASSWORD OPTIONS: the role exists, logs in with PASSWORD and has exactly OPTIONS.
ensure_role() {
  psql_admin <<SQL >/dev/null
SET client_min_messages = warning;
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN CREATE ROLE $1; END IF;
END \$\$;
ALTER ROLE $1 WITH LOGIN PASSWORD '$2' $3;
GRANT eventshop_login TO $1;
SQL
}

install_missing() {
  local missing=()
  command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || missing+=(rabbitmq-server)
  command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
  command -v jq >/dev/null 2>&1 || missing+=(jq)
  # infra/eventshop generates the development token issuer's key pair with it.
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  # The clock-skew battery test runs a saga host, and OutboxRelayClockTests a private PostgreSQL, under its libfaketime (LD_PRELOAD).
  command -v faketime >/dev/null 2>&1 || missing+=(faketime)
  # The network partition battery tests run a service in a network namespace (ip netns) and cut it off with nftables.
  command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || missing+=(iproute2)
  command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
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
  # Members may log in over the Unix socket with a password (allow_socket_login); the group itself cannot log in.
  psql_admin <<SQL >/dev/null
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'eventshop_login') THEN CREATE ROLE eventshop_login NOLOGIN; END IF;
END \$\$;
SQL
  ensure_role eventshop_admin "$(secret postgres-admin)" "CREATEDB CREATEROLE"
  local service db owner
  for service in "${SERVICES_WITH_DATABASE[@]}"; do
    db=eventshop_$service
    ensure_role "eventshop_${service}_owner" "$(secret "postgres-$service-owner")" "NOCREATEDB NOCREATEROLE"
    ensure_role "eventshop_${service}" "$(secret "postgres-$service")" "NOCREATEDB NOCREATEROLE"
    owner=$(echo "select pg_get_userbyid(datdba) from pg_database where datname = '$db'" | psql_admin)
    if [ -z "$owner" ]; then
      echo "create database $db owner eventshop_${service}_owner" | psql_admin >/dev/null
      owner=eventshop_${service}_owner
    fi
    if [ "$owner" != "eventshop_${service}_owner" ]; then
      log "database $db belongs to $owner (an earlier version's role): left as it is; the services of this checkout cannot use it"
      continue
    fi
    service_database_privileges "$service" | psql_admin "$db" >/dev/null
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

# ensure_broker_user NAME PASSWORD TAGS [CONFIGURE WRITE READ]: the user exists with PASSWORD and exactly TAGS, with the
# given permissions on the vhost (every permission when none are given).
ensure_broker_user() {
  as_root rabbitmqctl -q list_users | awk '{print $1}' | grep -qx "$1" || as_root rabbitmqctl -q add_user "$1" "$2" >/dev/null
  as_root rabbitmqctl -q change_password "$1" "$2" >/dev/null
  # shellcheck disable=SC2086 # no tags: no argument
  as_root rabbitmqctl -q set_user_tags "$1" $3 >/dev/null
  as_root rabbitmqctl -q set_permissions -p "$RABBIT_VHOST" "$1" "${4:-.*}" "${5:-.*}" "${6:-.*}" >/dev/null
}

# broker_permission SERVICE configure|write|read: the pattern infra/broker-permissions gives it.
broker_permission() {
  awk -v service="$1" -v permission="$2" '$1 == service && $2 == permission { print $3 }' "$(dirname "$0")/../broker-permissions"
}

start_rabbitmq() {
  # Erlang's port mapper (epmd, port 4369) starts with the first Erlang node and outlives it: ours to stop too if it was not
  # running. Asked before rabbitmqctl, whose own CLI node starts it.
  local epmd_was_running=yes
  epmd -names >/dev/null 2>&1 || epmd_was_running=
  if ! as_root rabbitmqctl -q status >/dev/null 2>&1; then
    [ -n "$epmd_was_running" ] || echo "started epmd" >> "$STARTED_FILE"
    log "starting RabbitMQ"
    as_root service rabbitmq-server start >/dev/null
    echo "started rabbitmq-server" >> "$STARTED_FILE"
  fi
  as_root rabbitmqctl -q await_startup --timeout 60 >/dev/null
  as_root rabbitmq-plugins -q enable rabbitmq_management >/dev/null
  as_root rabbitmqctl -q list_vhosts | grep -qx "$RABBIT_VHOST" || as_root rabbitmqctl -q add_vhost "$RABBIT_VHOST" >/dev/null
  ensure_broker_user eventshop-admin "$(secret rabbitmq-admin)" administrator
  # Each service its own user, limited to its own queues and messages (infra/broker-permissions).
  local service
  for service in $(awk '!/^#/ && NF { print $1 }' "$(dirname "$0")/../broker-permissions" | sort -u); do
    ensure_broker_user "eventshop-$service" "$(secret "rabbitmq-$service")" "" \
      "$(broker_permission "$service" configure)" "$(broker_permission "$service" write)" "$(broker_permission "$service" read)"
  done
  ensure_broker_user eventshop-operator "$(secret rabbitmq-operator)" management
  drop_mismatched_empty_queues
  for _ in $(seq 1 30); do
    curl -fsS -u "eventshop-admin:$(secret rabbitmq-admin)" http://localhost:15672/api/overview >/dev/null 2>&1 && break
    sleep 1
  done
}

# The services started on this box (infra/eventshop start, run-plain) and the benchmark talk to PostgreSQL over its Unix
# socket: a round trip skips the kernel's TCP/IP path, a measurable share of an order's CPU on 2 cores (docs/benchmark.md).
# Debian allows only peer login over the socket, so our roles (members of eventshop_login) get a password line ahead of the others. The usable socket
# directory goes to $STATE_DIR/pg-socket; without it everything stays on TCP.
allow_socket_login() {
  local hba socket_dir
  hba=$(as_root su postgres -c "psql -qtAc 'show hba_file'")
  if ! grep -qE "^local[[:space:]]+all[[:space:]]+\+eventshop_login[[:space:]]" "$hba"; then
    log "allowing password login for the members of eventshop_login over the Unix socket ($hba)"
    as_root awk -v line="local   all             +eventshop_login                        scram-sha-256" \
      '!done && /^local/ { print line; done = 1 } { print }' "$hba" > "$STATE_DIR/pg_hba.conf.new"
    as_root sh -c "cat '$STATE_DIR/pg_hba.conf.new' > '$hba'" && rm -f "$STATE_DIR/pg_hba.conf.new"
    as_root su postgres -c "psql -qtAc 'select pg_reload_conf()'" >/dev/null
  fi
  socket_dir=$(as_root su postgres -c "psql -qtAc 'show unix_socket_directories'" | cut -d, -f1 | xargs)
  if [ -n "$socket_dir" ] && PGPASSWORD=$(secret postgres-admin) psql -h "$socket_dir" -U eventshop_admin -d postgres -qtAc 'select 1' >/dev/null 2>&1; then
    echo "$socket_dir" > "$STATE_DIR/pg-socket"
  else
    rm -f "$STATE_DIR/pg-socket"
  fi
}

install_missing
start_postgres
start_rabbitmq
"$(dirname "$0")/retire-legacy-identities.sh"
log "RabbitMQ and PostgreSQL are ready"
