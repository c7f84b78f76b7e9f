#!/usr/bin/env bash
# Retires the shared identities of earlier EventShop versions (ADR 0020), which every process used at once:
#   RabbitMQ    eventshop            administrator on every vhost, password 'eventshop': deleted
#               eventshop-services   one user for all the services: deleted
#   PostgreSQL  eventshop            owned every database: NOLOGIN PASSWORD NULL (it cannot be dropped while it owns them;
#                                    its databases are left as they are, ensure-infra.sh reports them)
# One line per identity retired; nothing when there is nothing left to retire, so it is safe to run any number of times.
# A checkout of an earlier version on the same machine stops working with it: it must upgrade.
# Called by ensure-infra.sh. The servers are the local ones unless named (the tests point it at nodes of their own):
#   EVENTSHOP_RABBITMQ_NODE       rabbitmqctl's target node (rabbitmqctl -n); by default rabbitmqctl's own default
#   EVENTSHOP_POSTGRES_HOST       psql over TCP to this host, with EVENTSHOP_POSTGRES_PORT (5432), EVENTSHOP_POSTGRES_USER
#                                 (postgres; a superuser) and PGPASSWORD when it needs one; by default the server's
#                                 superuser over the Unix socket
set -euo pipefail

LEGACY_BROKER_USERS=(eventshop eventshop-services)
LEGACY_DATABASE_ROLE=eventshop

log() { echo "[infra] $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

node=()
[ -n "${EVENTSHOP_RABBITMQ_NODE:-}" ] && node=(-n "$EVENTSHOP_RABBITMQ_NODE")
ctl() { as_root rabbitmqctl -q "${node[@]}" "$@"; }

psql_admin() {
  if [ -n "${EVENTSHOP_POSTGRES_HOST:-}" ]; then
    psql -qtA -v ON_ERROR_STOP=1 -h "$EVENTSHOP_POSTGRES_HOST" -p "${EVENTSHOP_POSTGRES_PORT:-5432}" \
      -U "${EVENTSHOP_POSTGRES_USER:-postgres}" -d postgres
  else
    as_root su postgres -c "psql -qtA -v ON_ERROR_STOP=1 -d postgres"
  fi
}

users=$(ctl list_users | awk '{ print $1 }')
for user in "${LEGACY_BROKER_USERS[@]}"; do
  if grep -qxF "$user" <<< "$users"; then
    ctl delete_user "$user" >/dev/null
    log "retired the broker user $user (deleted): each service has its own user now (ADR 0020)"
  fi
done

# Still able to log in, or holding a password: retired. Already retired, or absent: nothing to say.
active=$(psql_admin <<< "SELECT 1 FROM pg_authid WHERE rolname = '$LEGACY_DATABASE_ROLE' AND (rolcanlogin OR rolpassword IS NOT NULL)")
if [ -n "$active" ]; then
  psql_admin <<< "ALTER ROLE $LEGACY_DATABASE_ROLE NOLOGIN PASSWORD NULL" >/dev/null
  log "retired the database role $LEGACY_DATABASE_ROLE (NOLOGIN, no password; it still owns its databases): each service has its own roles now (ADR 0020)"
fi
