package io.safegrid.gateway.wiring;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.safegrid.alerting.ledger.AlarmService;
import io.safegrid.model.AlarmTransition;
import io.safegrid.rules.TransitionSink;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the rule engine's transitions to the alarm ledger on one thread of its own: the engine's
 * shard threads never wait for a database round trip, and transitions reach the ledger in the
 * order the engine decided them.
 *
 * <p>A transition the ledger refuses (database down) is retried with back-off up to 5 times
 * (about 30 s), then logged and counted in {@code safegrid.alarms.writer.failed}; the rule engine's
 * next evaluation raises it again.
 */
final class AlarmWriter implements TransitionSink, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AlarmWriter.class);
  private static final int ATTEMPTS = 5;

  private final AlarmService ledger;
  private final ExecutorService thread;
  private final Counter failed;
  private final Counter written;

  AlarmWriter(AlarmService ledger, MeterRegistry registry) {
    this.ledger = ledger;
    this.thread =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "safegrid-alarm-writer");
              t.setDaemon(true);
              return t;
            });
    this.failed =
        Counter.builder("safegrid.alarms.writer.failed")
            .description("rule transitions the ledger refused after retries")
            .register(registry);
    this.written =
        Counter.builder("safegrid.alarms.writer.applied")
            .description("rule transitions applied to the ledger")
            .register(registry);
  }

  @Override
  public void accept(AlarmTransition t) {
    thread.execute(() -> apply(t));
  }

  private void apply(AlarmTransition t) {
    long backoffMs = 500;
    for (int attempt = 1; ; attempt++) {
      try {
        ledger.apply(t);
        written.increment();
        return;
      } catch (RuntimeException e) {
        if (attempt >= ATTEMPTS || thread.isShutdown()) {
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
    thread.shutdown();
    try {
      if (!thread.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("alarm writer: transitions still queued at shutdown were dropped");
        thread.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      thread.shutdownNow();
    }
  }

  @Override
  public void close() {
    drain(Duration.ofSeconds(10));
  }
}
