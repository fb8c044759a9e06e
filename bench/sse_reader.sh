#!/usr/bin/env bash
# The alarm probe's receive path (issue 10; not a test): a local SSE server writes EVENTS events,
# one every INTERVAL_MS, to two readers at once, java.net.http (the probe's reader before: three
# threads per event) and the simulator's LiveStreamReader (one Netty event loop), and prints the
# write -> handed-to-the-probe delay of each (us). The difference is scheduling, so run it under
# the load you care about (e.g. next to bench/alarm_path.sh's load) and quote the load average.
#
#   bench/sse_reader.sh [EVENTS] [INTERVAL_MS]        (defaults 2000 5)
#
# Needs the simulator jar and its test classes:
#   mvn -B -o -q -DskipTests package -pl device-sim && mvn -B -o -q -pl device-sim test-compile
set -euo pipefail
cd "$(dirname "$0")/.."
SIM_JAR=${SIM_JAR:-device-sim/target/safegrid-sim.jar}
[[ -f "$SIM_JAR" && -d device-sim/target/test-classes ]] || { echo "build first (see header)" >&2; exit 1; }
exec java -cp "device-sim/target/test-classes:$SIM_JAR" io.safegrid.sim.load.SseReaderBench "${1:-2000}" "${2:-5}"
