#!/usr/bin/env bash
# Native local infrastructure for Smart Pick (no Docker):
#   * Apache Kafka (KRaft, one node = broker + controller), jars from Maven Central
#   * PostgreSQL 15, our own cluster (not Debian's), per service a database, its migration and runtime roles
# All state lives under $SMARTPICK_STATE_DIR (default: <repo>/.state).
#
# Usage: stack.sh start|stop|status [kafka|postgres]
#        stack.sh env            # prints `export` lines; use: eval "$(deploy/local/stack.sh env)"
set -euo pipefail
umask 022 # the postgres user must be able to traverse the state dir we create as root

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd -P)

# Each service gets its own PostgreSQL login role and database, named in the services manifest.
SERVICES_MANIFEST=$REPO_ROOT/libs/platform/src/smartpick_platform/services.toml
# "service database" lines (Debian's python3 is 3.11: tomllib is in its standard library).
manifest_databases() {
  python3 -c 'import sys, tomllib
for name, service in tomllib.load(open(sys.argv[1], "rb"))["services"].items():
    print(name, service["database"])' "$SERVICES_MANIFEST"
}
SERVICES=()
declare -A DATABASES=()
while read -r svc database; do
  SERVICES+=("$svc")
  DATABASES[$svc]=$database
done < <(manifest_databases)
((${#SERVICES[@]})) || { echo "[stack] ERROR: no services in $SERVICES_MANIFEST" >&2; exit 1; }

STATE=${SMARTPICK_STATE_DIR:-$REPO_ROOT/.state}
[[ $STATE == /* ]] || STATE=$PWD/$STATE # we never cd, but keep every path absolute anyway
LOGS=$STATE/logs

KAFKA_PORT=${SMARTPICK_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${SMARTPICK_KAFKA_CONTROLLER_PORT:-19093}
KAFKA_HEAP_OPTS=${SMARTPICK_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
PG_PORT=${SMARTPICK_PG_PORT:-15432}
PG_DEBIAN_BIN=/usr/lib/postgresql/15/bin # where Debian's postgresql-15 puts the server binaries
PG_BIN=${SMARTPICK_PG_BIN:-$PG_DEBIAN_BIN}
START_TIMEOUT=${SMARTPICK_START_TIMEOUT:-120} # seconds
STOP_TIMEOUT=${SMARTPICK_STOP_TIMEOUT:-60}    # seconds
PG_STOP_MODE=${SMARTPICK_PG_STOP_MODE:-fast} # immediate: as in a crash (recovery on the next start)

KAFKA_SRC=$SCRIPT_DIR/kafka # pom.xml, log4j2.xml, server.properties.template (checked in)
KAFKA_DIR=$STATE/kafka
KAFKA_LIBS=$KAFKA_DIR/libs
KAFKA_DATA=$KAFKA_DIR/data
KAFKA_CONF=$KAFKA_DIR/server.properties
KAFKA_PID=$KAFKA_DIR/kafka.pid
# Passwords the set-up generates on the first start (mode 600): the broker's admin (SCRAM, a super user), the
# controller listener's user (PLAIN), and users.json, the services' and partners' (smartpick_platform.kafka_access).
KAFKA_SECRETS=$KAFKA_DIR/secrets
KAFKA_ADMIN_CLIENT=$KAFKA_SECRETS/admin-client.properties # the admin's settings for the Kafka CLI tools

PG_DIR=$STATE/postgres
PG_DATA=$PG_DIR/data
PG_SOCK=$PG_DIR/run
PG_LOG=$LOGS/postgres.log

# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------
log() { printf '[stack] %s\n' "$*" >&2; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

# Logs are appended across runs; mark_log remembers a file's size so that die_with_log shows only
# what this run wrote.
declare -A LOG_MARK=()
mark_log() { LOG_MARK[$1]=$(stat -c %s "$1" 2>/dev/null || echo 0); }

# die, showing the end of the given log files so the cause is visible without digging.
die_with_log() {
  local msg=$1 file from size
  shift
  printf '[stack] ERROR: %s\n' "$msg" >&2
  for file in "$@"; do
    size=$(stat -c %s "$file" 2>/dev/null || echo 0)
    from=${LOG_MARK[$file]:-0}
    ((size >= from)) || from=0 # rotated meanwhile
    ((size > from)) || continue
    printf '[stack] ---- last lines of %s ----\n' "$file" >&2
    tail -c +"$((from + 1))" "$file" | tail -n 30 >&2
  done
  printf '[stack] ----\n' >&2
  exit 1
}

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not found on PATH"; }
is_root() { [[ $(id -u) -eq 0 ]]; }

# True if something accepts TCP connections on 127.0.0.1:$1 (bash /dev/tcp, no extra tools).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_state_dirs() {
  mkdir -p "$STATE" "$LOGS"
  # Keep the state dir out of git without needing an entry in the repo's .gitignore.
  [[ -e $STATE/.gitignore ]] || echo '*' >"$STATE/.gitignore"
  # One start/stop at a time (e.g. two `make` targets racing on the same state dir).
  # Daemons we launch must not inherit fd 9, or they would hold this lock for their lifetime.
  exec 9>"$STATE/.stack.lock"
  flock -w "$START_TIMEOUT" 9 || die "another stack.sh holds $STATE/.stack.lock"
}

# ---------------------------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------------------------
java_bin() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then echo "$JAVA_HOME/bin/java"; else
    need java
    command -v java
  fi
}

check_java() {
  local spec
  spec=$("$(java_bin)" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
  [[ ${spec%%.*} =~ ^[0-9]+$ && ${spec%%.*} -ge 17 ]] || die "Kafka 4 needs Java 17+, found '${spec:-unknown}' ($(java_bin))"
}

# Copy the broker's runtime jars from Maven (~/.m2 cache) into the state dir; redo only when
# the pom changes (its hash is kept next to the jars).
kafka_fetch_libs() {
  local want have
  want=$(sha256sum "$KAFKA_SRC/pom.xml" | cut -d' ' -f1)
  have=$(cat "$KAFKA_LIBS/.pom.sha256" 2>/dev/null || true)
  [[ $want == "$have" ]] && return 0
  need mvn
  log "kafka: fetching jars with Maven (only when kafka/pom.xml changes)..."
  rm -rf "$KAFKA_LIBS"
  mkdir -p "$KAFKA_LIBS"
  if ! mvn -q -B -Dstyle.color=never -f "$KAFKA_SRC/pom.xml" \
    dependency:copy-dependencies -DoutputDirectory="$KAFKA_LIBS" >"$LOGS/kafka-maven.log" 2>&1; then
    die_with_log "Maven could not fetch the Kafka jars" "$LOGS/kafka-maven.log"
  fi
  echo "$want" >"$KAFKA_LIBS/.pom.sha256"
}

# Run a Kafka CLI class (StorageTool, TopicCommand, ...) on the broker's classpath, killed after
# $1 seconds. Its logging goes to logs/kafka-tools.log at WARN, so only the tool's output reaches us.
kafka_tool() {
  local secs=$1
  shift
  timeout "$secs" "$(java_bin)" -Xmx256m -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_SRC/log4j2.xml" \
    -Dsmartpick.kafka.log.file="$LOGS/kafka-tools.log" -Dsmartpick.kafka.log.level=WARN \
    -cp "$KAFKA_LIBS/*" "$@"
}

# A password of 32 letters, digits, '-' or '_' (safe inside the properties and JAAS quoting), made once.
kafka_secret() {
  local file=$KAFKA_SECRETS/$1.password
  if [[ ! -s $file ]]; then
    (umask 077 && mkdir -p "$KAFKA_SECRETS" && head -c 24 /dev/urandom | base64 | tr '+/' '-_' >"$file")
  fi
  cat "$file"
}

# Storage formatted before the broker asked for passwords has no admin credential: it is formatted anew.
kafka_drop_storage_without_credentials() {
  if [[ -f $KAFKA_DATA/meta.properties && ! -s $KAFKA_SECRETS/admin.password ]]; then
    log "kafka: the storage was formatted before the broker required passwords; formatting it anew (its topics are dropped)"
    rm -rf "$KAFKA_DATA"
  fi
}

# Rendered from the broker template on every start so port changes apply (KRaft updates the recorded voter
# endpoint). It holds the passwords: only the owner may read it.
kafka_write_config() {
  local admin controller
  admin=$(kafka_secret admin)
  controller=$(kafka_secret controller)
  (umask 077 && sed -e "s|@LISTEN_HOST@|127.0.0.1|g" -e "s|@ADVERTISED_HOST@|127.0.0.1|g" -e "s|@PORT@|$KAFKA_PORT|g" \
    -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$KAFKA_DATA|g" \
    -e "s|@ADMIN_PASSWORD@|$admin|g" -e "s|@CONTROLLER_PASSWORD@|$controller|g" \
    "$KAFKA_SRC/server.properties.template" >"$KAFKA_CONF")
  (umask 077 && printf '%s\n' 'security.protocol=SASL_PLAINTEXT' 'sasl.mechanism=SCRAM-SHA-512' \
    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"smartpick-admin\" password=\"$admin\";" \
    >"$KAFKA_ADMIN_CLIENT")
  ! grep -q '@[A-Z_]*@' "$KAFKA_CONF" || die "unreplaced placeholder in $KAFKA_CONF: $(grep -m1 '@[A-Z_]*@' "$KAFKA_CONF")"
}

# Format the KRaft log dir once (never again: that would drop every topic). The cluster id is
# random; --standalone makes this node the sole voter of a dynamic (KIP-853) controller quorum; the admin's SCRAM
# credential is written into the metadata with it (the broker reads every credential from there).
kafka_format() {
  [[ -f $KAFKA_DATA/meta.properties ]] && return 0
  local cluster_id
  cluster_id=$(kafka_tool 60 kafka.tools.StorageTool random-uuid)
  log "kafka: formatting storage (cluster id $cluster_id)"
  mkdir -p "$KAFKA_DATA"
  kafka_tool 60 kafka.tools.StorageTool format --config "$KAFKA_CONF" \
    --cluster-id "$cluster_id" --standalone \
    --add-scram "SCRAM-SHA-512=[name=smartpick-admin,password=$(kafka_secret admin)]" >"$LOGS/kafka-format.log" 2>&1 ||
    die_with_log "Kafka storage format failed" "$LOGS/kafka-format.log"
}

# Prints the broker pid if it runs (checking the command line guards against a recycled pid).
kafka_pid() {
  local pid
  pid=$(cat "$KAFKA_PID" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

# Readiness = the client port accepts connections AND a metadata request (list topics) answers.
kafka_wait_ready() {
  local pid=$1 deadline=$((SECONDS + START_TIMEOUT))
  local logs=("$LOGS/kafka.out" "$LOGS/kafka-server.log")
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$KAFKA_PID"
      die_with_log "Kafka exited during startup" "${logs[@]}"
    fi
    if port_open "$KAFKA_PORT" &&
      kafka_tool 30 org.apache.kafka.tools.TopicCommand \
        --bootstrap-server "127.0.0.1:$KAFKA_PORT" --command-config "$KAFKA_ADMIN_CLIENT" \
        --list >/dev/null 2>>"$LOGS/kafka-tools.log"; then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      kafka_stop # don't leave a half-started broker behind for the next `start` to trust
      die_with_log "Kafka not ready after ${START_TIMEOUT}s" "${logs[@]}"
    fi
    sleep 1
  done
}

# Client port of the running broker, from the config it was started with.
kafka_running_port() { sed -n 's|^listeners=CLIENT://[^,]*:\([0-9]*\),.*|\1|p' "$KAFKA_CONF"; }

kafka_start() {
  local pid port
  if pid=$(kafka_pid); then
    port=$(kafka_running_port)
    log "kafka: already running (pid $pid) on 127.0.0.1:$port"
    [[ $port == "$KAFKA_PORT" ]] || die "kafka runs on port $port, not $KAFKA_PORT; stop it first to change ports"
    return 0
  fi
  rm -f "$KAFKA_PID"
  check_java
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is already in use (set SMARTPICK_KAFKA_PORT)"
  port_open "$KAFKA_CONTROLLER_PORT" && die "port $KAFKA_CONTROLLER_PORT is already in use (set SMARTPICK_KAFKA_CONTROLLER_PORT)"
  mkdir -p "$KAFKA_DIR"
  kafka_fetch_libs
  kafka_drop_storage_without_credentials
  kafka_write_config
  kafka_format

  log "kafka: starting on 127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
  mark_log "$LOGS/kafka.out"
  mark_log "$LOGS/kafka-server.log"
  # setsid: own session, so a Ctrl-C aimed at whatever ran us (make, a test runner) does not hit
  # the broker; nohup + redirects: survives the terminal closing and never writes to it.
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags
  setsid nohup "$(java_bin)" $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_SRC/log4j2.xml" \
    -Dsmartpick.kafka.log.file="$LOGS/kafka-server.log" -Dsmartpick.kafka.log.level=INFO \
    -Dkafka.logs.dir="$LOGS" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_CONF" \
    </dev/null >>"$LOGS/kafka.out" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$KAFKA_PID"
  kafka_wait_ready "$pid"
  log "kafka: ready (pid $pid), bootstrap 127.0.0.1:$KAFKA_PORT"
}

kafka_stop() {
  local pid deadline
  if ! pid=$(kafka_pid); then
    rm -f "$KAFKA_PID"
    log "kafka: not running"
    return 0
  fi
  log "kafka: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true # graceful: controlled shutdown, flushes logs
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "kafka: still alive after ${STOP_TIMEOUT}s, sending SIGKILL (next start will run log recovery)"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$KAFKA_PID"
  log "kafka: stopped"
}

kafka_status() {
  local pid
  if pid=$(kafka_pid); then
    echo "kafka:    running (pid $pid) bootstrap=127.0.0.1:$(kafka_running_port), data $KAFKA_DATA"
  else
    echo "kafka:    stopped"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------
# PostgreSQL refuses to run as root, so as root we run it as the `postgres` system user.
pg_os_user() { if is_root; then echo postgres; else id -un; fi; }

pg_run() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Superuser session over the unix socket (peer auth: db superuser = the OS user running postgres).
pg_psql() {
  pg_run "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" \
    -U "$(pg_os_user)" -d postgres "$@"
}

pg_ensure_binaries() {
  [[ -x $PG_BIN/initdb ]] && return 0
  # Auto-install only as root and only for the Debian layout; a custom SMARTPICK_PG_BIN is the user's.
  if ! is_root || [[ $PG_BIN != "$PG_DEBIAN_BIN" ]]; then
    die "PostgreSQL 15 not found in $PG_BIN; install Debian's postgresql-15 (sudo apt-get install postgresql-15) or set SMARTPICK_PG_BIN"
  fi
  need apt-get
  log "postgres: installing Debian package postgresql-15 (one time)"
  # We run our own cluster; stop the package from creating (and starting) a 'main' cluster on 5432.
  if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
    mkdir -p /etc/postgresql-common
    echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
  fi
  export DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1
  {
    apt-get update -q &&
      apt-get install -y -q --no-install-recommends --no-upgrade \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql-15
  } >"$LOGS/postgres-apt.log" 2>&1 || die_with_log "apt-get install postgresql-15 failed" "$LOGS/postgres-apt.log"
  [[ -x $PG_BIN/initdb ]] || die "postgresql-15 installed but $PG_BIN/initdb is still missing"
}

pg_ensure_os_user() {
  is_root || return 0
  id postgres >/dev/null 2>&1 && return 0
  log "postgres: creating system user 'postgres'"
  useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
    --shell /usr/sbin/nologin postgres
}

# Settings we own live in smartpick.conf (included from postgresql.conf), rewritten on every start
# so a changed port applies without re-initialising.
pg_write_config() {
  local sock=${PG_SOCK//\'/\'\'}
  cat >"$PG_DATA/smartpick.conf" <<EOF
# Generated by deploy/local/stack.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$sock'
max_connections = 200
password_encryption = 'scram-sha-256'
fsync = on
EOF
  # Local socket: OS user = db user (admin only, socket dir is private). TCP: passwords only.
  cat >"$PG_DATA/pg_hba.conf" <<'EOF'
# Generated by deploy/local/stack.sh.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  peer
host    all       all   127.0.0.1/32   scram-sha-256
EOF
  is_root && chown postgres: "$PG_DATA/smartpick.conf" "$PG_DATA/pg_hba.conf"
  return 0
}

pg_init() {
  [[ -f $PG_DATA/PG_VERSION ]] && return 0
  local locale=C
  locale -a 2>/dev/null | grep -qix 'c\.utf-\?8' && locale=C.UTF-8
  log "postgres: initialising cluster in $PG_DATA"
  rm -rf "$PG_DATA"
  mkdir -p "$PG_DATA"
  if is_root; then
    chown postgres: "$PG_DIR" "$PG_DATA"
    # postgres must be able to reach its data dir through every parent directory.
    runuser -u postgres -- test -x "$PG_DIR" ||
      die "user 'postgres' cannot access $PG_DIR (a parent directory is not world-executable); set SMARTPICK_STATE_DIR elsewhere"
  fi
  chmod 700 "$PG_DATA"
  pg_run "$PG_BIN/initdb" -D "$PG_DATA" -E UTF8 --locale="$locale" \
    --auth-local=peer --auth-host=scram-sha-256 >"$LOGS/postgres-initdb.log" 2>&1 ||
    die_with_log "initdb failed" "$LOGS/postgres-initdb.log"
  echo "include_if_exists = 'smartpick.conf'" >>"$PG_DATA/postgresql.conf"
}

pg_running() { pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; }

# Line 1 of postmaster.pid is the pid, line 4 the port of the running server.
pg_running_pid() { sed -n 1p "$PG_DATA/postmaster.pid"; }
pg_running_port() { sed -n 4p "$PG_DATA/postmaster.pid"; }

# Per service two login roles and one database; safe to re-run on every start. The migration role
# (<database>_owner) owns the database and its tables and applies the migrations; the runtime role (<database>,
# what the service connects as) owns nothing, and gets its DML grants from the migrations (smartpick_platform.db).
pg_provision() {
  local svc name owner role sql=""
  for svc in "${SERVICES[@]}"; do
    name=${DATABASES[$svc]} # the database and its runtime role share the name
    owner=${name}_owner
    for role in "$owner" "$name"; do
      sql+="
SELECT format('CREATE ROLE %I LOGIN', '$role')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') \\gexec
ALTER ROLE $role WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD '${role}_dev';"
    done
    sql+="
SELECT format('CREATE DATABASE %I OWNER %I', '$name', '$owner')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$name') \\gexec
ALTER DATABASE $name OWNER TO $owner;
-- Only the owning service may connect: no crossing between service databases.
REVOKE CONNECT ON DATABASE $name FROM PUBLIC;
GRANT CONNECT ON DATABASE $name TO $owner, $name;
-- A database made when the service's one role owned everything: its tables move to the migration role.
\\connect $name
REASSIGN OWNED BY $name TO $owner;
\\connect postgres
"
  done
  printf '%s\n' "$sql" | pg_psql -f - >>"$LOGS/postgres-provision.log" 2>&1 ||
    die_with_log "creating service roles/databases failed" "$LOGS/postgres-provision.log"
}

pg_start() {
  local port
  if [[ -f $PG_DATA/PG_VERSION ]] && pg_running; then
    port=$(pg_running_port)
    log "postgres: already running (pid $(pg_running_pid)) on 127.0.0.1:$port"
    [[ $port == "$PG_PORT" ]] || die "postgres runs on port $port, not $PG_PORT; stop it first to change ports"
    return 0
  fi
  port_open "$PG_PORT" && die "port $PG_PORT is already in use (set SMARTPICK_PG_PORT)"
  # Unix socket paths are limited to 107 bytes.
  ((${#PG_SOCK} + 20 < 108)) || die "socket path $PG_SOCK is too long; use a shorter SMARTPICK_STATE_DIR"
  pg_ensure_binaries
  pg_ensure_os_user
  mkdir -p "$PG_DIR"
  pg_init
  mkdir -p "$PG_SOCK"
  chmod 700 "$PG_SOCK"
  touch "$PG_LOG"
  is_root && chown postgres: "$PG_SOCK" "$PG_LOG"
  pg_write_config

  log "postgres: starting on 127.0.0.1:$PG_PORT"
  mark_log "$PG_LOG"
  pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$START_TIMEOUT" start >/dev/null 2>&1 9>&- ||
    die_with_log "PostgreSQL failed to start (or was not ready within ${START_TIMEOUT}s)" "$PG_LOG"
  pg_provision
  log "postgres: ready on 127.0.0.1:$PG_PORT (databases of: ${SERVICES[*]})"
}

pg_stop() {
  if ! [[ -f $PG_DATA/PG_VERSION ]] || ! pg_running; then
    log "postgres: not running"
    return 0
  fi
  log "postgres: stopping"
  pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "$PG_STOP_MODE" -w -t "$STOP_TIMEOUT" stop >/dev/null 2>&1 ||
    die_with_log "PostgreSQL failed to stop within ${STOP_TIMEOUT}s" "$PG_LOG"
  log "postgres: stopped"
}

pg_status() {
  if [[ -x $PG_BIN/pg_ctl && -f $PG_DATA/PG_VERSION ]] && pg_running; then
    echo "postgres: running (pid $(pg_running_pid)) on 127.0.0.1:$(pg_running_port), data $PG_DATA"
  else
    echo "postgres: stopped"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------
print_env() {
  local svc upper db
  echo "export SMARTPICK_KAFKA_BOOTSTRAP='127.0.0.1:$KAFKA_PORT'"
  # The admin's credentials (a super user: for the set-up and an operator's tools), and where the set-up keeps
  # the services' passwords.
  echo "export SMARTPICK_KAFKA_SECURITY_PROTOCOL='SASL_PLAINTEXT'"
  echo "export SMARTPICK_KAFKA_SASL_MECHANISM='SCRAM-SHA-512'"
  echo "export SMARTPICK_KAFKA_SASL_USERNAME='smartpick-admin'"
  [[ ! -s $KAFKA_SECRETS/admin.password ]] || echo "export SMARTPICK_KAFKA_SASL_PASSWORD='$(cat "$KAFKA_SECRETS/admin.password")'"
  echo "export SMARTPICK_KAFKA_SECRETS_DIR='$KAFKA_SECRETS'"
  for svc in "${SERVICES[@]}"; do
    upper=$(tr '[:lower:]-' '[:upper:]_' <<<"$svc")
    db=${DATABASES[$svc]}
    echo "export SMARTPICK_${upper}_DATABASE_URL='postgresql://$db:${db}_dev@127.0.0.1:$PG_PORT/$db'"
    echo "export SMARTPICK_${upper}_MIGRATION_DATABASE_URL='postgresql://${db}_owner:${db}_owner_dev@127.0.0.1:$PG_PORT/$db'"
  done
}

usage() {
  cat >&2 <<EOF
usage: $(basename "$0") start|stop|status [kafka|postgres]
       $(basename "$0") env
State: $STATE   Logs: $LOGS
EOF
  exit 2
}

main() {
  local cmd=${1:-} what=${2:-all}
  [[ $# -le 2 ]] || usage
  case $what in all | kafka | postgres) ;; *) usage ;; esac
  case $cmd in
    start)
      ensure_state_dirs
      # Postgres first: it is quick, and Kafka's readiness wait dominates.
      [[ $what == kafka ]] || pg_start
      [[ $what == postgres ]] || kafka_start
      ;;
    stop)
      ensure_state_dirs
      [[ $what == postgres ]] || kafka_stop
      [[ $what == kafka ]] || pg_stop
      ;;
    status)
      local rc=0
      if [[ $what != postgres ]]; then kafka_status || rc=1; fi
      if [[ $what != kafka ]]; then pg_status || rc=1; fi
      echo "state:    $STATE (logs in $LOGS)"
      return "$rc"
      ;;
    env)
      [[ $what == all ]] || usage
      print_env
      ;;
    *) usage ;;
  esac
}

main "$@"
