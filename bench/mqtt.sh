#!/usr/bin/env bash
# MQTT ingest benchmark (not a test): QoS 1 durable readings/s and PUBACK latency p50/p99 with many
# devices. Netty MQTT 3.1.1 clients (one connection per device on one event-loop thread, each keeping
# INFLIGHT PUBLISH outstanding; a few microseconds of CPU per message, unlike Paho) publish
# through the real stack: MqttServer -> IngestService -> TimescaleReadingStore -> a fresh database
# mqtt_bench (created and dropped). Clients and gateway share one JVM (and the machine with the
# database), so the figure is a floor for the gateway alone.
#
#   bench/mqtt.sh [DEVICES] [SECONDS] [INFLIGHT] [WARMUP_SECONDS]      (defaults 200 20 4 5)
#
# Server: SAFEGRID_TEST_DB_URL (default jdbc:postgresql://127.0.0.1:55432/safegrid), user and
# password safegrid (SAFEGRID_DB_USER / SAFEGRID_DB_PASSWORD).
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICES=${1:-200}
SECONDS_=${2:-20}
INFLIGHT=${3:-4}
WARMUP=${4:-5}
URL=${SAFEGRID_TEST_DB_URL:-jdbc:postgresql://127.0.0.1:55432/safegrid}
DB_USER=${SAFEGRID_DB_USER:-safegrid}
DB_PASSWORD=${SAFEGRID_DB_PASSWORD:-safegrid}
CP_FILE=$(mktemp)
trap 'rm -f "$CP_FILE"' EXIT
mvn -B -o -q -pl gateway -am package -DskipTests dependency:build-classpath \
  -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null
exec java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "gateway/target/test-classes:gateway/target/classes:$(cat "$CP_FILE")" \
  io.safegrid.gateway.mqtt.bench.MqttBench "$URL" "$DB_USER" "$DB_PASSWORD" "$DEVICES" "$SECONDS_" "$INFLIGHT" "$WARMUP"
