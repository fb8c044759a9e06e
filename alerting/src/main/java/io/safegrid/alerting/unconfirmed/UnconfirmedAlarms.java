package io.safegrid.alerting.unconfirmed;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.safegrid.alerting.channel.mqtt.MqttChannel;
import io.safegrid.alerting.channel.mqtt.MqttChannelConfig;
import io.safegrid.alerting.json.JsonText;
import io.safegrid.alerting.outbox.DeliveryException;
import io.safegrid.alerting.outbox.OutboxMessage;
import io.safegrid.alerting.routing.GridDirectory;
import io.safegrid.alerting.routing.GridLevel;
import io.safegrid.alerting.routing.RecipientGroup;
import io.safegrid.alerting.routing.Route;
import io.safegrid.alerting.routing.Router;
import io.safegrid.model.AlarmTransition;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hazards the alarm ledger has not committed in time, told to someone anyway (newcomer7 F4 b,
 * review7 R10; docs/alerting.md "Database outage"). The ledger, the outbox and so the usual
 * notifications live in the database: while it is unreachable a fire or a gas leak would reach
 * nobody. The gateway's alarm writer hands such a transition here (an {@link UnconfirmedListener})
 * after it waited about 2 s; this class
 *
 * <ol>
 *   <li>tells its listeners (the dashboard's live feed: SSE {@code event: unconfirmed}), and
 *   <li>publishes it straight to the emergency network's MQTT broker (not through the outbox): QoS
 *       1, not retained, topic {@code <prefix><recipient>} where the recipient is the device's
 *       community in the grid ({@link GridLevel#COMMUNITY}, the first level at or above it in the
 *       device's chain; the sub-district duty officer for a device the site does not know), the
 *       payload {@link #payload}'s JSON with {@code "unconfirmed": true}. On its own thread and
 *       MQTT client ({@code <clientId>-unconfirmed}): at most {@value #PUBLISH_ATTEMPTS} attempts
 *       {@value #RETRY_MS} ms apart, none once the ledger committed it (the usual notifications then
 *       go out).
 * </ol>
 *
 * <p>When the ledger later commits the transition, the usual {@code raised} event and
 * notifications follow; a recipient tells the duplicate by device, rule and {@code raisedAt} (the
 * transition's time, which the ledger also writes as {@code raised_at}).
 *
 * <p>Metrics: counter {@code safegrid.alarms.unconfirmed} (tag {@code outcome}: {@code held}
 * handed over, {@code committed}, {@code given_up}), counter {@code
 * safegrid.alarms.unconfirmed.published} (tag {@code outcome}: {@code delivered}, {@code failed},
 * {@code skipped} when committed first), gauge {@code safegrid.alarms.unconfirmed.waiting}.
 */
public final class UnconfirmedAlarms implements UnconfirmedListener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(UnconfirmedAlarms.class);

  /** Attempts of the direct MQTT publish before it is given up (logged). */
  static final int PUBLISH_ATTEMPTS = 3;
  /** Wait between two attempts, ms. */
  static final long RETRY_MS = 1_000;

  private final Router router;
  private final List<UnconfirmedListener> listeners = new CopyOnWriteArrayList<>();
  private final MqttChannel mqtt;
  private final ExecutorService publisher;
  /** Ids of unconfirmed alarms not settled yet. */
  private final Set<Long> waiting = ConcurrentHashMap.newKeySet();
  private final AtomicInteger waitingCount = new AtomicInteger();
  private final Counter held;
  private final Counter committed;
  private final Counter givenUp;
  private final Counter delivered;
  private final Counter failed;
  private final Counter skipped;

  /**
   * @param grid the site's grid: the device's kind, place and community
   * @param mqtt the emergency network broker (the outbox's MQTT channel settings; this class
   *     connects with its own client id, {@code <clientId>-unconfirmed}), or null for none
   * @param registry where the {@code safegrid.alarms.unconfirmed*} metrics go
   */
  public UnconfirmedAlarms(GridDirectory grid, MqttChannelConfig mqtt, MeterRegistry registry) {
    this.router = new Router(grid, null);
    this.mqtt = mqtt == null ? null : new MqttChannel(new MqttChannelConfig(mqtt.serverUri(),
        mqtt.clientId() + "-unconfirmed", mqtt.topicPrefix(), mqtt.username(), mqtt.password(),
        mqtt.timeout()));
    this.publisher = mqtt == null ? null : Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "safegrid-unconfirmed-mqtt");
      t.setDaemon(true);
      return t;
    });
    this.held = outcome(registry, "held");
    this.committed = outcome(registry, "committed");
    this.givenUp = outcome(registry, "given_up");
    this.delivered = published(registry, "delivered");
    this.failed = published(registry, "failed");
    this.skipped = published(registry, "skipped");
    Gauge.builder("safegrid.alarms.unconfirmed.waiting", waitingCount, AtomicInteger::get)
        .description("hazard transitions handed over as unconfirmed and not yet in the ledger")
        .register(registry);
  }

  private static Counter outcome(MeterRegistry registry, String outcome) {
    return Counter.builder("safegrid.alarms.unconfirmed")
        .description("hazard transitions not committed in time: handed over, then committed or given up")
        .tag("outcome", outcome)
        .register(registry);
  }

  private static Counter published(MeterRegistry registry, String outcome) {
    return Counter.builder("safegrid.alarms.unconfirmed.published")
        .description("unconfirmed hazards published straight to the emergency network broker")
        .tag("outcome", outcome)
        .register(registry);
  }

  /** Adds a listener (e.g. the live feed); told after this class's own bookkeeping. */
  public void addListener(UnconfirmedListener l) {
    listeners.add(l);
  }

  @Override
  public void unconfirmed(UnconfirmedAlarm a) {
    if (!waiting.add(a.id())) {
      return;
    }
    waitingCount.incrementAndGet();
    held.increment();
    AlarmTransition t = a.transition();
    log.warn("alarm ledger has not taken {} {} of {} ({}) for {} ms: told as unconfirmed to the live"
        + " feed{}", t.kind(), t.ruleId(), t.deviceId(), t.severity().wireName(), a.waitedMillis(),
        mqtt == null ? "" : " and the emergency network broker");
    for (UnconfirmedListener l : listeners) {
      try {
        l.unconfirmed(a);
      } catch (RuntimeException e) {
        log.error("unconfirmed alarm listener failed", e);
      }
    }
    if (publisher != null) {
      publisher.execute(() -> publish(a));
    }
  }

  @Override
  public void settled(UnconfirmedAlarm a, boolean wasCommitted) {
    if (!waiting.remove(a.id())) {
      return;
    }
    waitingCount.decrementAndGet();
    (wasCommitted ? committed : givenUp).increment();
    for (UnconfirmedListener l : listeners) {
      try {
        l.settled(a, wasCommitted);
      } catch (RuntimeException e) {
        log.error("unconfirmed alarm listener failed", e);
      }
    }
  }

  /** On the publisher thread: the direct publish, retried; skipped once the ledger has it. */
  private void publish(UnconfirmedAlarm a) {
    Route route = router.route(a.transition().deviceId(), a.transition().ruleId(), a.transition().severity());
    RecipientGroup to = community(route.chain());
    String payload = JsonText.write(payload(a, route, to, mqtt.name()), 1024);
    String key = idempotencyKey(a, to, mqtt.name());
    for (int attempt = 1; attempt <= PUBLISH_ATTEMPTS; attempt++) {
      if (!waiting.contains(a.id())) {
        skipped.increment(); // committed (or given up) meanwhile: the ledger's notifications go out
        return;
      }
      try {
        mqtt.send(new OutboxMessage(0, key, mqtt.name(), to.id(), payload, attempt));
        delivered.increment();
        log.info("unconfirmed {} of {} published to {} on the emergency network broker",
            a.transition().ruleId(), a.transition().deviceId(), to.id());
        return;
      } catch (DeliveryException e) {
        log.warn("unconfirmed {} of {}: publish to {} failed (attempt {} of {}): {}",
            a.transition().ruleId(), a.transition().deviceId(), to.id(), attempt, PUBLISH_ATTEMPTS,
            e.getMessage());
        if (attempt < PUBLISH_ATTEMPTS) {
          try {
            Thread.sleep(RETRY_MS);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            break;
          }
        }
      }
    }
    failed.increment();
    log.error("unconfirmed {} of {} could not be published to the emergency network broker",
        a.transition().ruleId(), a.transition().deviceId());
  }

  /**
   * The recipient of an unconfirmed hazard: the chain's community ({@link GridLevel#COMMUNITY}), or
   * the first level above it the chain has (the sub-district duty officer), or the chain's top.
   */
  static RecipientGroup community(List<RecipientGroup> chain) {
    for (RecipientGroup r : chain) {
      if (r.level() != null && r.level().compareTo(GridLevel.COMMUNITY) >= 0) {
        return r;
      }
    }
    return chain.get(chain.size() - 1);
  }

  /** {@code unconfirmed-<device>-<rule>-<transition time ms>-<severity>.<recipient>.<channel>}. */
  static String idempotencyKey(UnconfirmedAlarm a, RecipientGroup to, String channel) {
    AlarmTransition t = a.transition();
    return "unconfirmed-" + t.deviceId() + "-" + t.ruleId() + "-" + t.timeMillis() + "-"
        + t.severity().wireName() + "-" + to.id() + "." + channel;
  }

  /**
   * The direct notification's payload (docs/alerting.md "Notifications", "Database outage"): the
   * usual payload's fields where they exist before the ledger ({@code alarmId}, {@code state},
   * {@code count}, {@code step} are null: no alarm row yet), {@code "unconfirmed": true}, {@code
   * "reason": "unconfirmed"}, {@code raisedAt} = the transition's time (as the ledger will write
   * it), {@code at} = now, and the rule's {@code evidence}.
   */
  static Map<String, Object> payload(UnconfirmedAlarm a, Route route, RecipientGroup to, String channel) {
    AlarmTransition t = a.transition();
    Map<String, Object> p = new LinkedHashMap<>(32);
    p.put("idempotencyKey", idempotencyKey(a, to, channel));
    p.put("unconfirmed", true);
    p.put("alarmId", null);
    p.put("deviceId", t.deviceId());
    p.put("ruleId", t.ruleId());
    p.put("kind", route.kind().wireName());
    p.put("place", route.place());
    p.put("severity", t.severity().wireName());
    p.put("state", null);
    p.put("message", t.message());
    p.put("count", null);
    p.put("level", to.level() == null ? null : to.level().wireName());
    p.put("reason", "unconfirmed");
    p.put("step", null);
    p.put("raisedAt", Instant.ofEpochMilli(t.timeMillis() > 0 ? t.timeMillis() : a.decidedAtMillis()).toString());
    p.put("at", Instant.ofEpochMilli(a.handedAtMillis()).toString());
    p.put("recipient", to.id());
    p.put("recipientName", to.name());
    p.put("channel", channel);
    p.put("evidence", t.evidence());
    return p;
  }

  /** Stops the publisher (a publish in progress finishes, up to 5 s) and closes its MQTT client. */
  @Override
  public void close() {
    if (publisher != null) {
      publisher.shutdownNow();
      try {
        publisher.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      mqtt.close();
    }
  }
}
