package io.safegrid.gateway.wiring;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.safegrid.rules.engine.Flag;
import io.safegrid.rules.engine.FlagSink;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the rule engine's {@link Flag}s go in the gateway: each one counted in {@code
 * safegrid.rules.flags} (tag {@code reason} = {@link Flag.Kind#reason()}, e.g. {@code
 * future_timestamp}, {@code clock_behind}, {@code late_reading}), and the first of each (device,
 * reason) logged at WARN with its detail, so an operator learns that a device's clock went back
 * without a line per reading (a device with a wrong clock flags every reading). At most {@value
 * #MAX_LOGGED} (device, reason) pairs are remembered; past that, flags are only counted.
 * Thread-safe and quick (called on Netty event loops): a counter increment and a set lookup.
 */
final class RuleFlags implements FlagSink {

  /** Most (device, reason) pairs whose first flag is remembered as logged. */
  static final int MAX_LOGGED = 10_000;

  private static final Logger log = LoggerFactory.getLogger(RuleFlags.class);

  private final Map<Flag.Kind, Counter> counters = new EnumMap<>(Flag.Kind.class);
  private final Map<Flag.Kind, Set<String>> logged = new EnumMap<>(Flag.Kind.class); // devices told, per reason
  private final AtomicInteger loggedCount = new AtomicInteger();

  /** Registers one counter per flag kind in {@code registry}. */
  RuleFlags(MeterRegistry registry) {
    for (Flag.Kind k : Flag.Kind.values()) {
      counters.put(k, Counter.builder("safegrid.rules.flags")
          .description("suspicious input the rule engine did not take as newest state")
          .tag("reason", k.reason())
          .register(registry));
      logged.put(k, ConcurrentHashMap.newKeySet());
    }
  }

  @Override
  public void accept(Flag f) {
    counters.get(f.kind()).increment();
    Set<String> told = logged.get(f.kind());
    if (loggedCount.get() < MAX_LOGGED && !told.contains(f.deviceId()) && told.add(f.deviceId())) {
      loggedCount.incrementAndGet();
      log.warn("device {} {}: {} ({} {}; later ones of this device are only counted in "
              + "safegrid.rules.flags{reason={}})",
          f.deviceId(), f.kind().reason(), f.detail(), f.subject(),
          Instant.ofEpochMilli(f.timeMillis()), f.kind().reason());
    }
  }
}
