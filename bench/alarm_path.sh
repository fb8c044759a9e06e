#!/usr/bin/env bash
# Publish-to-alarm, stage by stage (issue 10; not a test). Starts the gateway jar on a fresh
# database with config/dongnan.yaml plus DEVICES bench gas alarms (emergency broker off), runs the
# simulator's load with its alarm probes (PROBE_DEVICES gas alarms take turns crossing 25 %LEL,
# each every PROBE_INTERVAL_MS, as bench/run does; the time from a crossing's PUBLISH to its
# `event: alarm` on /api/live is one sample), then prints the probe's figures and the gateway's
# alarm-path timers from /metrics. The probe times each crossing a second time, apart, to its
# `event: annunciation` (the rule engine's decision on /api/live, before the ledger's commit;
# docs/alerting.md "Annunciation before the ledger"): publish-to-annunciation, printed next to
# publish-to-alarm, its samples in $OUT/probe-annunciation-samples.csv (the columns of
# probe-samples.csv); a gateway without annunciations gives none, a simulator before round 9
# does not measure it (a line says which).
#
#   safegrid_alarms_decided_age      device ts of the reading -> transition decided (hazard; ms resolution)
#   safegrid_rules_handoff           a message the rule engine hands to another thread -> its evaluation starts (count: such hops)
#   safegrid_alarms_writer_wait      transition decided by the rule engine -> its transaction starts
#   safegrid_alarms_ledger_apply     one ledger transaction (all its statements and the commit)
#   safegrid_alarms_ledger_commit    its COMMIT alone (the WAL flush)
#   safegrid_alarms_writer_batch     transitions per ledger transaction (group commit)
#   safegrid_alarms_dispatch_delay   commit -> listeners (the live feed) told
#   safegrid_alarms_path             transition decided -> listeners told (the three above)
#   safegrid_live_alarm_age          event time of the reading (device ts) -> live fan-out
#   safegrid_live_write_delay        live fan-out -> the alarm frame written to the probe's connection
#   safegrid_alarms_annunciation_age event time of the reading (device ts) -> annunciation (live feed)
#
# Slow samples, one by one (bench/alarm_trace.py, docs/performance.md "Round 7"): the gateway runs
# with the alarm path trace on (-Dsafegrid.trace.alarmPath=$OUT/alarm-trace.csv; ALARM_TRACE=0 for
# off), both JVMs log their safepoints with System.nanoTime() stamps ($OUT/gateway-safepoints.log,
# sim-safepoints.log), and with BENCH_HICCUP=1 a SCHED_FIFO 1 ms sleeper (bench/hiccup.c) logs VM
# stalls ($OUT/hiccups.txt; off by default: its ~1,000 real-time wake-ups a second, each preempting
# whatever runs, went with a worse tail in an A/B, docs/performance.md "Round 7"); the script joins them with the probe's samples by device + ts
# and prints, for the slowest 5 % against the median samples, where the time went. With
# BENCH_PERF_SCHED=SECONDS it also records that many seconds of `perf sched` (root) and names, for
# each slow sample's slow hops, the threads that waited for a core then ($OUT/sched.txt).
#
# The probe's own clock runs from just before its PUBLISH to the read of the event's bytes (sim:
# its own Netty event loop for publishing and reading /api/live; older sims read with java.net.http).
#
#   bench/alarm_path.sh [DEVICES] [RATE] [DURATION_S]          (defaults 1000 5000 60)
#
# A/B: GATEWAY_JAR=/path/old.jar bench/alarm_path.sh ...; SIM_JAR likewise. Writes bench/out/alarm-path/.
# Knobs: PROBE_DEVICES (12), PROBE_INTERVAL_MS (2000), BENCH_WARMUP (5: seconds of load before
# probe crossings (they start at 2 s) and PUBACKs are timed: the first seconds of 1,000 devices and
# the path's first alarms are a start-up transient, docs/performance.md "Round 4"), SAFEGRID_JAVA_OPTS (gateway JVM options, after
# the launcher's own: `bin/safegrid java-opts gateway`), BENCH_SIM_JAVA_OPTS (after `java-opts sim`;
# e.g. -Dsafegrid.sim.transport=nio puts the simulator's Netty loops back on NIO, docs/simulator.md "Socket transport"),
# BENCH_SITE_DEVICES (DEVICES: bench gas alarms in the site; bench/run's site has 10000, of which the load uses the
# first DEVICES and the probe the last PROBE_DEVICES; docs/performance.md "Round 8"),
# BENCH_PROBE_APART=1 (the alarm probe in a simulator process and session of its own, not inside
# the load generator's JVM: closer to a duty officer's browser; docs/performance.md "Round 7").
# Loopback only; every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEVICES=${1:-1000}
RATE=${2:-5000}
DURATION=${3:-60}
GATEWAY_JAR=${GATEWAY_JAR:-$ROOT/gateway/target/safegrid-gateway.jar}
SIM_JAR=${SIM_JAR:-$ROOT/device-sim/target/safegrid-sim.jar}
OUT=${ALARM_PATH_OUT:-$ROOT/bench/out/alarm-path}
DB=safegrid_alarmpath
log() { printf '[alarm-path %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
[[ -f "$GATEWAY_JAR" && -f "$SIM_JAR" ]] || die "jars missing: mvn -B -o -q -DskipTests package -pl gateway,device-sim -am"
ulimit -n "$(ulimit -Hn)" || true
rm -rf "$OUT"; mkdir -p "$OUT/gateway"

bin/safegrid db start >&2
PSQL_URL=$(bin/safegrid db url --psql)
SERVER_URL=$(bin/safegrid db url)
psql -q "$PSQL_URL" -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >&2
DB_URL=$(sed -E "s#(//[^/]+/)[^?]*#\1${DB}#" <<<"$SERVER_URL")
SITE=$OUT/site.yaml
{
  sed -E 's|^(  broker_url:).*|\1 null|' config/dongnan.yaml
  for i in $(seq -f '%05g' 1 "${BENCH_SITE_DEVICES:-$DEVICES}"); do
    echo "  - {id: bench-$i, type: gas_alarm, place: {community: xihe}, name: \"Bench $i\", premises: restaurant, secret: demo-bench-$i, report_interval_s: 3600}"
  done
} >"$SITE"

GW_JAVA_OPTS=$(bin/safegrid java-opts gateway 2>/dev/null || true)   # the launcher's, as bench/run
SIM_JAVA_OPTS=$(bin/safegrid java-opts sim 2>/dev/null || true)
MQTT_PORT=$(free_port); HTTP_PORT=$(free_port)
TRACE_OPT=
[[ ${ALARM_TRACE:-1} == 0 ]] || TRACE_OPT="-Dsafegrid.trace.alarmPath=$OUT/alarm-trace.csv"   # ignored by older gateways
HICCUP=
if [[ ${BENCH_HICCUP:-0} != 0 ]] && gcc -O2 -o "$OUT/hiccup" bench/hiccup.c 2>/dev/null; then HICCUP=$OUT/hiccup; fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
(
  cd "$OUT/gateway"
  export SAFEGRID_DB_URL="$DB_URL" SAFEGRID_DB_USER=safegrid SAFEGRID_DB_PASSWORD=safegrid \
    SAFEGRID_MQTT_PORT=$MQTT_PORT SAFEGRID_HTTP_PORT=$HTTP_PORT SAFEGRID_COAP_PORT=0 SAFEGRID_COAPS_PORT=0
  exec java $GW_JAVA_OPTS -Xlog:gc,safepoint:file="$OUT/gc.log":time -Xlog:safepoint:file="$OUT/gateway-safepoints.log":timenanos \
    ${TRACE_OPT:-} ${SAFEGRID_JAVA_OPTS:-} -jar "$GATEWAY_JAR" --config "$SITE"
) >"$OUT/gateway.log" 2>&1 &
GW=$!; PIDS+=("$GW")
for _ in $(seq 1 1500); do
  grep -q "SafeGrid listening:" "$OUT/gateway.log" && break
  kill -0 "$GW" 2>/dev/null || { tail -20 "$OUT/gateway.log" >&2; die "gateway exited"; }
  sleep 0.2
done
grep -q "SafeGrid listening:" "$OUT/gateway.log" || die "gateway did not start"
# the gateway JIT-warms the alarm path at start (rolled-back transactions, docs/alerting.md): measure after it
for _ in $(seq 1 900); do grep -q "alarm path warm-up:" "$OUT/gateway.log" && break; sleep 0.2; done
grep -h "alarm path warm-up:" "$OUT/gateway.log" >&2 || log "no warm-up line (an older gateway)"
PROBE_DEVICES=${PROBE_DEVICES:-12}
PROBE_INTERVAL_MS=${PROBE_INTERVAL_MS:-2000}
WARMUP=${BENCH_WARMUP:-5}   # s of the load before probe crossings and PUBACKs are timed (steady load)
log "gateway up (load $LOAD_START); sim load: $DEVICES devices, $RATE msg/s, ${DURATION} s, $PROBE_DEVICES probes every $PROBE_INTERVAL_MS ms"
SAMPLES=()   # every sample with its time (simulators since round 4)
SIM_HELP=$(java -jar "$SIM_JAR" load --help 2>/dev/null || true)
if grep -q -- --probe-samples <<<"$SIM_HELP"; then
  SAMPLES=(--probe-samples "$OUT/probe-samples.csv")
fi
if grep -q -- --probe-annunciation-samples <<<"$SIM_HELP"; then   # simulators since round 9
  SAMPLES+=(--probe-annunciation-samples "$OUT/probe-annunciation-samples.csv")
fi
if [[ -n $HICCUP ]]; then   # VM stalls during the run (SCHED_FIFO: only the kernel and the hypervisor delay it)
  chrt -f 50 "$HICCUP" $((DURATION + 60)) >"$OUT/hiccups.txt" 2>&1 & PIDS+=("$!")
fi
if [[ ${BENCH_PERF_SCHED:-0} != 0 ]]; then   # waits for a core: BENCH_PERF_SCHED seconds of the timed window (adds load)
  ( sleep $((WARMUP + 5)); exec perf sched record -k CLOCK_MONOTONIC -o "$OUT/perf-sched.data" -- sleep "$BENCH_PERF_SCHED" ) \
    >"$OUT/perf-sched.log" 2>&1 &
  PERF_PID=$!
fi
if [[ ${BENCH_PROBE_APART:-0} == 0 ]]; then
java $SIM_JAVA_OPTS -Xlog:gc,safepoint:file="$OUT/sim-safepoints.log":timenanos ${BENCH_SIM_JAVA_OPTS:-} -jar "$SIM_JAR" load --devices "$DEVICES" --rate "$RATE" --qos 1 --duration "$DURATION" \
  --payload-bytes 100 --mix 1:0:0 --mqtt "tcp://127.0.0.1:$MQTT_PORT" --site "$SITE" \
  --api "http://127.0.0.1:$HTTP_PORT" --token demo-viewer-token --warmup "$WARMUP" \
  --probe-devices "$PROBE_DEVICES" --probe-interval-ms "$PROBE_INTERVAL_MS" "${SAMPLES[@]}" \
  --summary "$OUT/summary.json" >"$OUT/sim.log" 2>&1 || die "sim failed: $(tail -5 "$OUT/sim.log")"
PROBE_SUMMARY=$OUT/summary.json
else
  # BENCH_PROBE_APART=1: the probe in a process of its own (its own JVM and session), as a duty
  # officer's browser is not inside the load generator (docs/performance.md "Round 7"). The load
  # takes the site's first DEVICES gas alarms as before (Dongnan's 120, then bench-00001...); the
  # probe sim gets the last PROBE_DEVICES bench devices and one more for its own 1 msg/s load.
  (( DEVICES > 120 + 2 * PROBE_DEVICES )) || die "BENCH_PROBE_APART needs DEVICES > $((120 + 2 * PROBE_DEVICES))"
  PSITE=$OUT/probe-site.yaml
  { sed -n '1,/^devices:/p' config/dongnan.yaml | sed -E 's|^(  broker_url:).*|\1 null|'
    grep -E '^  - \{id: bench-' "$SITE" | tail -n $((PROBE_DEVICES + 1)); } >"$PSITE"
  java $SIM_JAVA_OPTS -Xlog:gc,safepoint:file="$OUT/sim-safepoints.log":timenanos ${BENCH_SIM_JAVA_OPTS:-} -jar "$SIM_JAR" load --devices "$DEVICES" --rate "$RATE" --qos 1 --duration "$DURATION" \
    --payload-bytes 100 --mix 1:0:0 --mqtt "tcp://127.0.0.1:$MQTT_PORT" --site "$SITE" --warmup "$WARMUP" \
    --summary "$OUT/summary.json" >"$OUT/sim.log" 2>&1 &
  LOAD_SIM=$!; PIDS+=("$LOAD_SIM")
  for _ in $(seq 1 600); do grep -q '^\[ *1s' "$OUT/sim.log" && break; kill -0 "$LOAD_SIM" 2>/dev/null || break; sleep 0.1; done
  setsid java $SIM_JAVA_OPTS -Xlog:gc,safepoint:file="$OUT/probe-sim-safepoints.log":timenanos ${BENCH_SIM_JAVA_OPTS:-} -jar "$SIM_JAR" load --devices 1 --rate 1 --qos 1 --duration $((DURATION - 1)) \
    --payload-bytes 100 --mix 1:0:0 --mqtt "tcp://127.0.0.1:$MQTT_PORT" --site "$PSITE" \
    --api "http://127.0.0.1:$HTTP_PORT" --token demo-viewer-token --warmup $((WARMUP > 1 ? WARMUP - 1 : 0)) \
    --probe-devices "$PROBE_DEVICES" --probe-interval-ms "$PROBE_INTERVAL_MS" "${SAMPLES[@]}" \
    --summary "$OUT/probe-summary.json" >"$OUT/probe-sim.log" 2>&1 &
  PROBE_SIM=$!; PIDS+=("$PROBE_SIM")
  wait "$LOAD_SIM" || die "sim failed: $(tail -5 "$OUT/sim.log")"
  wait "$PROBE_SIM" || die "probe sim failed: $(tail -5 "$OUT/probe-sim.log")"
  PROBE_SUMMARY=$OUT/probe-summary.json
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
curl -s -H 'Authorization: Bearer demo-viewer-token' "http://127.0.0.1:$HTTP_PORT/metrics" >"$OUT/metrics.txt" || true

echo "load average: start $LOAD_START, end $LOAD_END; jar $GATEWAY_JAR; gateway JVM options: $GW_JAVA_OPTS ${SAFEGRID_JAVA_OPTS:-}"
jq -r '"sent \(.sent) acked \(.acked) acked/s \(.ackedPerS) PUBACK ms p50 \(.ackLatencyMs.p50) p99 \(.ackLatencyMs.p99)"' "$OUT/summary.json"
jq -r '"publish-to-alarm ms: n \(.alarmLatencyMs.count) p50 \(.alarmLatencyMs.p50) p90 \(.alarmLatencyMs.p90) p99 \(.alarmLatencyMs.p99) max \(.alarmLatencyMs.max)"' "$PROBE_SUMMARY"
jq -r 'if .annunciationLatencyMs == null then "publish-to-annunciation: not measured (a simulator before round 9)"
  elif .annunciationLatencyMs.count == 0 then "publish-to-annunciation: no samples (\(.probe.crossings) crossings, \(.probe.annunciationUnmatched) unmatched: a gateway without event: annunciation)"
  else "publish-to-annunciation ms: n \(.annunciationLatencyMs.count) p50 \(.annunciationLatencyMs.p50) p90 \(.annunciationLatencyMs.p90) p99 \(.annunciationLatencyMs.p99) max \(.annunciationLatencyMs.max) (unmatched \(.probe.annunciationUnmatched))" end' "$PROBE_SUMMARY"
[[ ${BENCH_PROBE_APART:-0} == 0 ]] || echo "(the probe ran apart from the load: its own JVM and session, BENCH_PROBE_APART=1)"
echo "gateway alarm-path timers, ms p50 / p90 / p99 / max (count; quantiles over the last minute or so), in path order:"
STAGES="alarms_decided_age rules_handoff alarms_writer_wait alarms_ledger_apply alarms_ledger_commit alarms_dispatch_delay alarms_path live_alarm_age live_write_delay alarms_annunciation_age"
for st in $STAGES; do
  awk -v n="safegrid_${st}_seconds" '
    index($0, n "{quantile=\"0.5\"}") == 1 { p50 = $2 * 1000 }
    index($0, n "{quantile=\"0.9\"}") == 1 { p90 = $2 * 1000 }
    index($0, n "{quantile=\"0.99\"}") == 1 { p99 = $2 * 1000 }
    index($0, n "_max ") == 1 { mx = $2 * 1000 }
    index($0, n "_count ") == 1 { c = $2; seen = 1 }
    END { if (seen) printf "  %-24s %7.2f / %7.2f / %7.2f / %7.1f  (%d)\n", substr(n, 10, length(n) - 17), p50, p90, p99, mx, c
          else printf "  %-24s (no timer in this gateway)\n", substr(n, 10, length(n) - 17) }' "$OUT/metrics.txt"
done
grep -E '^safegrid_alarms_(transitions|annunciated)_total' "$OUT/metrics.txt" || true
for f in probe-samples probe-annunciation-samples; do
  [[ -s "$OUT/$f.csv" ]] || continue
  what=alarm; [[ $f == probe-samples ]] || what=annunciation
  echo "slowest publish-to-$what samples (UTC time of the crossing, s after the first timed one, device, ms; all in $OUT/$f.csv;"
  echo "the gateway's GC pauses and safepoints are in $OUT/gc.log):"
  sort -t, -k1,1n "$OUT/$f.csv" | awk -F, 'NR == 1 { t0 = $1 } { printf "%s.%03d %.1f %s %.1f\n", strftime("%H:%M:%S", int($1 / 1000), 1), $1 % 1000, ($1 - t0) / 1000, $2, $3 / 1000 }' \
    | sort -k4,4nr | head -5 | sed 's/^/  /' || true   # (head ends the pipe early: not a failure)
done
if [[ -n $HICCUP ]]; then kill "${PIDS[-1]}" 2>/dev/null || true; fi
if [[ -n ${PERF_PID:-} ]]; then
  wait "$PERF_PID" || true
  perf sched timehist -i "$OUT/perf-sched.data" >"$OUT/sched.txt" 2>/dev/null && rm -f "$OUT/perf-sched.data"
fi
if [[ -s "$OUT/alarm-trace.csv" ]]; then
  kill "$GW" 2>/dev/null && wait "$GW" 2>/dev/null || true   # the trace's last lines are written at exit
  python3 bench/alarm_trace.py "$OUT" || log "alarm_trace.py failed"
fi
