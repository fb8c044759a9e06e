package io.safegrid.gateway.wiring;

import io.safegrid.gateway.coap.CoapPresenceListener;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Online / offline of CoAP devices for the dashboard (docs/dashboard.md: "CoAP first message").
 * CoAP has no connection, so a device is online from its first authenticated message and offline
 * once nothing arrived for strictly more than its inactivity timeout (report interval x {@code
 * offline_after_intervals}, the same timeout as the rule engine's {@code device-offline} alarm),
 * as an MQTT device is offline once its keepalive lapses.
 *
 * <p>Gives {@link PresenceSink#status} {@code (id, true, t, "coap")} on the first message and on
 * the first after an offline, and {@code (id, false, t, "inactivity_timeout")} from {@link
 * #sweep(long)}, which {@link #start} runs every {@code sweepMillis}. Thread-safe; {@link
 * #onMessage} does not block (one map update).
 */
final class CoapPresence implements CoapPresenceListener, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CoapPresence.class);

  /** Where changes go: the dashboard's {@code LiveFeed.deviceStatus}. */
  @FunctionalInterface
  interface PresenceSink {
    void status(String deviceId, boolean online, long atMillis, String reason);
  }

  static final String ONLINE_REASON = "coap";
  static final String OFFLINE_REASON = "inactivity_timeout";

  private final PresenceSink sink;
  private final ToLongFunction<String> timeoutMillis;
  private final LongSupplier clock;
  /** device id -> last message, epoch ms; present while the device counts as online. */
  private final Map<String, Long> lastSeen = new ConcurrentHashMap<>();
  private ScheduledExecutorService sweeper;

  /**
   * @param sink told of each change
   * @param timeoutMillis a device's inactivity timeout, ms (> 0)
   * @param clock epoch ms
   */
  CoapPresence(PresenceSink sink, ToLongFunction<String> timeoutMillis, LongSupplier clock) {
    this.sink = Objects.requireNonNull(sink, "sink");
    this.timeoutMillis = Objects.requireNonNull(timeoutMillis, "timeoutMillis");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public void onMessage(String deviceId, long atMillis) {
    // reported inside compute, as the sweep reports offline inside computeIfPresent: the two
    // reports of one device cannot cross (online then a stale offline)
    lastSeen.compute(deviceId, (id, before) -> {
      if (before == null) {
        sink.status(id, true, atMillis, ONLINE_REASON);
      }
      return atMillis;
    });
  }

  /** Marks offline every device silent for more than its timeout at {@code nowMillis}. */
  void sweep(long nowMillis) {
    for (Map.Entry<String, Long> e : lastSeen.entrySet()) {
      String id = e.getKey();
      long seen = e.getValue();
      if (nowMillis - seen > timeoutMillis.applyAsLong(id)) {
        lastSeen.computeIfPresent(id, (k, current) -> {
          if (current != seen) {
            return current; // a message arrived meanwhile: still online
          }
          sink.status(k, false, nowMillis, OFFLINE_REASON);
          return null;
        });
      }
    }
  }

  /** Sweeps every {@code sweepMillis} on a daemon thread {@code safegrid-coap-presence}. */
  CoapPresence start(long sweepMillis) {
    sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "safegrid-coap-presence");
      t.setDaemon(true);
      return t;
    });
    sweeper.scheduleWithFixedDelay(() -> {
      try {
        sweep(clock.getAsLong());
      } catch (RuntimeException e) {
        log.warn("CoAP presence sweep failed: {}", e.toString());
      }
    }, sweepMillis, sweepMillis, TimeUnit.MILLISECONDS);
    return this;
  }

  @Override
  public void close() {
    if (sweeper != null) {
      sweeper.shutdownNow();
    }
  }
}
