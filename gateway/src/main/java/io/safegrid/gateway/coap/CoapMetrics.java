package io.safegrid.gateway.coap;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * The CoAP ingest meters, named as for MQTT:
 *
 * <ul>
 *   <li>{@code safegrid.coap.messages} counter, tags {@code type} = CON|NON, {@code resource} =
 *       telemetry|events: POSTs that reached a device resource
 *   <li>{@code safegrid.coap.rejects} counter, tag {@code reason} = unauthorized | forbidden |
 *       plain_not_allowed | too_large | invalid_payload | overloaded | store_failed | not_found
 *       (4.04: no such resource) | method_not_allowed (4.05) | dtls_handshake (a CoAPS handshake
 *       failed: wrong PSK, unknown identity, peer gone mid-handshake) | server_busy (plain CoAP
 *       wrong secret beyond the refusal slots: 5.03) | echo_challenge (4.01 with an Echo option,
 *       unchecked: the (device, prefix) budget is spent; {@link EchoChallenge}) | refusal_budget
 *       (5.03 unchecked, a request that proved its address with Echo over its refusal budget; see
 *       {@link io.safegrid.gateway.mqtt.auth.RefusalGuard}): requests not answered 2.04
 *   <li>{@code safegrid.coap.dead_letters} counter, tag {@code reason} = invalid_payload |
 *       partly_refused | forbidden | plain_not_allowed | too_large: rows kept in {@code
 *       dead_letters} for CoAP requests, one count per row once it is durable (its sum equals the
 *       rows with source {@code coap:...} or {@code coaps:...}); counted where the rows are
 *       written ({@link io.safegrid.gateway.ingest.IngestService}), not here
 *   <li>{@code safegrid.coap.bytes} distribution summary (bytes), tag {@code resource}: request
 *       body sizes
 *   <li>{@code safegrid.coap.response.latency} timer, tag {@code type}: from the request reaching
 *       its resource to the response being handed to Californium (for a CON the durable commit)
 * </ul>
 */
final class CoapMetrics {

  private final MeterRegistry registry;

  CoapMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void message(boolean confirmable, String resource, int bytes) {
    Counter.builder("safegrid.coap.messages")
        .description("CoAP POSTs that reached a device resource")
        .tag("type", confirmable ? "CON" : "NON")
        .tag("resource", resource)
        .register(registry)
        .increment();
    DistributionSummary.builder("safegrid.coap.bytes")
        .description("CoAP request body sizes")
        .baseUnit("bytes")
        .tag("resource", resource)
        .register(registry)
        .record(bytes);
  }

  void reject(String reason) {
    Counter.builder("safegrid.coap.rejects")
        .description("CoAP requests not answered 2.04, by reason")
        .tag("reason", reason)
        .register(registry)
        .increment();
  }

  void latency(boolean confirmable, long nanos) {
    Timer.builder("safegrid.coap.response.latency")
        .description("CoAP request to response, for a CON including the durable commit")
        .tag("type", confirmable ? "CON" : "NON")
        .register(registry)
        .record(nanos, TimeUnit.NANOSECONDS);
  }
}
