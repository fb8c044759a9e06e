package io.safegrid.alerting.escalation;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls due escalation deadlines every {@link EscalationConfig#pollInterval()} (wall time) on one
 * thread of its own; "due" is judged by the service clock, so deadlines persisted before a restart
 * are taken up where they were.
 */
public final class EscalationScheduler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EscalationScheduler.class);

  private final Escalator escalator;
  private final EscalationConfig config;
  private final Runnable afterSteps;
  private ScheduledExecutorService executor;

  /**
   * @param escalator does the steps
   * @param config poll interval
   * @param afterSteps run after a poll that took steps (e.g. wake the outbox dispatcher)
   */
  public EscalationScheduler(Escalator escalator, EscalationConfig config, Runnable afterSteps) {
    this.escalator = escalator;
    this.config = config;
    this.afterSteps = afterSteps;
  }

  /** Starts polling. */
  public synchronized void start() {
    if (executor != null) {
      return;
    }
    executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "safegrid-escalation");
      t.setDaemon(true);
      return t;
    });
    long ms = config.pollInterval().toMillis();
    executor.scheduleWithFixedDelay(this::poll, ms, ms, TimeUnit.MILLISECONDS);
  }

  private void poll() {
    try {
      int n;
      int total = 0;
      while ((n = escalator.runDue()) > 0) {
        total += n;
      }
      if (total > 0) {
        afterSteps.run();
      }
    } catch (RuntimeException e) {
      log.warn("escalation poll failed; retrying in {}", config.pollInterval(), e);
    }
  }

  /** Stops polling; a poll in progress finishes (its transaction commits or rolls back). */
  @Override
  public synchronized void close() {
    if (executor != null) {
      executor.shutdown();
      try {
        executor.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      executor = null;
    }
  }
}
