package io.safegrid.gateway.mqtt;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.handler.codec.mqtt.MqttMessageType;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The MQTT server's meters.
 *
 * <ul>
 *   <li>{@code safegrid.mqtt.connections} gauge: open TCP connections;
 *   <li>{@code safegrid.mqtt.messages} counter, tags {@code type} (lower-case MQTT packet type,
 *       e.g. {@code publish}, {@code pingreq}) and {@code direction} = {@code in} (packets
 *       received and decoded) | {@code out} (packets the server sent: connack, puback, pubrec,
 *       pubcomp, suback, pingresp, disconnect);
 *   <li>{@code safegrid.mqtt.bytes} counter, tag {@code direction} = {@code in}|{@code out}: bytes
 *       on the wire (after TLS decryption);
 *   <li>{@code safegrid.mqtt.rejects} counter, tag {@code reason}: refused connections and
 *       packets, e.g. {@code bad_credentials}, {@code acl_publish}, {@code malformed}, {@code
 *       packet_too_large}, {@code invalid_payload}, {@code server_busy} and {@code refusal_budget}
 *       (CONNACK server unavailable / busy, {@link io.safegrid.gateway.mqtt.auth.RefusalGuard});
 *   <li>{@code safegrid.mqtt.dead_letters} counter, tag {@code reason} = {@code acl_publish}|{@code
 *       packet_too_large}|{@code retain_not_supported}|{@code malformed}|{@code
 *       protocol_error}|{@code invalid_payload}|{@code partly_refused}: rows kept in {@code
 *       dead_letters} for MQTT input, one count per row, once the row is durable whatever became
 *       of the connection; counted where the rows are written ({@link
 *       io.safegrid.gateway.ingest.IngestService}), not here; a refusal whose dead letter could not
 *       be stored counts in {@code rejects} only;
 *   <li>{@code safegrid.mqtt.throttled} counter, tag {@code reason} = {@code rate}|{@code
 *       inflight}|{@code storage}: times a socket was paused;
 *   <li>{@code safegrid.mqtt.puback.latency} timer: from a QoS 1/2 PUBLISH received to its PUBACK
 *       / PUBREC written (includes the durable store).
 * </ul>
 */
final class MqttMetrics {

  private final MeterRegistry registry;
  final AtomicInteger connections = new AtomicInteger();
  final Counter bytesIn;
  final Counter bytesOut;
  final Timer pubackLatency;
  private final Map<MqttMessageType, Counter> messages = new EnumMap<>(MqttMessageType.class);
  private final Map<MqttMessageType, Counter> sent = new EnumMap<>(MqttMessageType.class);
  private final Map<String, Counter> rejects = new ConcurrentHashMap<>();
  private final Map<String, Counter> throttles = new ConcurrentHashMap<>();

  MqttMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("safegrid.mqtt.connections", connections, AtomicInteger::get)
        .description("open MQTT connections")
        .register(registry);
    bytesIn = Counter.builder("safegrid.mqtt.bytes").tag("direction", "in").baseUnit("bytes").register(registry);
    bytesOut = Counter.builder("safegrid.mqtt.bytes").tag("direction", "out").baseUnit("bytes").register(registry);
    pubackLatency =
        Timer.builder("safegrid.mqtt.puback.latency")
            .description("QoS 1/2 PUBLISH received to PUBACK/PUBREC sent, after the durable store")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofSeconds(30))
            .register(registry);
    for (MqttMessageType t : MqttMessageType.values()) {
      messages.put(
          t,
          Counter.builder("safegrid.mqtt.messages")
              .tag("type", t.name().toLowerCase(Locale.ROOT))
              .tag("direction", "in")
              .register(registry));
      sent.put(
          t,
          Counter.builder("safegrid.mqtt.messages")
              .tag("type", t.name().toLowerCase(Locale.ROOT))
              .tag("direction", "out")
              .register(registry));
    }
  }

  /** A packet received (direction {@code in}). */
  void message(MqttMessageType type) {
    messages.get(type).increment();
  }

  /** A packet sent (direction {@code out}). */
  void sent(MqttMessageType type) {
    sent.get(type).increment();
  }

  void reject(String reason) {
    rejects
        .computeIfAbsent(reason, r -> Counter.builder("safegrid.mqtt.rejects").tag("reason", r).register(registry))
        .increment();
  }

  void throttled(String reason) {
    throttles
        .computeIfAbsent(reason, r -> Counter.builder("safegrid.mqtt.throttled").tag("reason", r).register(registry))
        .increment();
  }
}
