#!/usr/bin/env bash
# JMH benchmark of the rule engine with the Dongnan rule set (one shard = one core).
# Prints readings evaluated per second (Throughput, ops/us) and the per-evaluation latency
# distribution with p99 (SampleTime). Extra arguments go to JMH, e.g. `bench/rules.sh -prof gc`.
# About 1 minute on 2 cores (1 fork, 3 x 2 s warm-up, 5 x 2 s measurement, per mode).
set -euo pipefail
cd "$(dirname "$0")/.."
CP_FILE="$PWD/rules/target/bench-classpath.txt"
build() {
  mvn -B -q "$@" -pl rules test-compile \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test
}
# offline first (the shared ~/.m2); online only if the dependency plugin is not there yet
build -o || build
exec java -cp "rules/target/test-classes:rules/target/classes:$(cat "$CP_FILE")" \
  org.openjdk.jmh.Main 'io\.safegrid\.rules\.bench\..*' -rf text -rff rules/target/jmh-result.txt "$@"
