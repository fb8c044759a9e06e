package io.safegrid.gateway.ingest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts {@code dead_letters} rows once durable, by the transport of their source and a reason
 * tag: {@code safegrid.mqtt.dead_letters{reason}} for a source {@code mqtt:...}, {@code
 * safegrid.coap.dead_letters{reason}} for {@code coap:...} and {@code coaps:...}, {@code
 * safegrid.ingest.dead_letters{reason}} for any other. Used by {@link IngestService} only, where
 * every row a transport or the decoder refuses is written: so each counter's sum equals the rows
 * with its sources (docs/mqtt.md, docs/coap.md "Metrics").
 */
final class DeadLetterCounts {

  private final MeterRegistry registry;
  /** Counters by source scheme + reason, registered on first use. */
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  DeadLetterCounts(MeterRegistry registry) {
    this.registry = registry;
  }

  /** One more row kept (durable) for {@code source} with the {@code reason} tag {@code tag}. */
  void kept(String source, String tag) {
    String transport = transport(source);
    counters
        .computeIfAbsent(transport + "\u0000" + tag, k -> Counter.builder("safegrid." + transport + ".dead_letters")
            .description("rows kept in dead_letters for " + transport + " input, by reason, once durable")
            .tag("reason", tag)
            .register(registry))
        .increment();
  }

  /** {@code mqtt}, {@code coap} (also for {@code coaps}) or {@code ingest}. */
  static String transport(String source) {
    if (source == null) {
      return "ingest";
    }
    if (source.startsWith("mqtt:")) {
      return "mqtt";
    }
    if (source.startsWith("coap:") || source.startsWith("coaps:")) {
      return "coap";
    }
    return "ingest";
  }
}
