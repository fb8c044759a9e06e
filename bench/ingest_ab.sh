#!/usr/bin/env bash
# Whole-service ingest A/B (not a test): start-up time with a large site and durable QoS 1
# readings/s through the gateway jar as shipped, for one or more gateway jars back to back under
# the same load, so a before/after comparison shares the machine's conditions.
#
#   bench/ingest_ab.sh JAR [JAR...]
#
# For each JAR, in order: a fresh database ingest_bench; the bench site (config/dongnan.yaml plus
# BENCH_SITE_DEVICES gas alarms bench-00001.. with secret demo-<id>, emergency broker off, as
# bench/run writes it); the gateway started with default JVM options on free loopback ports (time
# to its "SafeGrid listening" line, and its own "started in N ms"); a warm-up load of
# WARM_SECONDS (connects the devices, JIT-compiles the hot path; not reported); then the load
# for DURATION seconds:
#   LOAD=bench (default): gateway/src/test/.../MqttBench in external mode, DEVICES Netty MQTT
#       3.1.1 clients (1 event-loop thread) each keeping INFLIGHT QoS 1 PUBLISH outstanding;
#   LOAD=sim: `safegrid-sim.jar load --devices DEVICES --rate RATE --qos 1` with the site.
# Reports per jar: start seconds, PUBACK'd readings/s, PUBACK p50/p99, rows added vs PUBACKs,
# CPU seconds during the measured load of the gateway, the load generator and PostgreSQL (all
# its processes), the gateway's CPU microseconds per reading (the figure least bent by a busy
# machine), and the load average before and after.
# (sim load stamps ts with the wall clock in ms: two messages of one device in the same ms are
# one row, as the contract says, so rows can be slightly fewer than PUBACKs; MqttBench gives each
# message its own ts, so there rows must equal PUBACKs.)
#
# Knobs (environment): BENCH_SITE_DEVICES (10000), DEVICES (1000), INFLIGHT (16), DURATION (30 s),
# WARMUP (5), WARM_SECONDS (10), RATE (30000, LOAD=sim only), GATEWAY_JAVA_OPTS (none), JFR_DIR (if set, the gateway
# runs with a flight recording written there, one per jar).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
(( $# >= 1 )) || { sed -n 2,20p "$0"; exit 2; }
SITE_DEVICES=${BENCH_SITE_DEVICES:-10000}
DEVICES=${DEVICES:-1000}
INFLIGHT=${INFLIGHT:-16}
SECONDS_=${DURATION:-30}
WARMUP=${WARMUP:-5}
WARM_SECONDS=${WARM_SECONDS:-10}
RATE=${RATE:-30000}
LOAD=${LOAD:-bench}
DB=ingest_bench
OUT=$ROOT/bench/out/ingest_ab
mkdir -p "$OUT"

log() { printf '[ingest_ab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_ticks() { local p t=0; for p in $(pgrep postgres); do t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0) )); done; echo "$t"; }
TICKS=$(getconf CLK_TCK)
ulimit -n "$(ulimit -Hn)" || true

SERVER_URL=${SAFEGRID_TEST_DB_URL:-jdbc:postgresql://127.0.0.1:55432/safegrid}
BENCH_URL="${SERVER_URL%/*}/$DB"
PSQL_URL="postgresql://safegrid:safegrid@$(sed -E 's#jdbc:postgresql://([^/]+)/.*#\1#' <<<"$SERVER_URL")"

CP_FILE=$OUT/classpath.txt
if [[ "$LOAD" == bench ]]; then
  mvn -B -o -q -pl gateway -am package -DskipTests dependency:build-classpath \
    -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null
fi

SITE=$OUT/bench-site.yaml
{
  sed -E 's|^(  broker_url:).*|\1 null   # bench: notifications wait in the outbox|' config/dongnan.yaml
  for i in $(seq -f '%05g' 1 "$SITE_DEVICES"); do
    echo "  - {id: bench-$i, type: gas_alarm, place: {community: xihe}, name: \"Bench gas alarm $i\", premises: restaurant, secret: demo-bench-$i, report_interval_s: 3600}"
  done
} >"$SITE"

RESULTS=()
n=0
for JAR in "$@"; do
  n=$((n + 1))
  [[ -f "$JAR" ]] || { log "no such jar: $JAR"; exit 2; }
  psql -q "$PSQL_URL/safegrid" -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >&2
  MQTT_PORT=$(free_port); HTTP_PORT=$(free_port)
  rm -rf "$OUT/gw$n"; mkdir -p "$OUT/gw$n"
  JFR=()
  [[ -n "${JFR_DIR:-}" ]] && { mkdir -p "$JFR_DIR"; JFR=("-XX:StartFlightRecording=filename=$JFR_DIR/gateway-$n.jfr,settings=profile"); }
  LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
  log "[$n] $JAR: starting with $((SITE_DEVICES + 144)) devices (MQTT $MQTT_PORT)"
  (
    cd "$OUT/gw$n"
    export SAFEGRID_DB_URL="$BENCH_URL" SAFEGRID_DB_USER=safegrid SAFEGRID_DB_PASSWORD=safegrid \
      SAFEGRID_MQTT_PORT=$MQTT_PORT SAFEGRID_HTTP_PORT=$HTTP_PORT SAFEGRID_COAP_PORT=0 SAFEGRID_COAPS_PORT=0
    exec java ${GATEWAY_JAVA_OPTS:-} "${JFR[@]}" -jar "$JAR" --config "$SITE"
  ) >"$OUT/gateway-$n.log" 2>&1 &
  GW=$!
  PIDS+=("$GW")
  T0=$(date +%s.%N)
  for _ in $(seq 1 3000); do
    grep -q "SafeGrid listening:" "$OUT/gateway-$n.log" && break
    kill -0 "$GW" 2>/dev/null || { tail -20 "$OUT/gateway-$n.log" >&2; exit 1; }
    sleep 0.1
  done
  START_S=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  STARTED_MS=$(sed -nE 's/.*started in ([0-9]+) ms.*/\1/p' "$OUT/gateway-$n.log" | head -1)
  log "[$n] up in ${START_S} s (gateway: started in ${STARTED_MS:-?} ms); load for ${SECONDS_} s"
  start_load() { # SECONDS LOGFILE SUMMARY: starts the load generator in the background, pid in LOADGEN
    if [[ "$LOAD" == bench ]]; then
      java -Xmx1g -cp "gateway/target/test-classes:gateway/target/classes:$(cat "$CP_FILE")" \
        io.safegrid.gateway.mqtt.bench.MqttBench "$BENCH_URL" safegrid safegrid "$DEVICES" "$1" "$INFLIGHT" \
        "$WARMUP" "127.0.0.1:$MQTT_PORT" >"$2" 2>&1 &
    else
      java -jar device-sim/target/safegrid-sim.jar load --devices "$DEVICES" --rate "$RATE" --qos 1 \
        --duration "$1" --payload-bytes 100 --mix 1:0:0 --mqtt "tcp://127.0.0.1:$MQTT_PORT" --site "$SITE" \
        --max-in-flight "$INFLIGHT" --summary "$3" >"$2" 2>&1 &
    fi
    LOADGEN=$!
  }
  start_load "$WARM_SECONDS" "$OUT/warm-$n.log" "$OUT/warm-$n.json"
  wait "$LOADGEN" || { tail -5 "$OUT/warm-$n.log" >&2; }
  ROWS0=$(psql -qtA "$PSQL_URL/$DB" -c 'SELECT count(*) FROM readings')
  C0=$(cpu_ticks "$GW"); P0=$(pg_ticks)
  LOAD_MEASURED=$(cut -d' ' -f1-3 /proc/loadavg)
  start_load "$SECONDS_" "$OUT/load-$n.log" "$OUT/load-$n.json"
  LG_TICKS=0 # the load generator's CPU: its ticks sampled every 0.5 s until it exits
  while kill -0 "$LOADGEN" 2>/dev/null; do
    t=$(awk '{print $14 + $15}' "/proc/$LOADGEN/stat" 2>/dev/null) && LG_TICKS=$t
    sleep 0.5
  done
  wait "$LOADGEN" || { tail -5 "$OUT/load-$n.log" >&2; }
  if [[ "$LOAD" == bench ]]; then
    RATE_S=$(sed -nE 's/^QoS 1 durable readings\/s: ([0-9]+).*/\1/p' "$OUT/load-$n.log")
    LAT=$(sed -nE 's/^PUBACK latency ms: p50=([0-9.]+) p99=([0-9.]+).*/\1 \/ \2/p' "$OUT/load-$n.log")
    ROWS=$(sed -nE 's/.*acked in total=([0-9]+).*rows added to readings=([0-9]+).*/\2 rows for \1 PUBACKs/p' "$OUT/load-$n.log")
  else
    RATE_S=$(jq -r .ackedPerS "$OUT/load-$n.json")
    LAT=$(jq -r '"\(.ackLatencyMs.p50) / \(.ackLatencyMs.p99)"' "$OUT/load-$n.json")
    ROWS="$(( $(psql -qtA "$PSQL_URL/$DB" -c 'SELECT count(*) FROM readings') - ROWS0 )) rows added for $(jq -r .acked "$OUT/load-$n.json") PUBACKs"
  fi
  CPU_T=$(( $(cpu_ticks "$GW") - C0 )); PG_T=$(( $(pg_ticks) - P0 ))
  CPU_S=$(awk -v t="$CPU_T" -v k="$TICKS" 'BEGIN {printf "%.1f", t / k}')
  PG_S=$(awk -v t="$PG_T" -v k="$TICKS" 'BEGIN {printf "%.1f", t / k}')
  LG_S=$(awk -v t="$LG_TICKS" -v k="$TICKS" 'BEGIN {printf "%.1f", t / k}')
  US_PER=$(awk -v t="$CPU_T" -v k="$TICKS" -v r="${RATE_S:-0}" -v s="$SECONDS_" 'BEGIN {if (r > 0) printf "%.0f", t / k * 1e6 / (r * s); else print "?"}')
  LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
  kill "$GW"; wait "$GW" 2>/dev/null || true
  RESULTS+=("| $(basename "$JAR") | ${START_S} s (${STARTED_MS:-?} ms) | ${RATE_S:-?} | ${LAT:-?} | ${ROWS:-?} | ${CPU_S} / ${LG_S} / ${PG_S} | ${US_PER} | ${LOAD_MEASURED} -> ${LOAD_AFTER} |")
  log "[$n] ${RATE_S:-?} readings/s, PUBACK p50/p99 ${LAT:-?} ms, ${ROWS:-?}, CPU-s gateway ${CPU_S} load generator ${LG_S} PostgreSQL ${PG_S}"
done
psql -q "$PSQL_URL/safegrid" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >&2 || true

echo "$(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores; site $((SITE_DEVICES + 144)) devices; load=$LOAD devices=$DEVICES" \
  "$( [[ $LOAD == bench ]] && echo "inflight=$INFLIGHT" || echo "rate=$RATE")" "seconds=$SECONDS_"
echo "| gateway jar | start (gateway's own) | durable readings/s | PUBACK p50 / p99 ms | rows / PUBACKs | CPU-s gateway / load generator / PostgreSQL | gateway CPU us per reading | load average at the measured load -> after |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${RESULTS[@]}"
