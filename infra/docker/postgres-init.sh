#!/usr/bin/env bash
# Runs once, when the postgres container creates its data volume: the same identities as infra/local/ensure-infra.sh
# (ADR 0020). Per service, an owner role that owns its database and runs its migrations (the '<service>-migrate' job), and
# a runtime role with DML only; neither may connect to another service's database. Passwords come from the environment
# (infra/eventshop compose-env generates them into .env): EVENTSHOP_DB_<SERVICE>_OWNER_PASSWORD, EVENTSHOP_DB_<SERVICE>_PASSWORD.
# EVENTSHOP_SERVICE_DATABASE_SQL names the shared privileges file (mounted by compose); psql's connection comes from the
# usual PG* variables, so a test can point the script at a server of its own.
set -euo pipefail

# shellcheck source=infra/local/service-database.sh
source "${EVENTSHOP_SERVICE_DATABASE_SQL:-/eventshop/service-database.sh}"
psql_super() { psql -qtA -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "$1"; }

for service in orders accounts points sagas; do
  upper=${service^^}
  owner_password_variable=EVENTSHOP_DB_${upper}_OWNER_PASSWORD runtime_password_variable=EVENTSHOP_DB_${upper}_PASSWORD
  owner_password=${!owner_password_variable:?$owner_password_variable is not set; run infra/eventshop compose-env}
  runtime_password=${!runtime_password_variable:?$runtime_password_variable is not set; run infra/eventshop compose-env}
  psql_super postgres <<SQL
CREATE ROLE eventshop_${service}_owner LOGIN NOCREATEDB NOCREATEROLE PASSWORD '$owner_password';
CREATE ROLE eventshop_${service} LOGIN NOCREATEDB NOCREATEROLE PASSWORD '$runtime_password';
CREATE DATABASE eventshop_${service} OWNER eventshop_${service}_owner;
SQL
  service_database_privileges "$service" | psql_super "eventshop_$service"
done
