package io.safegrid.alerting.ledger;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells listeners of committed ledger events, in id order, on one thread of its own. It reads the
 * events back from {@code alarm_events} after each commit (and every poll interval, which also
 * picks up events committed by another gateway process on the same database), so listeners see
 * exactly the sequence {@code eventsAfter} replays: no gaps, no duplicates.
 */
final class EventDispatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventDispatcher.class);

  private final List<Consumer<AlarmEvent>> listeners = new CopyOnWriteArrayList<>();
  private final Semaphore wake = new Semaphore(0);
  private final LongFunction<List<AlarmEvent>> fetchAfter;
  private final Runnable afterBatch;
  private final long pollMillis;
  private volatile boolean running;
  private volatile long lastId;
  private Thread thread;

  EventDispatcher(LongFunction<List<AlarmEvent>> fetchAfter, Runnable afterBatch, long pollMillis) {
    this.fetchAfter = fetchAfter;
    this.afterBatch = afterBatch;
    this.pollMillis = pollMillis;
  }

  void addListener(Consumer<AlarmEvent> l) {
    listeners.add(l);
  }

  synchronized void start(long fromId) {
    if (running) {
      return;
    }
    lastId = fromId;
    running = true;
    thread = new Thread(this::loop, "safegrid-alarm-events");
    thread.setDaemon(true);
    thread.start();
  }

  /** Something committed: look now. */
  void signal() {
    wake.release();
  }

  long lastDispatchedId() {
    return lastId;
  }

  private void loop() {
    while (running) {
      try {
        wake.tryAcquire(pollMillis, TimeUnit.MILLISECONDS);
        wake.drainPermits();
        if (!running) {
          break;
        }
        List<AlarmEvent> batch;
        do {
          batch = fetchAfter.apply(lastId);
          for (AlarmEvent e : batch) {
            for (Consumer<AlarmEvent> l : listeners) {
              try {
                l.accept(e);
              } catch (RuntimeException ex) {
                log.warn("alarm event listener failed on event {}", e.id(), ex);
              }
            }
            lastId = e.id();
          }
        } while (!batch.isEmpty() && running);
        afterBatch.run();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (RuntimeException e) {
        log.warn("alarm event dispatch failed; retrying after {} ms", pollMillis, e);
      }
    }
  }

  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      running = false;
      t = thread;
      thread = null;
    }
    if (t != null) {
      wake.release();
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
