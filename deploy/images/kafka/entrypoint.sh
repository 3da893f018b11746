#!/usr/bin/env bash
# Writes the broker's configuration from the environment, formats the KRaft storage once, and runs the
# broker in the foreground (logs on stdout).
#   KAFKA_LISTEN_HOST      address of the client listener (default 127.0.0.1; 0.0.0.0 on a container network)
#   KAFKA_ADVERTISED_HOST  address clients are told to use (default: KAFKA_LISTEN_HOST)
#   KAFKA_PORT             client port (SASL_PLAINTEXT, SCRAM-SHA-512), default 9092
#   KAFKA_CONTROLLER_PORT  KRaft controller port, on 127.0.0.1 only, default 9093
#   KAFKA_CLUSTER_ID       cluster id used when the storage is formatted (default: a random one)
#   KAFKA_HEAP_OPTS        JVM heap flags
#   KAFKA_ADMIN_PASSWORD   password of smartpick-admin, the super user clients authenticate as with SCRAM-SHA-512
#                          (written into the storage when it is formatted); required
#   KAFKA_CONTROLLER_PASSWORD  password of the controller listener's user (PLAIN); required
# Every other user and its ACLs are made by the set-up: python -m smartpick_platform.kafka_access.
set -euo pipefail

for name in KAFKA_ADMIN_PASSWORD KAFKA_CONTROLLER_PASSWORD; do
  if [[ ! ${!name:-} =~ ^[A-Za-z0-9_-]{16,}$ ]]; then
    echo "$name must be set: 16 or more letters, digits, '-' or '_' (e.g. from: openssl rand -base64 24 | tr '+/' '-_')" >&2
    exit 1
  fi
done

DATA=/var/lib/kafka/data
CONF=/var/lib/kafka/server.properties
CLASSPATH_JARS='/opt/kafka/libs/*'
ADVERTISED_HOST=${KAFKA_ADVERTISED_HOST:-$KAFKA_LISTEN_HOST}
LOG4J=(-Dlog4j2.configurationFile=/opt/kafka/log4j2.xml)
TOOL_LOG=(-Dsmartpick.kafka.log.level=WARN -Dsmartpick.kafka.log.target=SYSTEM_ERR)

# The broker template the native stack renders too (deploy/local/kafka/server.properties.template).
sed -e "s|@LISTEN_HOST@|$KAFKA_LISTEN_HOST|g" -e "s|@ADVERTISED_HOST@|$ADVERTISED_HOST|g" -e "s|@PORT@|$KAFKA_PORT|g" \
  -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$DATA|g" \
  -e "s|@ADMIN_PASSWORD@|$KAFKA_ADMIN_PASSWORD|g" -e "s|@CONTROLLER_PASSWORD@|$KAFKA_CONTROLLER_PASSWORD|g" \
  /opt/kafka/server.properties.template >"$CONF"
chmod 600 "$CONF"
if grep -q '@[A-Z_]*@' "$CONF"; then
  echo "unreplaced placeholder in $CONF: $(grep -m1 '@[A-Z_]*@' "$CONF")" >&2
  exit 1
fi

if [[ ! -f $DATA/meta.properties ]]; then
  cluster_id=${KAFKA_CLUSTER_ID:-$(java -Xmx128m -XX:TieredStopAtLevel=1 "${LOG4J[@]}" "${TOOL_LOG[@]}" \
    -cp "$CLASSPATH_JARS" kafka.tools.StorageTool random-uuid)}
  java -Xmx256m -XX:TieredStopAtLevel=1 "${LOG4J[@]}" "${TOOL_LOG[@]}" -cp "$CLASSPATH_JARS" \
    kafka.tools.StorageTool format --config "$CONF" --cluster-id "$cluster_id" --standalone \
    --add-scram "SCRAM-SHA-512=[name=smartpick-admin,password=$KAFKA_ADMIN_PASSWORD]"
fi

# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of JVM flags
exec java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExplicitGCInvokesConcurrent \
  -Djava.awt.headless=true "${LOG4J[@]}" -cp "$CLASSPATH_JARS" kafka.Kafka "$CONF"
