package io.safegrid.gateway.ingest;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one dead-letter keeper both transports use for what they refuse before decoding: an MQTT
 * PUBLISH to a foreign topic, with RETAIN=1 on MQTT 5, over the maximum packet size, a malformed
 * packet; a CoAP body over the bound or posted to a resource the device may not use. It hands the
 * payload to {@link IngestSink#refused} without waiting, turns a throw into a failed future, and
 * logs at WARN a dead letter that was not kept (e.g. storage overloaded): the refusal stands, the
 * transport has already answered or is closing the connection.
 *
 * <p>It does not count: {@link IngestService} counts every {@code dead_letters} row it writes,
 * once durable, in {@code safegrid.mqtt.dead_letters} / {@code safegrid.coap.dead_letters}
 * ({@code reason} = the {@code tag} given here), so the counter and the table agree on every
 * path, whatever became of the connection meanwhile (contract "Delivery promise": kept with the
 * reason, counted in a metric).
 */
public final class DeadLetters {

  private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

  private final IngestSink sink;

  /**
   * @param sink where refused messages are kept ({@link IngestService} in the gateway)
   */
  public DeadLetters(IngestSink sink) {
    this.sink = Objects.requireNonNull(sink, "sink");
  }

  /**
   * Keeps a refused message without waiting for it.
   *
   * @param deviceId the authenticated device that sent it
   * @param source where it came from, e.g. {@code mqtt:devices/gas-002/telemetry}, {@code
   *     coaps:/devices/gas-002/telemetry}; its scheme names the counter
   * @param payload what is kept (the caller bounds it, e.g. the first 4096 bytes)
   * @param tag the counter's {@code reason} tag, e.g. {@code acl_publish}, {@code too_large}
   * @param reason why, one sentence, stored in the row
   * @return completes when the row is durable (and counted), exceptionally if it was not kept
   */
  public CompletableFuture<IngestResult> keep(
      String deviceId, String source, byte[] payload, String tag, String reason) {
    CompletableFuture<IngestResult> kept;
    try {
      kept = sink.refused(deviceId, payload, source, tag, reason);
    } catch (RuntimeException e) {
      kept = CompletableFuture.failedFuture(e);
    }
    kept.whenComplete((r, e) -> {
      if (e != null) {
        log.warn("device {}: dead letter ({}) not kept: {}", deviceId, tag, e.toString());
      }
    });
    return kept;
  }
}
