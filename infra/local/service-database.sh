#!/usr/bin/env bash
# What each service's database grants to whom (ADR 0020), sourced by infra/local/ensure-infra.sh (the local run) and
# infra/docker/postgres-init.sh (compose), so both set up the same identities.

# service_database_privileges SERVICE: SQL to run in eventshop_SERVICE as a superuser. Only the service's two roles may
# connect; nobody but the owner (eventshop_SERVICE_owner, the migrations) may create anything; the runtime role
# (eventshop_SERVICE) gets DML on what the owner's migrations create (default privileges) and on what they created already.
service_database_privileges() {
  local db=eventshop_$1 owner=eventshop_$1_owner runtime=eventshop_$1
  cat <<SQL
REVOKE ALL ON DATABASE $db FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE $db TO $owner, $runtime;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE $owner GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO $runtime;
ALTER DEFAULT PRIVILEGES FOR ROLE $owner GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO $runtime;
ALTER DEFAULT PRIVILEGES FOR ROLE $owner GRANT USAGE ON SCHEMAS TO $runtime;
ALTER DEFAULT PRIVILEGES FOR ROLE $owner GRANT EXECUTE ON FUNCTIONS TO $runtime;
DO \$\$ DECLARE s name; BEGIN
  FOR s IN SELECT nspname FROM pg_namespace WHERE nspowner = '$owner'::regrole OR nspname = 'public' LOOP
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO $runtime', s);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO $runtime', s);
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO $runtime', s);
  END LOOP;
END \$\$;
SQL
}
