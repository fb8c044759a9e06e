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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * The thread-safe rule engine the gateway uses: N shards, each one {@link RuleEngine} on its own
 * single thread; a device always goes to the same shard ({@code hash(deviceId) mod N}), so each
 * device has exactly one writer and duplicated or concurrent messages never make two alarms.
 * The combination detector is shared (it locks; it only sees transitions).
 *
 * <p>All calls return at once; the work runs on the shard. Transitions and flags are delivered
 * on shard threads, so the sinks must be thread-safe. Messages of one device are evaluated in the
 * order the calls were made (event time still decides which is the newest state).
 *
 * <p>Timer drive: one scheduled task calls {@link #advanceTo(long)} with the clock, e.g. every
 * 250 ms, or sleeps until {@link #nextDeadline()}. Inactivity and debounce deadlines are kept in
 * per-shard priority queues; nothing scans all devices.
 */
public final class ShardedRuleEngine implements AutoCloseable {

  private final RuleEngine[] engines;
  private final ExecutorService[] threads;
  private final AtomicLongArray nextDeadlines; // slot i written by shard i only
  private final AtomicLong errors = new AtomicLong();
  private final AtomicReference<RuntimeException> lastError = new AtomicReference<>();
  private final CombinationDetector combinations;

  /**
   * @param book the rules
   * @param directory device profiles; called from shard threads
   * @param clock now, epoch ms; called from shard threads
   * @param shards number of shards (threads), >= 1; e.g. the number of cores
   * @param sink thread-safe transition sink
   * @param flags thread-safe flag sink
   */
  public ShardedRuleEngine(RuleBook book, DeviceDirectory directory, LongSupplier clock,
      int shards, TransitionSink sink, FlagSink flags) {
    if (shards < 1) {
      throw new IllegalArgumentException("shards must be >= 1: " + shards);
    }
    this.combinations =
        new CombinationDetector(book.combinations(), RuleEngine.placesOf(directory), sink);
    this.engines = new RuleEngine[shards];
    this.threads = new ExecutorService[shards];
    this.nextDeadlines = new AtomicLongArray(shards);
    for (int i = 0; i < shards; i++) {
      engines[i] = new RuleEngine(book, directory, clock, sink, flags, combinations);
      nextDeadlines.set(i, Long.MAX_VALUE);
      String name = "safegrid-rules-" + i;
      threads[i] = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
      });
    }
  }

  /** The shard of a device. */
  public int shardOf(String deviceId) {
    return Math.floorMod(deviceId.hashCode() * 0x9E3779B9, engines.length);
  }

  /** Evaluates a reading on its device's shard (returns at once). */
  public void onReading(Reading r) {
    int i = shardOf(r.deviceId());
    run(i, () -> engines[i].onReading(r));
  }

  /** Evaluates readings, each on its device's shard, in the order given per device. */
  public void onReadings(List<Reading> readings) {
    if (readings.size() == 1) {
      onReading(readings.get(0));
      return;
    }
    Map<Integer, List<Reading>> byShard = new HashMap<>();
    for (Reading r : readings) {
      byShard.computeIfAbsent(shardOf(r.deviceId()), k -> new ArrayList<>()).add(r);
    }
    byShard.forEach((i, list) -> run(i, () -> engines[i].onReadings(list)));
  }

  /** Evaluates a device event on its device's shard (returns at once). */
  public void onEvent(DeviceEvent e) {
    int i = shardOf(e.deviceId());
    run(i, () -> engines[i].onEvent(e));
  }

  /** Runs what is due at or before {@code nowMillis} on every shard (returns at once). */
  public void advanceTo(long nowMillis) {
    for (int i = 0; i < engines.length; i++) {
      int k = i;
      run(i, () -> engines[k].advanceTo(nowMillis));
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
    for (int i = 0; i < engines.length; i++) {
      alarms.add(new ArrayList<>());
      seen.add(new HashMap<>());
      readings.add(new ArrayList<>());
    }
    s.openAlarms().forEach(a -> alarms.get(shardOf(a.deviceId())).add(a));
    s.lastSeen().forEach((id, t) -> seen.get(shardOf(id)).put(id, t));
    s.recentReadings().forEach(r -> readings.get(shardOf(r.deviceId())).add(r));
    CompletableFuture<?>[] all = new CompletableFuture<?>[engines.length];
    for (int i = 0; i < engines.length; i++) {
      RestoreSnapshot part = new RestoreSnapshot(alarms.get(i), seen.get(i), readings.get(i));
      int k = i;
      all[i] = CompletableFuture.runAsync(() -> {
        engines[k].restore(part);
        publish(k);
      }, threads[i]);
    }
    return CompletableFuture.allOf(all);
  }

  /** Completes once every shard has finished all work submitted before this call. */
  public CompletableFuture<Void> flush() {
    CompletableFuture<?>[] all = new CompletableFuture<?>[engines.length];
    for (int i = 0; i < engines.length; i++) {
      all[i] = CompletableFuture.runAsync(() -> {}, threads[i]);
    }
    return CompletableFuture.allOf(all);
  }

  /** Counters summed over shards (waits up to 5 s for the shards to answer). */
  public EngineStats stats() {
    EngineStats sum = new EngineStats(0, 0, 0, 0, 0, 0, 0, errors.get());
    for (int i = 0; i < engines.length; i++) {
      int k = i;
      EngineStats s = CompletableFuture.supplyAsync(() -> engines[k].stats(), threads[i])
          .orTimeout(5, TimeUnit.SECONDS).join();
      sum = sum.plus(s);
    }
    return sum;
  }

  /** The last exception a shard task threw (the shard kept running), or null; for a log line. */
  public RuntimeException lastError() {
    return lastError.get();
  }

  /** Number of shards. */
  public int shards() {
    return engines.length;
  }

  /** Stops the shard threads after the work already submitted. */
  @Override
  public void close() {
    for (ExecutorService t : threads) {
      t.shutdown();
    }
    for (ExecutorService t : threads) {
      try {
        t.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private void run(int i, Runnable task) {
    threads[i].execute(() -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        errors.incrementAndGet();
        lastError.set(e);
      }
      publish(i);
    });
  }

  private void publish(int i) {
    long d = engines[i].nextDeadline();
    if (nextDeadlines.get(i) != d) {
      nextDeadlines.set(i, d);
    }
  }
}
