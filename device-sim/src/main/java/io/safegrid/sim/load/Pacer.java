package io.safegrid.sim.load;

import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Issues publishes at a constant target rate over a fixed set of devices, from one thread: a
 * tick (every {@code tickMicros}, default 1 ms) works out how many publishes are due since the
 * start ({@code rate x elapsed}, a token bucket with no drift) and issues them round-robin over
 * the devices (one each per turn, or up to a {@code burst}), skipping a device that is not
 * {@code ready} (disconnected, or at its in-flight limit) in favour of the next one. Thousands of
 * devices cost one scheduled task, not one each.
 *
 * <p>Skipped publishes are counted, never made up later beyond a short catch-up:
 *
 * <ul>
 *   <li>{@link #skippedBusy()}: due in a tick when a whole round of the devices found none ready
 *       (the far end does not acknowledge fast enough: back-pressure);
 *   <li>{@link #skippedLate()}: the ticks ran late (machine saturated, GC) by more than
 *       {@code maxCatchUpMillis} of publishes; the excess is dropped, so a stall never turns into
 *       a burst larger than that.
 * </ul>
 *
 * <p>Run it on the thread that owns the devices' connections (a Netty event loop), so that a
 * publish is a direct write. Not thread-safe: one thread ticks it.
 *
 * @param <T> a device
 */
public final class Pacer<T> implements Runnable {

  private final List<T> devices;
  private final Predicate<T> ready;
  private final Consumer<T> issue;
  private final double perNano;
  private final long maxCatchUp;
  private final int burst;
  private final LongSupplier nanoClock;
  private final AtomicLong issued = new AtomicLong();
  private final AtomicLong skippedBusy = new AtomicLong();
  private final AtomicLong skippedLate = new AtomicLong();
  private long startNanos;
  private long accounted;
  private int cursor;
  private volatile boolean stopped;
  private ScheduledFuture<?> task;
  private ScheduledExecutorService executor;

  /**
   * @param devices the devices this pacer drives (not empty)
   * @param ready whether a device can take a publish now
   * @param issue publishes one message on a device (must not block)
   * @param ratePerS publishes per second over all these devices, > 0
   * @param maxCatchUpMillis most publishes a late tick still issues, in ms of the rate (>= 1 publish)
   * @throws IllegalArgumentException on no devices or a rate <= 0
   */
  public Pacer(List<T> devices, Predicate<T> ready, Consumer<T> issue, double ratePerS, long maxCatchUpMillis) {
    this(devices, ready, issue, ratePerS, maxCatchUpMillis, 1);
  }

  /**
   * As above, with bursts: on its turn a device takes up to {@code burst} due publishes back to
   * back (while it stays ready), which the link writes in one system call.
   *
   * @param burst most publishes a device takes per turn, >= 1 (1: strictly one each)
   * @throws IllegalArgumentException on no devices, a rate <= 0 or a burst < 1
   */
  public Pacer(List<T> devices, Predicate<T> ready, Consumer<T> issue, double ratePerS, long maxCatchUpMillis,
      int burst) {
    this(devices, ready, issue, ratePerS, maxCatchUpMillis, burst, System::nanoTime);
  }

  /**
   * As above, on the clock {@code nanoClock} ({@link System#nanoTime()} in a run; a test's manual
   * clock, ticked by calling {@link #run()} after {@link #startAt()}, so that what is due is exact).
   */
  Pacer(List<T> devices, Predicate<T> ready, Consumer<T> issue, double ratePerS, long maxCatchUpMillis,
      int burst, LongSupplier nanoClock) {
    this.nanoClock = nanoClock;
    if (burst < 1) {
      throw new IllegalArgumentException("burst must be >= 1, was " + burst);
    }
    this.burst = burst;
    if (devices.isEmpty()) {
      throw new IllegalArgumentException("a pacer needs at least one device");
    }
    if (!(ratePerS > 0)) {
      throw new IllegalArgumentException("rate must be > 0, was " + ratePerS);
    }
    this.devices = List.copyOf(devices);
    this.ready = ready;
    this.issue = issue;
    this.perNano = ratePerS / 1e9;
    this.maxCatchUp = Math.max(1, (long) (ratePerS * maxCatchUpMillis / 1000.0));
  }

  /**
   * Starts ticking on {@code executor} every {@code tickMicros} µs, counting from now.
   *
   * @return this
   */
  public Pacer<T> start(ScheduledExecutorService executor, long tickMicros) {
    this.executor = executor;
    executor.execute(this::startAt);
    task = executor.scheduleAtFixedRate(this, tickMicros, tickMicros, TimeUnit.MICROSECONDS);
    return this;
  }

  /** Counts from now on the pacer's clock (on the thread that will tick it). */
  void startAt() {
    startNanos = nanoClock.getAsLong();
  }

  /** Stops issuing (the current tick finishes). */
  public void stop() {
    stopped = true;
    if (task != null) {
      task.cancel(false);
    }
  }

  /** Stops issuing and waits (up to 1 s) until a tick running now has finished. */
  public void stopAndWait() {
    stop();
    if (executor != null && !executor.isShutdown()) {
      try {
        executor.submit(() -> { }).get(1, TimeUnit.SECONDS);
      } catch (Exception e) {
        // shut down or stuck: the counts may move a little after this
      }
    }
  }

  /** One tick: issues what is due. */
  @Override
  public void run() {
    if (stopped) {
      return;
    }
    long due = (long) ((nanoClock.getAsLong() - startNanos) * perNano) - accounted;
    if (due <= 0) {
      return;
    }
    if (due > maxCatchUp) {
      skippedLate.addAndGet(due - maxCatchUp);
      accounted += due - maxCatchUp;
      due = maxCatchUp;
    }
    int n = devices.size();
    long done = 0;
    int misses = 0;
    while (done < due && misses < n) {
      T device = devices.get(cursor);
      cursor = cursor + 1 == n ? 0 : cursor + 1;
      if (ready.test(device)) {
        int k = 0;
        do {
          issue.accept(device);
          done++;
          k++;
        } while (k < burst && done < due && ready.test(device));
        misses = 0;
      } else {
        misses++;
      }
    }
    accounted += due;
    issued.addAndGet(done);
    if (done < due) {
      skippedBusy.addAndGet(due - done);
    }
  }

  /** Publishes issued so far. */
  public long issued() {
    return issued.get();
  }

  /** Due publishes no device was ready for (back-pressure). */
  public long skippedBusy() {
    return skippedBusy.get();
  }

  /** Due publishes dropped because the ticks ran late by more than the catch-up allowance. */
  public long skippedLate() {
    return skippedLate.get();
  }
}
