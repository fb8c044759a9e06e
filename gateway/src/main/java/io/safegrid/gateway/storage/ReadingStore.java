package io.safegrid.gateway.storage;

import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Durable storage of what devices send: the ground the contract's delivery promise stands on.
 *
 * <p>Every future returned here completes normally only once what was submitted is durable:
 * committed to TimescaleDB, or written and fsync'd to the local spool while the database is
 * unreachable. A transport acknowledges (MQTT PUBACK, CoAP 2.04) only after that. A future
 * completes exceptionally with {@link StoreOverloadedException} when the spool is full: the
 * caller must then push back (stop reading its socket, answer CoAP 5.03) and not acknowledge.
 *
 * <p>Duplicates (same device, metric and time) are stored once. Thread-safe; shared by all
 * producers.
 */
public interface ReadingStore extends AutoCloseable {

  /**
   * Stores readings, exactly once per (device, metric, time).
   *
   * @param readings readings of any devices; an empty list completes at once
   * @return completes when all are durable
   */
  CompletableFuture<Void> submit(List<Reading> readings);

  /**
   * Stores readings as {@link #submit} does, and tells which of them were already stored with the
   * same device, metric, time and value before (resends): the rule engine's verdict for a reading
   * far behind ({@code io.safegrid.rules.engine.StoredBefore}). A reading this call stored, one
   * kept as a conflict (another value at a stored time), and any reading when the store cannot
   * tell (spooled while the database is unreachable) is not in the set.
   *
   * @param readings readings of any devices
   * @return completes when all are durable, with the readings (elements of {@code readings})
   *     stored before
   */
  default CompletableFuture<Set<Reading>> submitReporting(List<Reading> readings) {
    return submit(readings).thenApply(v -> Set.of());
  }

  /**
   * Stores a device event in {@code device_events}.
   *
   * @return completes when durable
   */
  CompletableFuture<Void> submitEvent(DeviceEvent event);

  /**
   * Keeps a message that could not be decoded, with the reason, in {@code dead_letters}.
   *
   * @param deviceId the authenticated device, or null if none
   * @param source where it came from, e.g. {@code mqtt:devices/gas-001/telemetry} or {@code
   *     coap:/devices/gas-001/telemetry}
   * @param reason a short human reason, e.g. {@code "invalid JSON at line 1 column 7"}
   * @param payload the raw bytes as received (may be truncated by the caller to a bound)
   * @return completes when durable
   */
  CompletableFuture<Void> deadLetter(String deviceId, String source, String reason, byte[] payload);

  /**
   * True while the store can take more without growing without bound. Transports check it to
   * pause reading (Netty autoRead off) before submitting.
   */
  boolean acceptingMore();

  /** Flushes what is pending and releases connections and files. */
  @Override
  void close();
}
