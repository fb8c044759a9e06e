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

  /**
   * Keeps a message the transport refused before decoding it, in {@code dead_letters} with the
   * reason: a PUBLISH to a topic the device may not use (the contract's topic rules, "Devices"), a
   * packet over the maximum size (kept bounded by the caller: see {@code docs/mqtt.md}), an MQTT 5
   * PUBLISH with RETAIN=1 (MQTT 5.0 3.3.1.3), a malformed packet, a CoAP body over the bound. The
   * contract's delivery promise: bad input is kept with the reason, not dropped silently.
   * Transports call it through {@link DeadLetters} (or directly when they wait for the row, e.g.
   * to send MQTT 5 PUBACK 0x87).
   *
   * <p>The default calls {@link #rejected}; {@link IngestService} counts it apart ({@code
   * safegrid.ingest.messages{kind=refused, outcome=invalid}}) and, once durable, in the
   * transport's {@code dead_letters} counter with {@code reason} = {@code tag}.
   *
   * @param deviceId the authenticated device that sent it
   * @param payload what is kept of the payload (the caller bounds it)
   * @param source where it came from, e.g. {@code mqtt:devices/gas-002/telemetry}
   * @param tag the {@code reason} tag it is counted under, e.g. {@code acl_publish}
   * @param reason why it was refused, one sentence
   * @return completes with {@link IngestResult.Status#INVALID} once the dead letter is durable;
   *     exceptionally with {@link io.safegrid.gateway.storage.StoreOverloadedException} when
   *     storage pushes back
   */
  default CompletableFuture<IngestResult> refused(
      String deviceId, byte[] payload, String source, String tag, String reason) {
    return rejected(deviceId, payload, source, reason);
  }

  /** True while storage can take more; transports pause reading when false. */
  boolean acceptingMore();
}
