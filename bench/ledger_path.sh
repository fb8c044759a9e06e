#!/usr/bin/env bash
# The in-process alarm path (not a test): a critical gas alarm raised and cleared over and over
# through the real ledger with escalation and outbox (alerting's LedgerPathBench) on a fresh
# database ledger_path_bench; one sample = applyAll of the raise until its event reaches a listener
# (commit included). Prints p50/p90/p99/max for the first COLD cycles (JIT not yet warm, as in a
# gateway that raises a few alarms a minute) and for CYCLES after WARM unmeasured ones.
#
#   bench/ledger_path.sh [COLD] [WARM] [CYCLES] [WARM_UP] [MODE] [QUIET] [QUIET_MS]
#                                         (defaults 50 3000 1000 0 same 0 2000)
#
# MODE: `same` raises one device over and over (each raise after the first re-opens its cleared
# alarm); `new` takes a fresh device each cycle (each raise registers a new alarm).
#
# WARM_UP: rolled-back cycles of JdbcAlarmLedger.warmUpInBackground (the gateway runs 1,000 at
# start) before the cold phase; `bench/ledger_path.sh 100 0 0 0` against `... 100 0 0 1000` shows
# what the warm-up buys the first alarms.
#
# QUIET: then QUIET raises with the ledger idle QUIET_MS before each (a quiet site, alarms minutes
# apart: HikariCP validates a connection idle over its alive-bypass window, 500 ms, with a round trip
# before handing it out). LEDGER_PATH_JAVA_OPTS is passed to the JVM, e.g.
# `LEDGER_PATH_JAVA_OPTS=-Dcom.zaxxer.hikari.aliveBypassWindowMs=600000 bench/ledger_path.sh 0 3000 200 0 same 30 2000`.
#
# Server: SAFEGRID_TEST_DB_URL (default jdbc:postgresql://127.0.0.1:55432/safegrid), user/password safegrid.
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${SAFEGRID_TEST_DB_URL:-jdbc:postgresql://127.0.0.1:55432/safegrid}
CP_FILE=$(mktemp)
trap 'rm -f "$CP_FILE"' EXIT
mvn -B -o -q -pl alerting -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test >/dev/null
# shellcheck disable=SC2086
exec java -Xmx512m ${LEDGER_PATH_JAVA_OPTS:-} -cp "alerting/target/test-classes:alerting/target/classes:rules/target/classes:$(cat "$CP_FILE")" \
  io.safegrid.alerting.bench.LedgerPathBench "$URL" "${SAFEGRID_DB_USER:-safegrid}" "${SAFEGRID_DB_PASSWORD:-safegrid}" \
  "${1:-50}" "${2:-3000}" "${3:-1000}" "${4:-0}" "${5:-same}" "${6:-0}" "${7:-2000}"
