#!/usr/bin/env bash
# Stall forensics for publish-to-alarm (issue 10; not a test): runs bench/alarm_path.sh (the load
# and its alarm probes, unchanged) while bench/stalls.py samples the machine, the gateway's threads,
# PostgreSQL and a side probe, then lines the slowest publish-to-alarm samples up with what
# happened in their window (docs/performance.md "Stalls" reads such reports).
#
#   bench/stalls.sh [DEVICES] [RATE] [DURATION_S]        (defaults 1000 5000 40)
#
# Samples (bench/stalls.py has the details):
#   once a second   /proc/stat (busy, iowait, steal, run queue), PSI cpu/io stall time, vda writes,
#                   flushes and discards, Dirty; every gateway thread's CPU and run-queue wait
#                   (/proc/<pid>/task/*/schedstat), every PostgreSQL process's, the simulator's;
#                   pg_stat_wal (syncs and their time: track_wal_io_timing), pg_stat_checkpointer,
#                   pg_stat_bgwriter, pg_stat_io
#   10 a second     pg_stat_activity wait events of the non-idle backends
#   every alarm     its receive time on /api/live (its own SSE listener): per-sample publish-to-alarm
#   40 a second     pgbench on database safegrid_stalls: a 1-row INSERT commit (WAL flush) and a
#                   SELECT 1 (scheduling only), each timed
#   the gateway's GC and safepoint log (-Xlog, added to SAFEGRID_JAVA_OPTS) and the PostgreSQL log
#   of the window (bin/safegrid sets log_autovacuum_min_duration = 0 and log_checkpoints).
# Knobs: GATEWAY_JAR, SIM_JAR, SAFEGRID_JAVA_OPTS, BENCH_SIM_JAVA_OPTS, PROBE_* (as bench/alarm_path.sh),
# STALLS_OUT (bench/out/stalls), STALL_MS (25: samples slower than this are examined).
# Run it under `flock /work/team/bench.lock`. Loopback only; stops what it starts.
set -euo pipefail
if [[ -n "${STALLS_BOOST:-}" && -z "${STALLS_SESSION:-}" ]]; then  # a session (autogroup) of its own
  STALLS_SESSION=1 exec setsid -w "$0" "$@"
fi
cd "$(dirname "$0")/.."
ROOT=$PWD
DEVICES=${1:-1000}
RATE=${2:-5000}
DURATION=${3:-40}
OUT=${STALLS_OUT:-$ROOT/bench/out/stalls}
STALL_MS=${STALL_MS:-25}
PGLOG=${SAFEGRID_PGLOG:-/var/cache/safegrid/trixie-root/var/lib/safegrid/pg.log}
rm -rf "$OUT"; mkdir -p "$OUT"
log() { printf '[stalls %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

bin/safegrid db start >/dev/null
PSQL_URL=$(bin/safegrid db url --psql)
STALL_URI=$(sed -E 's#(@[^/]+/)[^?]*#\1safegrid_stalls#' <<<"$PSQL_URL")
psql -qX "$PSQL_URL" -c "DROP DATABASE IF EXISTS safegrid_stalls" -c "CREATE DATABASE safegrid_stalls" >/dev/null
psql -qX "$STALL_URI" -c "CREATE TABLE stall_probe (t timestamptz NOT NULL DEFAULT now())" >/dev/null
echo "INSERT INTO stall_probe DEFAULT VALUES;" >"$OUT/commit.sql"
echo "SELECT 1;" >"$OUT/select.sql"
for s in log_autovacuum_min_duration track_wal_io_timing log_checkpoints; do
  log "$s = $(psql -qXtA "$PSQL_URL" -c "SHOW $s")"
done
PGLOG_START=$(stat -c %s "$PGLOG" 2>/dev/null || echo 0)

SAMPLER=""
cleanup() { touch "$OUT/stop"; [[ -n "$SAMPLER" ]] && wait "$SAMPLER" 2>/dev/null || true; }
trap cleanup EXIT
python3 bench/stalls.py sample "$OUT" "$OUT/alarm-path/site.yaml" "$DURATION" "$PSQL_URL" "$STALL_URI" &
SAMPLER=$!

# Priorities, for A/B on a machine shared with other engineers' builds (not production settings).
# The kernel groups CPU time per session (sched_autogroup_enabled=1): between sessions only the
# session's autogroup nice counts; `nice` orders threads inside one session. Every PostgreSQL
# backend calls setsid(), so each is a session of its own.
#   STALLS_BOOST=N      autogroup nice N (e.g. -10) for this script's session (gateway, simulator,
#                       sampler) and for each PostgreSQL backend of the bench's databases: the
#                       benchmark ahead of the neighbours' builds, a stand-in for a quiet machine
#   STALLS_SIM_NICE=N   nice N for every thread of the simulator (same session as the gateway, as
#                       in bench/alarm_path.sh and bench/run)
#   STALLS_GW_NICE=N    likewise for the gateway
renicer() { # NICE AUTOGROUP_NICE PATTERN...: renice the matching processes' threads, for the run
  local n="$1" ag="$2" pid t i pat
  shift 2
  for i in $(seq 1 3000); do
    [[ -e "$OUT/stop" ]] && return 0
    for pat in "$@"; do
      for pid in $(pgrep -f -- "$pat" || true); do
        [[ -n "$ag" ]] && echo "$ag" >"/proc/$pid/autogroup" 2>/dev/null
        [[ -n "$n" ]] && for t in /proc/"$pid"/task/*; do renice -n "$n" -p "${t##*/}" >/dev/null 2>&1 || true; done
      done
    done
    sleep 0.2
  done
}
RENICERS=()
if [[ -n "${STALLS_BOOST:-}" ]]; then
  echo "$STALLS_BOOST" >/proc/self/autogroup && log "autogroup: $(cat /proc/self/autogroup)"
  renicer "" "$STALLS_BOOST" "postgres: safegrid safegrid_alarmpath " "postgres: safegrid safegrid_stalls " & RENICERS+=($!)
fi
[[ -n "${STALLS_SIM_NICE:-}" ]] && { renicer "$STALLS_SIM_NICE" "" "--site $OUT/alarm-path/site.yaml" & RENICERS+=($!); }
[[ -n "${STALLS_GW_NICE:-}" ]] && { renicer "$STALLS_GW_NICE" "" "--config $OUT/alarm-path/site.yaml" & RENICERS+=($!); }

export ALARM_PATH_OUT=$OUT/alarm-path
export SAFEGRID_JAVA_OPTS="${SAFEGRID_JAVA_OPTS:-} -Xlog:gc*=info,safepoint=info:file=$OUT/gc.log:time,uptime,level,tags"
rc=0
bench/alarm_path.sh "$DEVICES" "$RATE" "$DURATION" >"$OUT/alarm_path.txt" || rc=$?
touch "$OUT/stop"; wait "$SAMPLER" || true; SAMPLER=""
for p in "${RENICERS[@]}"; do wait "$p" 2>/dev/null || true; done
tail -c +"$((PGLOG_START + 1))" "$PGLOG" >"$OUT/pg.log" 2>/dev/null || true
cat "$OUT/alarm_path.txt"
((rc == 0)) || { log "bench/alarm_path.sh failed ($rc)"; exit "$rc"; }
python3 bench/stalls.py report "$OUT" "$STALL_MS" >"$OUT/report.txt"
head -5 "$OUT/report.txt"
log "report: $OUT/report.txt"
