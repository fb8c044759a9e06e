package io.safegrid.gateway.wiring;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.safegrid.alerting.ledger.AlarmService;
import io.safegrid.model.AlarmTransition;
import io.safegrid.rules.TransitionSink;
import java.time.Duration;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the rule engine's transitions to the alarm ledger on one thread of its own: the engine's
 * shard threads never wait for a database round trip.
 *
 * <p>Two lanes. Hazard alarms (gas, fire, water, combinations) go before maintenance alarms
 * ({@link #MAINTENANCE_RULES}: device offline, low battery): a burst of thousands of offline
 * alarms, as after a mobile network outage, must not hold a gas leak back for minutes (seen in
 * bench/run: 6,240 offline alarms at once delayed every gas alarm behind them). Within a lane
 * transitions keep the order the engine decided them, and a (device, rule) always takes the same
 * lane, so its raise, severity change and clear reach the ledger in order.
 *
 * <p>A transition the ledger refuses (database down) is retried with back-off up to 5 times
 * (about 30 s), then logged and counted in {@code safegrid.alarms.writer.failed}; the rule engine's
 * next evaluation raises it again. Gauge {@code safegrid.alarms.writer.queued}: transitions waiting.
 */
final class AlarmWriter implements TransitionSink, AutoCloseable {

  /** Rule ids of the maintenance lane (rules module: inactivity and battery rules). */
  static final Set<String> MAINTENANCE_RULES = Set.of("device-offline", "low-battery");

  private static final Logger log = LoggerFactory.getLogger(AlarmWriter.class);
  private static final int ATTEMPTS = 5;

  private record Queued(int lane, long seq, AlarmTransition transition) {}

  private static final Queued STOP = new Queued(Integer.MAX_VALUE, Long.MAX_VALUE, null);

  private final AlarmService ledger;
  private final PriorityBlockingQueue<Queued> queue =
      new PriorityBlockingQueue<>(
          1024, Comparator.comparingInt(Queued::lane).thenComparingLong(Queued::seq));
  private final AtomicLong sequence = new AtomicLong();
  private final Thread thread;
  private final Counter failed;
  private final Counter written;
  private volatile boolean stopping;

  AlarmWriter(AlarmService ledger, MeterRegistry registry) {
    this.ledger = ledger;
    this.failed =
        Counter.builder("safegrid.alarms.writer.failed")
            .description("rule transitions the ledger refused after retries")
            .register(registry);
    this.written =
        Counter.builder("safegrid.alarms.writer.applied")
            .description("rule transitions applied to the ledger")
            .register(registry);
    Gauge.builder("safegrid.alarms.writer.queued", queue, PriorityBlockingQueue::size)
        .description("rule transitions waiting for the ledger")
        .register(registry);
    this.thread = new Thread(this::run, "safegrid-alarm-writer");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void accept(AlarmTransition t) {
    int lane = MAINTENANCE_RULES.contains(t.ruleId()) ? 1 : 0;
    queue.add(new Queued(lane, sequence.incrementAndGet(), t));
  }

  private void run() {
    while (true) {
      Queued q;
      try {
        q = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (q == STOP) {
        return;
      }
      apply(q.transition());
    }
  }

  private void apply(AlarmTransition t) {
    long backoffMs = 500;
    for (int attempt = 1; ; attempt++) {
      try {
        ledger.apply(t);
        written.increment();
        return;
      } catch (RuntimeException e) {
        if (attempt >= ATTEMPTS || stopping) {
          failed.increment();
          log.error(
              "alarm ledger refused {} {} of {} after {} attempts: {}",
              t.kind(), t.ruleId(), t.deviceId(), attempt, e.toString());
          return;
        }
        log.warn("alarm ledger refused {} of {} (attempt {}), retrying: {}",
            t.ruleId(), t.deviceId(), attempt, e.toString());
        try {
          Thread.sleep(backoffMs);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
        backoffMs = Math.min(backoffMs * 2, 10_000);
      }
    }
  }

  /** Applies what is queued (waits up to {@code wait}), then stops the thread. */
  void drain(Duration wait) {
    queue.add(STOP); // sorts after everything queued
    try {
      thread.join(wait.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      stopping = true;
      log.warn("alarm writer: {} transitions still queued at shutdown were dropped", queue.size());
      thread.interrupt();
    }
  }

  @Override
  public void close() {
    drain(Duration.ofSeconds(10));
  }
}
