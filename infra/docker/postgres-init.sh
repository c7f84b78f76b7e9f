#!/usr/bin/env bash
# Runs once, when the postgres container creates its data volume: the same role and databases as infra/local/ensure-infra.sh.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE ${EVENTSHOP_DB_USER} LOGIN CREATEDB PASSWORD '${EVENTSHOP_DB_PASSWORD}';
CREATE DATABASE eventshop_orders OWNER ${EVENTSHOP_DB_USER};
CREATE DATABASE eventshop_accounts OWNER ${EVENTSHOP_DB_USER};
CREATE DATABASE eventshop_points OWNER ${EVENTSHOP_DB_USER};
CREATE DATABASE eventshop_sagas OWNER ${EVENTSHOP_DB_USER};
SQL
