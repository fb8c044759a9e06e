package io.safegrid.rules.engine;

import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import io.safegrid.rules.TransitionSink;
import io.safegrid.rules.combination.CombinationDetector;
import io.safegrid.rules.config.DeviceDirectory;
import io.safegrid.rules.config.RuleBook;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The thread-safe rule engine the gateway uses: N shards, each one {@link RuleEngine} run by one
 * thread at a time; a device always goes to the same shard ({@code hash(deviceId) mod N}), so each
 * device has exactly one writer and duplicated or concurrent messages never make two alarms.
 * The combination detector is shared (it locks; it only sees transitions).
 *
 * <p><b>Hand-off: the caller runs the shard when it is free.</b> Each shard has a FIFO queue and a
 * turn (a lock only ever {@code tryLock}ed). A call queues its task, then, if nobody has the turn,
 * takes it and runs what is queued on the calling thread (at most {@value #INLINE_BUDGET} tasks per
 * call); if another thread has the turn, the call returns at once and that thread runs the task
 * (it looks at the queue again after giving the turn back, so nothing is stranded). So a reading
 * evaluated on an idle shard costs no thread hop and no wake-up (under load a hop costs 0.3-1 ms
 * and it was the largest source of futex calls, docs/performance.md). Work that can be long
 * ({@link #advanceTo} with an inactivity storm, {@link #restore}, messages of more than {@value
 * #INLINE_MAX_READINGS} readings) and anything behind it in the queue run on the shard's own
 * thread {@code safegrid-rules-N}, as does what is left when a caller's budget runs out. A caller
 * never waits: it only ever tries for the turn, so a Netty event loop can call it.
 *
 * <p>Transitions and flags are delivered on whichever thread runs the shard (a transport's thread
 * or the shard thread), one shard at a time, so the sinks must be thread-safe and quick (they run
 * on Netty event loops). Messages of one device are evaluated in the order the calls were made
 * (one queue per shard, run in order under the turn; event time still decides which is the newest
 * state).
 *
 * <p>Timer drive: one scheduled task calls {@link #advanceTo(long)} with the clock, e.g. every
 * 250 ms, or sleeps until {@link #nextDeadline()}. Inactivity and debounce deadlines are kept in
 * per-shard priority queues; nothing scans all devices.
 */
public final class ShardedRuleEngine implements AutoCloseable {

  /** Most tasks a caller runs on its own thread per call before handing the rest to the shard thread. */
  static final int INLINE_BUDGET = 32;
  /** A message with more readings than this (a device's cached backlog) runs on the shard thread. */
  static final int INLINE_MAX_READINGS = 64;

  private static final long PARK_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long CLOSING_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  /**
   * A queued piece of shard work; {@code handedAtNanos} 0 when not timed; {@code submitter} the
   * thread that handed it over (null when not timed).
   */
  private record Task(Runnable work, boolean mayRunInline, long handedAtNanos, Thread submitter) {}

  /** One shard: its engine, its queue, its turn and its thread. */
  private final class Shard {
    final int index;
    final RuleEngine engine;
    final ConcurrentLinkedQueue<Task> queue = new ConcurrentLinkedQueue<>();
    final ReentrantLock turn = new ReentrantLock();
    final Thread thread;

    Shard(int index, RuleEngine engine) {
      this.index = index;
      this.engine = engine;
      this.thread = new Thread(this::loop, "safegrid-rules-" + index);
      thread.setDaemon(true);
    }

    /** The shard thread: runs what callers left (long work, budget run out, turn busy). */
    private void loop() {
      while (true) {
        runQueued(this, Integer.MAX_VALUE, true);
        if (!running && queue.isEmpty()) {
          return;
        }
        // woken by unpark; the timeout only bounds a close racing a caller that holds the turn
        LockSupport.parkNanos(this, running ? PARK_NANOS : CLOSING_PARK_NANOS);
      }
    }
  }

  private final Shard[] shards;
  private final AtomicLongArray nextDeadlines; // slot i written by whoever runs shard i
  private final AtomicLong errors = new AtomicLong();
  private final AtomicReference<RuntimeException> lastError = new AtomicReference<>();
  private final CombinationDetector combinations;
  private volatile LongConsumer handOffObserver;
  private volatile boolean running = true;

  /**
   * @param book the rules
   * @param directory device profiles; called from the threads that run the shards
   * @param clock now, epoch ms; called from the threads that run the shards
   * @param shards number of shards, >= 1; e.g. the number of cores
   * @param sink thread-safe, quick transition sink (called on transport threads too)
   * @param flags thread-safe, quick flag sink
   */
  public ShardedRuleEngine(RuleBook book, DeviceDirectory directory, LongSupplier clock,
      int shards, TransitionSink sink, FlagSink flags) {
    if (shards < 1) {
      throw new IllegalArgumentException("shards must be >= 1: " + shards);
    }
    this.combinations =
        new CombinationDetector(book.combinations(), RuleEngine.placesOf(directory), sink);
    this.shards = new Shard[shards];
    this.nextDeadlines = new AtomicLongArray(shards);
    for (int i = 0; i < shards; i++) {
      Shard shard = new Shard(i, new RuleEngine(book, directory, clock, sink, flags, combinations));
      // a deferred reading's verdict comes on storage's thread: judged on the shard's thread
      shard.engine.reenterWith(task -> submit(shard, task, false, false));
      this.shards[i] = shard;
      nextDeadlines.set(i, Long.MAX_VALUE);
    }
    for (Shard s : this.shards) {
      s.thread.start();
    }
  }

  /**
   * Tells {@code waitNanos} how long each message (reading list or device event) that changed
   * threads waited between its hand-off ({@link #onReading}, {@link #onReadings}, {@link
   * #onEvent}) and the start of its evaluation, ns: a message run by another thread (the shard
   * thread, or the caller that held the shard's turn). A message its own caller evaluated (the
   * common case: a free shard) made no hop and is not told, so the count is the number of hops.
   * Called on the thread that runs the shard, so it must be quick and thread-safe (e.g. a
   * Micrometer timer). Set it before feeding messages; null for none.
   */
  public void observeHandOff(LongConsumer waitNanos) {
    this.handOffObserver = waitNanos;
  }

  /** The shard of a device. */
  public int shardOf(String deviceId) {
    return Math.floorMod(deviceId.hashCode() * 0x9E3779B9, shards.length);
  }

  /** Evaluates a reading on its device's shard (on this thread when the shard is free; never waits). */
  public void onReading(Reading r) {
    Shard s = shards[shardOf(r.deviceId())];
    submit(s, () -> s.engine.onReading(r), true, true);
  }

  /**
   * Evaluates readings, each on its device's shard, in the order given per device (on this thread
   * when a shard is free and the message is short; never waits).
   */
  public void onReadings(List<Reading> readings) {
    if (readings.size() == 1) {
      onReading(readings.get(0));
      return;
    }
    Map<Integer, List<Reading>> byShard = new HashMap<>();
    for (Reading r : readings) {
      byShard.computeIfAbsent(shardOf(r.deviceId()), k -> new ArrayList<>()).add(r);
    }
    byShard.forEach((i, list) -> {
      Shard s = shards[i];
      submit(s, () -> s.engine.onReadings(list), list.size() <= INLINE_MAX_READINGS, true);
    });
  }

  /**
   * As {@link #onReadings(List)}, with storage's verdict for the readings that need it (see {@link
   * RuleEngine#onReadings(List, StoredBefore)}): those are judged on the shard's thread once it
   * comes; the rest at once, as ever.
   *
   * @param storedBefore the verdict, or null to judge everything at once
   */
  public void onReadings(List<Reading> readings, StoredBefore storedBefore) {
    if (storedBefore == null) {
      onReadings(readings);
      return;
    }
    Map<Integer, List<Reading>> byShard = new HashMap<>();
    for (Reading r : readings) {
      byShard.computeIfAbsent(shardOf(r.deviceId()), k -> new ArrayList<>()).add(r);
    }
    byShard.forEach((i, list) -> {
      Shard s = shards[i];
      submit(s, () -> s.engine.onReadings(list, storedBefore), list.size() <= INLINE_MAX_READINGS,
          true);
    });
  }

  /** Evaluates a device event on its device's shard (on this thread when the shard is free; never waits). */
  public void onEvent(DeviceEvent e) {
    Shard s = shards[shardOf(e.deviceId())];
    submit(s, () -> s.engine.onEvent(e), true, true);
  }

  /**
   * Runs what is due at or before {@code nowMillis} on every shard (on the shard threads; returns
   * at once). A shard whose earliest deadline (as of its last finished task) is later is left
   * alone: no task, no wake-up, and the readings behind it keep running on their callers' threads
   * (a tick queued every 250 ms made the readings behind it wait for the shard thread's wake-up).
   * A deadline added by a message still being evaluated is at least its debounce later than the
   * message, so it is not due yet.
   */
  public void advanceTo(long nowMillis) {
    for (Shard s : shards) {
      if (nextDeadlines.get(s.index) > nowMillis) {
        continue; // nothing due: RuleEngine.advanceTo would do nothing
      }
      submit(s, () -> s.engine.advanceTo(nowMillis), false, false);
    }
  }

  /**
   * The earliest deadline over all shards as of their last finished task, epoch ms, or {@link
   * Long#MAX_VALUE}. May be early, never late (a new message may add an earlier debounce
   * deadline, so a gateway that sleeps until it should also wake at least every second).
   */
  public long nextDeadline() {
    long min = Long.MAX_VALUE;
    for (int i = 0; i < nextDeadlines.length(); i++) {
      min = Math.min(min, nextDeadlines.get(i));
    }
    return min;
  }

  /**
   * Rebuilds state after a restart (see {@link RuleEngine#restore}); each shard gets its
   * devices' part. Call before feeding any message.
   *
   * @return completes when every shard is done
   */
  public CompletableFuture<Void> restore(RestoreSnapshot s) {
    List<List<OpenAlarm>> alarms = new ArrayList<>();
    List<Map<String, Long>> seen = new ArrayList<>();
    List<List<Reading>> readings = new ArrayList<>();
    for (int i = 0; i < shards.length; i++) {
      alarms.add(new ArrayList<>());
      seen.add(new HashMap<>());
      readings.add(new ArrayList<>());
    }
    s.openAlarms().forEach(a -> alarms.get(shardOf(a.deviceId())).add(a));
    s.lastSeen().forEach((id, t) -> seen.get(shardOf(id)).put(id, t));
    s.recentReadings().forEach(r -> readings.get(shardOf(r.deviceId())).add(r));
    CompletableFuture<?>[] all = new CompletableFuture<?>[shards.length];
    for (int i = 0; i < shards.length; i++) {
      RestoreSnapshot part = new RestoreSnapshot(alarms.get(i), seen.get(i), readings.get(i));
      Shard shard = shards[i];
      CompletableFuture<Void> done = new CompletableFuture<>();
      all[i] = done;
      submit(shard, () -> {
        try {
          shard.engine.restore(part);
          done.complete(null);
        } catch (RuntimeException e) {
          done.completeExceptionally(e);
          throw e;
        }
      }, false, false);
    }
    return CompletableFuture.allOf(all);
  }

  /** Completes once every shard has finished all work submitted before this call. */
  public CompletableFuture<Void> flush() {
    CompletableFuture<?>[] all = new CompletableFuture<?>[shards.length];
    for (int i = 0; i < shards.length; i++) {
      CompletableFuture<Void> done = new CompletableFuture<>();
      all[i] = done;
      submit(shards[i], () -> done.complete(null), false, false);
    }
    return CompletableFuture.allOf(all);
  }

  /** Counters summed over shards (waits up to 5 s for the shards to answer). */
  public EngineStats stats() {
    EngineStats sum = new EngineStats(0, 0, 0, 0, 0, 0, 0, errors.get());
    for (Shard shard : shards) {
      CompletableFuture<EngineStats> s = new CompletableFuture<>();
      submit(shard, () -> s.complete(shard.engine.stats()), false, false);
      sum = sum.plus(s.orTimeout(5, TimeUnit.SECONDS).join());
    }
    return sum;
  }

  /** The last exception a shard task threw (the shard kept running), or null; for a log line. */
  public RuntimeException lastError() {
    return lastError.get();
  }

  /** Number of shards. */
  public int shards() {
    return shards.length;
  }

  /**
   * Stops taking work, lets the shard threads finish what was submitted before (waits up to 5 s
   * per shard), then stops them. Calls after this throw {@link RejectedExecutionException}.
   */
  @Override
  public void close() {
    running = false;
    for (Shard s : shards) {
      LockSupport.unpark(s.thread);
    }
    for (Shard s : shards) {
      try {
        s.thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private void submit(Shard s, Runnable work, boolean mayRunInline, boolean timed) {
    if (!running) {
      throw new RejectedExecutionException("rule engine closed");
    }
    boolean observed = timed && handOffObserver != null;
    s.queue.add(new Task(work, mayRunInline, observed ? System.nanoTime() : 0,
        observed ? Thread.currentThread() : null));
    if (mayRunInline) {
      runQueued(s, INLINE_BUDGET, false);
    } else {
      LockSupport.unpark(s.thread);
    }
  }

  /**
   * Runs queued tasks of {@code s} in order while this thread can take the turn. A caller (not
   * the shard thread) stops at a task that may not run inline, or after {@code budget} tasks, and
   * wakes the shard thread for the rest. After giving the turn back it looks again: a task queued
   * by a caller who found the turn taken is run by the turn's holder.
   */
  private void runQueued(Shard s, int budget, boolean shardThread) {
    while (true) {
      if (!s.turn.tryLock()) {
        return; // the holder looks at the queue again after it gives the turn back
      }
      boolean handOver = false;
      try {
        Task t;
        while ((t = s.queue.peek()) != null) {
          if (!shardThread && (!t.mayRunInline() || budget <= 0)) {
            handOver = true;
            break;
          }
          s.queue.poll();
          budget--;
          execute(s, t);
        }
      } catch (Error e) {
        LockSupport.unpark(s.thread); // the rest of the queue must not wait for the next caller
        throw e;
      } finally {
        s.turn.unlock();
      }
      if (handOver) {
        LockSupport.unpark(s.thread);
        return;
      }
      if (s.queue.isEmpty()) {
        return;
      }
    }
  }

  /** Under the shard's turn. */
  private void execute(Shard s, Task t) {
    LongConsumer observer = handOffObserver;
    // a task its own submitter runs made no hop (its wait is the turn's tryLock): not timed, so the
    // ~5,000 messages/s evaluated on the MQTT event loops do not each pay a percentile timer
    if (observer != null && t.handedAtNanos() != 0 && t.submitter() != Thread.currentThread()) {
      observer.accept(System.nanoTime() - t.handedAtNanos());
    }
    try {
      t.work().run();
    } catch (RuntimeException e) {
      errors.incrementAndGet();
      lastError.set(e);
    }
    long d = s.engine.nextDeadline();
    if (nextDeadlines.get(s.index) != d) {
      nextDeadlines.set(s.index, d);
    }
  }
}
