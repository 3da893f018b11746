#!/usr/bin/env bash
# Initialises the cluster on first start (empty $PGDATA) and creates, for each service named in
# SMARTPICK_DB_SERVICES, database smartpick_<svc>, owned by its migration role smartpick_<svc>_owner (password
# smartpick_<svc>_owner_dev, or $SMARTPICK_<SVC>_DB_OWNER_PASSWORD), and the runtime role smartpick_<svc>
# (password smartpick_<svc>_dev, or $SMARTPICK_<SVC>_DB_PASSWORD), which the migrations grant its DML; only
# these two roles may connect to it.
# Then runs the server in the foreground.
#   POSTGRES_LISTEN_HOST   TCP listen address (default 127.0.0.1; 0.0.0.0 on a container network)
#   POSTGRES_PORT          TCP port (default 5432); TCP logins need a password (scram-sha-256)
set -euo pipefail

SOCKET_DIR=/var/run/postgresql

provision_sql() {
  local svc name upper password_var password owner_password
  for svc in $SMARTPICK_DB_SERVICES; do
    name=smartpick_$svc
    upper=$(tr '[:lower:]-' '[:upper:]_' <<<"$svc")
    password_var=SMARTPICK_${upper}_DB_PASSWORD
    password=${!password_var:-${name}_dev}
    password_var=SMARTPICK_${upper}_DB_OWNER_PASSWORD
    owner_password=${!password_var:-${name}_owner_dev}
    cat <<SQL
CREATE ROLE ${name}_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD '${owner_password//\'/\'\'}';
CREATE ROLE $name LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD '${password//\'/\'\'}';
CREATE DATABASE $name OWNER ${name}_owner;
REVOKE CONNECT ON DATABASE $name FROM PUBLIC;
GRANT CONNECT ON DATABASE $name TO ${name}_owner, $name;
SQL
  done
}

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  initdb -D "$PGDATA" -E UTF8 --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  echo "include_if_exists = 'smartpick.conf'" >>"$PGDATA/postgresql.conf"
  cat >"$PGDATA/pg_hba.conf" <<'HBA'
# TYPE  DATABASE  USER  ADDRESS     METHOD
local   all       all               peer
host    all       all   0.0.0.0/0   scram-sha-256
host    all       all   ::/0        scram-sha-256
HBA
  # Provision on a private socket and no TCP, so neither clients nor the health check see a server
  # before its databases exist.
  init_socket=$(mktemp -d)
  pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories='$init_socket'" start >/dev/null
  provision_sql | psql -X -q -v ON_ERROR_STOP=1 -h "$init_socket" -d postgres -f -
  pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null
  rmdir "$init_socket"
  echo "smartpick-postgres: created databases and roles for: $SMARTPICK_DB_SERVICES"
fi

cat >"$PGDATA/smartpick.conf" <<CONF
# Written by the entrypoint on every start, from the environment.
listen_addresses = '$POSTGRES_LISTEN_HOST'
port = $POSTGRES_PORT
unix_socket_directories = '$SOCKET_DIR'
max_connections = 200
password_encryption = 'scram-sha-256'
CONF
exec postgres -D "$PGDATA"
