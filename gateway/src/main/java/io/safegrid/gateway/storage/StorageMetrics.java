package io.safegrid.gateway.storage;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.function.DoubleSupplier;

/**
 * The store's Micrometer meters (names dotted, prefixed {@code safegrid.storage}).
 *
 * <ul>
 *   <li>{@code safegrid.storage.rows} (counter, tag {@code outcome=inserted|duplicate|conflict}):
 *       readings written; a duplicate is a (device, metric, time) already stored or repeated in
 *       its batch with the same value; a conflict is one with another value (a device clock that
 *       stopped), kept in {@code dead_letters} instead
 *   <li>{@code safegrid.storage.batches} (counter, tag {@code path=live|replay}): committed batches
 *   <li>{@code safegrid.storage.batch.latency} (timer, p50/p95/p99): COPY start to commit of a
 *       batch
 *   <li>{@code safegrid.storage.dead_letters} (counter, tag {@code source=ingest|storage}): rows
 *       kept in {@code dead_letters}: handed in by ingest, or refused by the database
 *   <li>{@code safegrid.storage.spooled} (counter): readings written to the local spool
 *   <li>{@code safegrid.storage.rejected} (counter, tag {@code reason=spool_full|queue_full}):
 *       submissions failed with {@link StoreOverloadedException}
 *   <li>gauges {@code safegrid.storage.spool.bytes} (bytes not yet replayed), {@code
 *       safegrid.storage.spool.age} (seconds since the oldest unreplayed record was spooled),
 *       {@code safegrid.storage.spool.full} (1 while the spool refuses: raise the gateway alarm),
 *       {@code safegrid.storage.spooling} (1 while the database is treated as unreachable), {@code
 *       safegrid.storage.queue.rows} (rows waiting for the writer)
 * </ul>
 */
final class StorageMetrics {
  final Counter inserted;
  final Counter duplicates;
  final Counter conflicts;
  final Counter liveBatches;
  final Counter replayBatches;
  final Timer batchLatency;
  final Counter deadLettersIngest;
  final Counter deadLettersStorage;
  final Counter spooled;
  final Counter rejectedSpoolFull;
  final Counter rejectedQueueFull;

  StorageMetrics(MeterRegistry r) {
    inserted = Counter.builder("safegrid.storage.rows").tag("outcome", "inserted")
        .description("readings written").register(r);
    duplicates = Counter.builder("safegrid.storage.rows").tag("outcome", "duplicate")
        .description("readings written").register(r);
    conflicts = Counter.builder("safegrid.storage.rows").tag("outcome", "conflict")
        .description("readings written").register(r);
    liveBatches = Counter.builder("safegrid.storage.batches").tag("path", "live").register(r);
    replayBatches = Counter.builder("safegrid.storage.batches").tag("path", "replay").register(r);
    batchLatency = Timer.builder("safegrid.storage.batch.latency")
        .description("COPY start to commit of one batch")
        .publishPercentiles(0.5, 0.95, 0.99)
        .register(r);
    deadLettersIngest = Counter.builder("safegrid.storage.dead_letters").tag("source", "ingest")
        .register(r);
    deadLettersStorage = Counter.builder("safegrid.storage.dead_letters").tag("source", "storage")
        .register(r);
    spooled = Counter.builder("safegrid.storage.spooled").baseUnit("rows").register(r);
    rejectedSpoolFull = Counter.builder("safegrid.storage.rejected").tag("reason", "spool_full")
        .register(r);
    rejectedQueueFull = Counter.builder("safegrid.storage.rejected").tag("reason", "queue_full")
        .register(r);
  }

  static void gauge(MeterRegistry r, String name, String unit, Object owner, DoubleSupplier f) {
    Gauge.builder(name, owner, o -> f.getAsDouble()).baseUnit(unit).strongReference(true)
        .register(r);
  }
}
