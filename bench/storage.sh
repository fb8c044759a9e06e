#!/usr/bin/env bash
# Storage benchmark (not a test): rows/s through the TimescaleReadingStore writer against raw
# COPY of the same rows by psql into the same hypertable, alternating, in one run; prints the
# ratio (target >= 0.8) and the writer's batch latency p50/p99.
#
#   bench/storage.sh [ROWS] [ROUNDS] [PRODUCERS] [WRITERS]   (defaults 500000 3 4 2)
#
# Server: SAFEGRID_TEST_DB_URL (default jdbc:postgresql://127.0.0.1:55432/safegrid), user and
# password safegrid (SAFEGRID_DB_USER / SAFEGRID_DB_PASSWORD). Creates and drops database
# storage_bench. Needs psql on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-500000}
ROUNDS=${2:-3}
PRODUCERS=${3:-4}
WRITERS=${4:-2}
URL=${SAFEGRID_TEST_DB_URL:-jdbc:postgresql://127.0.0.1:55432/safegrid}
DB_USER=${SAFEGRID_DB_USER:-safegrid}
export PGPASSWORD=${SAFEGRID_DB_PASSWORD:-safegrid}
CP_FILE=$(mktemp)
trap 'rm -f "$CP_FILE"' EXIT
mvn -B -o -q -pl gateway -am package -DskipTests dependency:build-classpath \
  -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null
exec java -Xmx2g -cp "gateway/target/test-classes:gateway/target/classes:$(cat "$CP_FILE")" \
  io.safegrid.gateway.storage.StorageBench "$URL" "$DB_USER" "$PGPASSWORD" "$ROWS" "$ROUNDS" "$PRODUCERS" "$WRITERS"
