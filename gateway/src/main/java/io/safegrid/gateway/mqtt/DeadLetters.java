package io.safegrid.gateway.mqtt;

import io.safegrid.gateway.ingest.IngestResult;
import io.safegrid.gateway.ingest.IngestSink;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps what the MQTT server refused in {@code dead_letters} ({@link IngestSink#refused}) and
 * counts it in {@code safegrid.mqtt.dead_letters{reason}} once the row is durable, whatever
 * became of the connection meanwhile: the counter and the table agree on every refusal path
 * (contract "Delivery promise": kept with the reason, counted in a metric).
 *
 * <p>Not a handler: {@link PublishHandler} (topic ACL, RETAIN, oversize) and {@link
 * MalformedPacketHandler} (packets the decoder refused) share it. A dead letter storage refuses
 * (e.g. overloaded) is logged at WARN and not counted here (the refusal itself is counted in
 * {@code safegrid.mqtt.rejects}).
 */
final class DeadLetters {

  private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

  private final IngestSink sink;
  private final MqttMetrics metrics;

  DeadLetters(IngestSink sink, MqttMetrics metrics) {
    this.sink = sink;
    this.metrics = metrics;
  }

  /**
   * Keeps a refused message without waiting for it.
   *
   * @param deviceId the authenticated device that sent it
   * @param source e.g. {@code mqtt:devices/gas-002/telemetry} ({@link PublishHandler#source})
   * @param payload what is kept (the caller bounds it)
   * @param tag the {@code reason} tag of {@code safegrid.mqtt.dead_letters}, e.g. {@code acl_publish}
   * @param reason why, one sentence, stored in the row
   * @return completes when the row is durable (and counted), exceptionally if it was not kept
   */
  CompletableFuture<IngestResult> keep(String deviceId, String source, byte[] payload, String tag, String reason) {
    CompletableFuture<IngestResult> kept;
    try {
      kept = sink.refused(deviceId, payload, source, reason);
    } catch (RuntimeException e) {
      kept = CompletableFuture.failedFuture(e);
    }
    kept.whenComplete((r, e) -> counted(deviceId, tag, e));
    return kept;
  }

  /**
   * Counts a dead letter another path wrote (e.g. the sink's own for an undecodable payload) once
   * its future completed; {@code error} non-null: not kept, logged instead.
   */
  void counted(String deviceId, String tag, Throwable error) {
    if (error == null) {
      metrics.deadLetter(tag);
    } else {
      log.warn("device {}: dead letter ({}) not kept: {}", deviceId, tag, error.toString());
    }
  }
}
