package io.safegrid.dashboard.live;

import io.safegrid.alerting.trace.AlarmPathTrace;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.LongConsumer;

/**
 * One connected {@code /api/live} client: a bounded queue in front of its HTTP response.
 *
 * <p>Producers (ledger listener, ingestion) only {@link #offer} into the queue and schedule a drain
 * on the client's event loop; the drain writes while Netty's write queue has room and resumes on
 * its drain handler. When the queue holds {@code capacity} unwritten events the client is dropped:
 * it gets {@code event: dropped} with the reason and the connection is closed. The browser's
 * EventSource reconnects with {@code Last-Event-ID} and the replay fills the gap.
 *
 * <p>While {@link #replaying}, events queue up but are not written; {@link #finishReplay} writes
 * the replay, then drains the queue skipping alarm events whose id is at most the last one written:
 * no gap and no duplicate at the seam.
 */
final class SseClient implements LiveSubscriber {
  private final HttpServerResponse response;
  private final Context context;
  private final Set<String> readingDevices;
  private final int capacity;
  private final BiConsumer<SseClient, String> onDrop;
  private final LongConsumer alarmWriteDelayNanos;
  private final ArrayDeque<LiveEvent> queue = new ArrayDeque<>();
  /** Most events written as one buffer by {@link #drain}. */
  private static final int MAX_BATCH = 64;
  /** {@link #drain}'s batch; only touched on the client's context. */
  private final LiveEvent[] batch = new LiveEvent[MAX_BATCH];
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final AtomicBoolean overflowed = new AtomicBoolean();
  private volatile boolean replaying;
  private volatile boolean closed;
  /** Only touched on the client's context. */
  private long lastAlarmIdWritten;

  SseClient(
      HttpServerResponse response,
      Context context,
      Set<String> readingDevices,
      int capacity,
      long lastAlarmIdWritten,
      boolean replaying,
      BiConsumer<SseClient, String> onDrop,
      LongConsumer alarmWriteDelayNanos) {
    this.response = response;
    this.context = context;
    this.readingDevices = Set.copyOf(readingDevices);
    this.capacity = capacity;
    this.lastAlarmIdWritten = lastAlarmIdWritten;
    this.replaying = replaying;
    this.onDrop = onDrop;
    this.alarmWriteDelayNanos = alarmWriteDelayNanos;
  }

  @Override
  public void offer(LiveEvent event) {
    if (closed || overflowed.get()) {
      return;
    }
    boolean overflow;
    synchronized (queue) {
      overflow = queue.size() >= capacity;
      if (!overflow) {
        queue.add(event);
      }
    }
    if (overflow) {
      if (overflowed.compareAndSet(false, true)) {
        context.runOnContext(v -> drop("slow_client"));
      }
      return;
    }
    if (!replaying && drainScheduled.compareAndSet(false, true)) {
      context.runOnContext(v -> drain());
    }
  }

  @Override
  public boolean wantsReadingsOf(String deviceId) {
    return readingDevices.contains(deviceId);
  }

  @Override
  public boolean wantsReadings() {
    return !readingDevices.isEmpty();
  }

  /** Writes a frame now (on the client's context), bypassing the queue: greetings, replay. */
  void writeNow(LiveEvent e) {
    if (closed) {
      return;
    }
    response.write(e.frame());
    if (e.isAlarm()) {
      lastAlarmIdWritten = Math.max(lastAlarmIdWritten, e.alarmEventId());
    }
  }

  /**
   * On the client's context, before {@link #finishReplay}: live alarm events with an id above
   * {@code newestId} are written, whatever Last-Event-ID the client came with (after {@code event:
   * reset} for an id another ledger gave out).
   */
  void resumeAfter(long newestId) {
    lastAlarmIdWritten = newestId;
  }

  /** On the client's context: writes the replay, then goes live. */
  void finishReplay(List<LiveEvent> replay) {
    for (LiveEvent e : replay) {
      writeNow(e);
    }
    replaying = false;
    drainScheduled.set(true);
    drain();
  }

  /**
   * Writes what is queued while Netty's write queue has room. The events queued at one go (up to
   * {@value #MAX_BATCH} of them: a raise's events and its notification, a storm) are written as
   * one buffer: one HTTP chunk, one flush and one socket write instead of one each.
   */
  private void drain() {
    drainScheduled.set(false);
    if (closed || replaying) {
      return;
    }
    while (!response.writeQueueFull()) {
      int n = 0;
      synchronized (queue) {
        for (LiveEvent e; n < MAX_BATCH && (e = queue.poll()) != null; ) {
          batch[n++] = e;
        }
      }
      if (n == 0) {
        return;
      }
      Buffer out = null;
      int alarms = 0;
      for (int i = 0; i < n; i++) {
        LiveEvent e = batch[i];
        if (e.isAlarm() && e.alarmEventId() <= lastAlarmIdWritten) {
          batch[i] = null;
          continue; // already sent by the replay
        }
        if (out == null) {
          out = Buffer.buffer(n == 1 ? e.frame().length() + 16 : 1024);
        }
        out.appendString(e.frame());
        if (e.isAlarm()) {
          lastAlarmIdWritten = Math.max(lastAlarmIdWritten, e.alarmEventId());
          alarms++;
        }
      }
      long writing = AlarmPathTrace.ON ? System.nanoTime() : 0;
      if (out != null) {
        response.write(out);
      }
      long now = System.nanoTime();
      for (int i = 0; i < n; i++) {
        LiveEvent e = batch[i];
        if (alarms > 0 && e != null && e.isAlarm()) {
          alarmWriteDelayNanos.accept(now - e.createdAtNanos());
          if (AlarmPathTrace.ON) { // before the write: the reader it wakes may preempt this thread
            AlarmPathTrace.frameWritten(e.alarmEventId(), e.createdAtNanos(), writing);
          }
        }
        batch[i] = null;
      }
    }
    response.drainHandler(
        v -> {
          if (drainScheduled.compareAndSet(false, true)) {
            drain();
          }
        });
  }

  /** On the client's context: tells the client why, closes the connection. */
  void drop(String reason) {
    if (closed) {
      return;
    }
    closed = true;
    synchronized (queue) {
      queue.clear();
    }
    onDrop.accept(this, reason);
    try {
      response.write(
          "event: dropped\ndata: {\"reason\":\"" + reason + "\"}\n\n");
      response.end();
    } catch (IllegalStateException alreadyClosed) {
      // the connection is gone already
    }
    // a stuck peer may never take the last bytes: do not wait for it
    context.owner().setTimer(2_000, t -> response.reset());
  }

  /** The peer went away. */
  void markClosed() {
    closed = true;
    synchronized (queue) {
      queue.clear();
    }
  }

  boolean closed() {
    return closed;
  }

  void runOnContext(Runnable r) {
    context.runOnContext(v -> r.run());
  }
}
