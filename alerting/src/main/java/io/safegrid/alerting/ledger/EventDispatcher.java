package io.safegrid.alerting.ledger;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.safegrid.alerting.trace.AlarmPathTrace;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells listeners of committed ledger events, in id order, without gaps or duplicates, one event
 * at a time (never two listener calls at once).
 *
 * <p>Two ways in. (1) Hand-off: the ledger {@link #offer offers} the events a transaction wrote
 * right after its commit; when their ids continue the last id told ({@code last + 1, last + 2,
 * ...}) they go to the listeners as they are, with no database read, on the committing thread
 * itself when the dispatcher is idle (no thread hop on the alarm path), else on the dispatcher's
 * thread {@code safegrid-alarm-events}. That is provably gap-free:
 * ids are taken under the event-order lock held until commit, so the ids of one transaction are
 * consecutive, and ids handed off after {@code last} in sequence leave nothing out. (2) Read-back:
 * when an offered id does not continue the sequence (another transaction's hand-off is still on its
 * way, ids were burned by a rolled-back transaction, another gateway process wrote events), after
 * a commit of unknown outcome ({@link #signal}), and every poll interval, the dispatcher reads
 * {@code alarm_events} after the last id told and tells those; the database is the truth there,
 * since an id committed means every smaller id is decided. Either way listeners see exactly the
 * sequence {@code eventsAfter} replays.
 *
 * <p>A hand-off told on the committing thread wakes the dispatcher thread only when something
 * waits behind it (a queued hand-off or an out-of-sequence event); the open-alarm gauge ({@code
 * afterBatch}) is then refreshed at the next poll, at most {@code pollMillis} later.
 *
 * <p>Timers: {@code safegrid.alarms.dispatch.delay} (commit to listeners told, hand-off only) and
 * {@code safegrid.alarms.path} (the oldest rule transition of the group decided by the rule
 * engine to listeners told), seconds.
 */
final class EventDispatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventDispatcher.class);
  /** The open-alarm gauge query runs at most this often (it is a GROUP BY over {@code alarms}). */
  private static final long AFTER_BATCH_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private record Handoff(List<AlarmEvent> events, long committedAtNanos, long decidedAtNanos) {}

  private final List<Consumer<AlarmEvent>> listeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> afterTold = new CopyOnWriteArrayList<>();
  /** Held while telling listeners and while touching {@link #waiting} and {@link #lastId}. */
  private final java.util.concurrent.locks.ReentrantLock telling = new java.util.concurrent.locks.ReentrantLock();
  private final TreeMap<Long, AlarmEvent> waiting = new TreeMap<>();
  /** Event ids this ledger's rolled-back transactions took (the warm-up): never committed. Under {@link #telling}. */
  private final java.util.TreeSet<Long> burned = new java.util.TreeSet<>();
  private final Semaphore wake = new Semaphore(0);
  private final ArrayDeque<Handoff> inbox = new ArrayDeque<>();
  private final LongFunction<List<AlarmEvent>> fetchAfter;
  private final Runnable afterBatch;
  private final long pollMillis;
  private final Timer dispatchDelay;
  private final Timer path;
  private volatile boolean running;
  private volatile boolean readBack;
  private volatile long lastId;
  private volatile boolean told;
  private long afterBatchAt;
  private Thread thread;

  EventDispatcher(LongFunction<List<AlarmEvent>> fetchAfter, Runnable afterBatch, long pollMillis,
      MeterRegistry registry) {
    this.fetchAfter = fetchAfter;
    this.afterBatch = afterBatch;
    this.pollMillis = pollMillis;
    this.dispatchDelay = Timer.builder("safegrid.alarms.dispatch.delay")
        .description("ledger commit to alarm event listeners (the live stream) told")
        .publishPercentiles(0.5, 0.9, 0.99)
        .register(registry);
    this.path = Timer.builder("safegrid.alarms.path")
        .description("rule transition decided to its alarm events told to listeners (the live stream)")
        .publishPercentiles(0.5, 0.9, 0.99)
        .register(registry);
  }

  void addListener(Consumer<AlarmEvent> l) {
    listeners.add(l);
  }

  /** See {@link JdbcAlarmLedger#addAfterToldListener}. */
  void addAfterTold(Runnable r) {
    afterTold.add(r);
  }

  synchronized void start(long fromId) {
    if (running) {
      return;
    }
    telling.lock();
    try {
      lastId = fromId;
      skipBurned(); // lastId moves here and in tell(); burned() steps over what follows it
    } finally {
      telling.unlock();
    }
    running = true;
    afterBatchAt = System.nanoTime() - AFTER_BATCH_EVERY_NANOS;
    thread = new Thread(this::loop, "safegrid-alarm-events");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Committed events of one transaction, ids ascending.
   *
   * @param committedAtNanos {@link System#nanoTime()} right after the commit
   * @param decidedAtNanos when the oldest rule transition in it was decided, or 0
   */
  void offer(List<AlarmEvent> events, long committedAtNanos, long decidedAtNanos) {
    if (running && telling.tryLock()) {
      try {
        if (running && events.get(0).id() == lastId + 1) {
          for (AlarmEvent e : events) {
            tell(e);
          }
          runAfterTold();
          long now = System.nanoTime();
          dispatchDelay.record(now - committedAtNanos, TimeUnit.NANOSECONDS);
          if (decidedAtNanos != 0) {
            path.record(now - decidedAtNanos, TimeUnit.NANOSECONDS);
          }
          told = true; // the dispatcher refreshes the open-alarm gauge at its next poll (<= pollMillis)
          boolean inboxEmpty;
          synchronized (inbox) {
            inboxEmpty = inbox.isEmpty();
          }
          if (!waiting.isEmpty() || !inboxEmpty) {
            wake.release(); // the dispatcher tells what waited behind these
          }
          // else no wake-up: waking the dispatcher thread here cost a context switch (and a
          // GROUP BY for the gauge) right when the live feed's event loop needs the core
          return;
        }
      } finally {
        telling.unlock();
      }
    }
    synchronized (inbox) {
      inbox.add(new Handoff(events, committedAtNanos, decidedAtNanos));
    }
    wake.release();
  }

  /**
   * Event ids a rolled-back transaction of this ledger took from {@code alarm_events_id_seq}
   * (the warm-up's): no event will ever have them, so the next event may follow them and still be
   * handed over directly instead of after a read of the table. Call only after the rollback.
   */
  void burned(List<AlarmEvent> rolledBack) {
    telling.lock();
    try {
      for (AlarmEvent e : rolledBack) {
        if (e.id() > lastId) {
          burned.add(e.id());
        }
      }
      skipBurned();
    } finally {
      telling.unlock();
    }
  }

  /** Under {@link #telling}: steps the last id told over burned ids that follow it. */
  private void skipBurned() {
    while (!burned.isEmpty() && burned.first() <= lastId + 1) {
      long id = burned.pollFirst();
      if (id == lastId + 1) {
        lastId = id;
      }
    }
  }

  /** Something may have committed that was not offered: read the table now. */
  void signal() {
    readBack = true;
    wake.release();
  }

  long lastDispatchedId() {
    return lastId;
  }

  private void loop() {
    long pollNanos = TimeUnit.MILLISECONDS.toNanos(pollMillis);
    long lastReadAt = System.nanoTime();
    while (running) {
      try {
        long now = System.nanoTime();
        long waitNanos = pollNanos - (now - lastReadAt);
        if (told) {
          waitNanos = Math.min(waitNanos, AFTER_BATCH_EVERY_NANOS - (now - afterBatchAt));
        }
        wake.tryAcquire(Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
        wake.drainPermits();
        if (!running) {
          break;
        }
        boolean poll = System.nanoTime() - lastReadAt >= pollNanos;
        if (dispatch(poll)) {
          lastReadAt = System.nanoTime();
        }
        long t = System.nanoTime();
        if ((told && t - afterBatchAt >= AFTER_BATCH_EVERY_NANOS) || poll) {
          told = false;
          afterBatchAt = t;
          afterBatch.run();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (RuntimeException e) {
        log.warn("alarm event dispatch failed; retrying after {} ms", pollMillis, e);
        readBack = true;
        try {
          Thread.sleep(Math.min(pollMillis, 1_000));
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
  }

  /**
   * What was offered, in order; then the table when there is a gap, when asked to, or when {@code
   * poll}. The table is read without holding {@link #telling}, so a hand-off in sequence is not
   * held up by the read: a read gives every event committed after the last id told as of its
   * snapshot (an id committed means every smaller one is decided), and only those above the last
   * id told by then are told.
   *
   * @return true when it read the table
   */
  private boolean dispatch(boolean poll) {
    long toldBefore = lastId;
    List<Handoff> handoffs = new ArrayList<>();
    synchronized (inbox) {
      handoffs.addAll(inbox);
      inbox.clear();
    }
    boolean read;
    telling.lock();
    try {
      for (Handoff h : handoffs) {
        for (AlarmEvent e : h.events()) {
          if (e.id() > lastId) {
            waiting.put(e.id(), e);
          }
        }
      }
      while (!waiting.isEmpty() && waiting.firstKey() == lastId + 1) {
        tell(waiting.pollFirstEntry().getValue());
      }
      waiting.headMap(lastId, true).clear();
      read = !waiting.isEmpty() || readBack || poll;
      readBack = false;
    } finally {
      telling.unlock();
    }
    if (read) {
      List<AlarmEvent> batch;
      long from = lastId;
      do {
        batch = fetchAfter.apply(from);
        telling.lock();
        try {
          for (AlarmEvent e : batch) {
            if (e.id() > lastId) {
              tell(e);
            }
          }
          from = lastId;
          waiting.headMap(lastId, true).clear();
        } finally {
          telling.unlock();
        }
      } while (!batch.isEmpty() && running);
      telling.lock();
      try {
        while (!waiting.isEmpty() && waiting.firstKey() == lastId + 1) {
          tell(waiting.pollFirstEntry().getValue());
        }
        if (!waiting.isEmpty()) {
          // offered after commit, yet not read back: cannot be; keep them and look again
          log.warn("{} alarm events offered but not read back after id {}; retrying", waiting.size(), lastId);
          readBack = true;
        }
      } finally {
        telling.unlock();
      }
    }
    if (lastId != toldBefore) {
      telling.lock();
      try {
        runAfterTold();
      } finally {
        telling.unlock();
      }
    }
    long now = System.nanoTime();
    for (Handoff h : handoffs) {
      if (h.events().get(h.events().size() - 1).id() <= lastId) {
        dispatchDelay.record(now - h.committedAtNanos(), TimeUnit.NANOSECONDS);
        if (h.decidedAtNanos() != 0) {
          path.record(now - h.decidedAtNanos(), TimeUnit.NANOSECONDS);
        }
      }
    }
    return read;
  }

  /** Under {@link #telling}, after a batch of {@link #tell}s. */
  private void runAfterTold() {
    for (Runnable r : afterTold) {
      try {
        r.run();
      } catch (RuntimeException ex) {
        log.warn("after-told listener failed", ex);
      }
    }
  }

  /** Under {@link #telling}. */
  private void tell(AlarmEvent e) {
    if (AlarmPathTrace.ON) {
      AlarmPathTrace.telling(e, System.nanoTime());
    }
    told = true;
    for (Consumer<AlarmEvent> l : listeners) {
      try {
        l.accept(e);
      } catch (RuntimeException ex) {
        log.warn("alarm event listener failed on event {}", e.id(), ex);
      }
    }
    lastId = e.id();
    skipBurned();
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
