#!/usr/bin/env bash
# A fire panel's CONNECT under a flood of wrong-password CONNECTs (newcomer7 F7; not a test).
# Starts the gateway jar on a fresh database with config/dongnan.yaml (emergency broker off),
# times a fire panel's connect + QoS 1 publish (mosquitto_pub, MQTT 5, fire-qingyuan, the shipped
# demo secret) 3 times without load, then ATTACKERS threads of bench/connect_flood.py loop
# CONNECTs with wrong passwords for SECONDS while the panel publishes PUBLISHES times, one after
# the other (2 s apart); prints each time, the flood's answers and the gateway's rejects.
#
#   bench/connect_flood.sh [ATTACKERS] [SECONDS] [PUBLISHES]     (defaults 400 40 8)
#
# COAP_GUESSES=N (default 0: none): afterwards, bench/coap_guess.py sends N plain CoAP requests to
# gas-045 one after the other, N-1 wrong secrets then the right one (newcomer7 F8), and prints the
# time and the answers.
#
# A/B: GATEWAY_JAR=/path/old.jar bench/connect_flood.sh ...  Writes bench/out/connect-flood/.
# Run it alone (flock /work/team/bench.lock). Loopback only; every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ATTACKERS=${1:-400}
SECONDS_=${2:-40}
PUBLISHES=${3:-8}
GATEWAY_JAR=${GATEWAY_JAR:-$ROOT/gateway/target/safegrid-gateway.jar}
OUT=${CONNECT_FLOOD_OUT:-$ROOT/bench/out/connect-flood}
DB=safegrid_connectflood
log() { printf '[connect-flood %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
[[ -f "$GATEWAY_JAR" ]] || die "jar missing: mvn -B -o -q -DskipTests package -pl gateway -am"
command -v mosquitto_pub >/dev/null || die "mosquitto_pub missing (Debian: mosquitto-clients)"
ulimit -n "$(ulimit -Hn)" || true
rm -rf "$OUT"; mkdir -p "$OUT/gateway"

bin/safegrid db start >&2
PSQL_URL=$(bin/safegrid db url --psql)
SERVER_URL=$(bin/safegrid db url)
psql -q "$PSQL_URL" -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >&2
DB_URL=$(sed -E "s#(//[^/]+/)[^?]*#\1${DB}#" <<<"$SERVER_URL")
SITE=$OUT/site.yaml
sed -E 's|^(  broker_url:).*|\1 null|' config/dongnan.yaml >"$SITE"

GW_JAVA_OPTS=$(bin/safegrid java-opts gateway 2>/dev/null || true)
MQTT_PORT=$(free_port); HTTP_PORT=$(free_port)
(
  cd "$OUT/gateway"
  export SAFEGRID_DB_URL="$DB_URL" SAFEGRID_DB_USER=safegrid SAFEGRID_DB_PASSWORD=safegrid \
    SAFEGRID_MQTT_PORT=$MQTT_PORT SAFEGRID_HTTP_PORT=$HTTP_PORT SAFEGRID_COAP_PORT=0 SAFEGRID_COAPS_PORT=0
  exec java $GW_JAVA_OPTS ${SAFEGRID_JAVA_OPTS:-} -jar "$GATEWAY_JAR" --config "$SITE"
) >"$OUT/gateway.log" 2>&1 &
GW=$!; PIDS+=("$GW")
for _ in $(seq 1 1500); do
  grep -q "SafeGrid listening:" "$OUT/gateway.log" && break
  kill -0 "$GW" 2>/dev/null || { tail -20 "$OUT/gateway.log" >&2; die "gateway exited"; }
  sleep 0.2
done
grep -q "SafeGrid listening:" "$OUT/gateway.log" || die "gateway did not start"
log "gateway up (MQTT $MQTT_PORT), jar $GATEWAY_JAR"

# one connect + QoS 1 fire event + PUBACK + disconnect; prints seconds (or 'failed after S')
panel() {
  local t0 t1 rc=0
  t0=$(date +%s%N)
  timeout 180 mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -V mqttv5 -q 1 -u fire-qingyuan -P demo-fire-qingyuan \
    -i "cf-fq-$1" -t devices/fire-qingyuan/events -m "{\"event\":\"fire\",\"zone\":7,\"point\":$1}" || rc=$?
  t1=$(date +%s%N)
  local s; s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", (b-a)/1e9}')
  [[ $rc == 0 ]] && echo "$s" || echo "failed(rc=$rc)after$s"
}

quiet=(); for i in 1 2 3; do quiet+=("$(panel "$i")"); done
log "no flood: ${quiet[*]} s"
python3 bench/connect_flood.py "$MQTT_PORT" "$ATTACKERS" "$SECONDS_" >"$OUT/flood.txt" 2>&1 &
FLOOD=$!; PIDS+=("$FLOOD")
sleep 3
flooded=()
for i in $(seq 1 "$PUBLISHES"); do
  flooded+=("$(panel $((100 + i)))")
  kill -0 "$FLOOD" 2>/dev/null || break
  sleep 2
done
wait "$FLOOD" || true
log "under $ATTACKERS attackers: ${flooded[*]} s"
cat "$OUT/flood.txt" >&2
curl -s -H 'Authorization: Bearer demo-viewer-token' "http://127.0.0.1:$HTTP_PORT/metrics" | grep '^safegrid_mqtt_rejects_total' >&2 || true
echo "connect_flood attackers=$ATTACKERS quiet_s=${quiet[*]} flooded_s=${flooded[*]}"
if [[ ${COAP_GUESSES:-0} -gt 0 ]]; then
  COAP_PORT=$(grep -o 'SafeGrid listening: .*' "$OUT/gateway.log" | grep -o 'coap=[0-9]*' | head -1 | cut -d= -f2)
  echo "coap_guess: $(python3 bench/coap_guess.py "$COAP_PORT" "$COAP_GUESSES")"
fi
