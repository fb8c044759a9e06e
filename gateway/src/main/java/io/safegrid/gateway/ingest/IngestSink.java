package io.safegrid.gateway.ingest;

import java.util.concurrent.CompletableFuture;

/**
 * The one path every transport (MQTT, CoAP) hands a device's payload to. It decodes the
 * contract's JSON, sends readings to the rule engine at once (the alarm path never waits for a
 * commit) and to storage, and completes when what must be durable is durable.
 *
 * <p>The device id is the authenticated one; transports check the topic or path before calling.
 */
public interface IngestSink {

  /**
   * Takes a telemetry payload ({@code devices/{id}/telemetry}): one JSON object, or an array of
   * them for a cached backlog.
   *
   * @param deviceId authenticated device id
   * @param payload raw bytes as received
   * @param receivedAtMillis receive time, epoch ms, used when a record has no {@code ts}
   * @param source where it came from, for dead letters, e.g. {@code mqtt:devices/gas-001/telemetry}
   * @return completes with the outcome once durable (an {@link IngestResult.Status#INVALID}
   *     message is durable in {@code dead_letters}); exceptionally with {@link
   *     io.safegrid.gateway.storage.StoreOverloadedException} when storage pushes back
   */
  CompletableFuture<IngestResult> telemetry(
      String deviceId, byte[] payload, long receivedAtMillis, String source);

  /** Takes an events payload ({@code devices/{id}/events}); as {@link #telemetry}. */
  CompletableFuture<IngestResult> events(
      String deviceId, byte[] payload, long receivedAtMillis, String source);

  /**
   * Keeps a payload the transport itself found undecodable (e.g. a {@code devices/{id}/status}
   * payload that says neither online nor offline) in {@code dead_letters} with the reason: the
   * contract's delivery promise drops no undecodable message silently.
   *
   * <p>The default keeps nothing (for test doubles); a sink that stores must override it.
   *
   * @param reason why it was refused, one sentence
   * @return completes with {@link IngestResult.Status#INVALID} once the dead letter is durable
   */
  default CompletableFuture<IngestResult> rejected(
      String deviceId, byte[] payload, String source, String reason) {
    return CompletableFuture.completedFuture(
        new IngestResult(IngestResult.Status.INVALID, 0, java.util.List.of(reason)));
  }

  /** True while storage can take more; transports pause reading when false. */
  boolean acceptingMore();
}
