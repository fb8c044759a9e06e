package io.safegrid.gateway.mqtt;

import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings store completions back to one Netty event loop in bursts: one task per burst instead of
 * one task (and one selector wake-up) per message, and one flush per connection per burst instead
 * of one per PUBACK.
 *
 * <p>The storage writer completes the futures of a whole committed batch (hundreds of messages of
 * many connections) on its completion thread. Each completion is queued here ({@link #complete},
 * any thread); the first one of a burst schedules a drain on the event loop, which runs every
 * queued completion (each writes its PUBACKs without flushing, see {@link
 * PublishHandler#completed}) and then flushes every connection that wrote ({@link
 * #flushLater}). A PUBACK therefore still leaves only after its message's store completed, and
 * from the connection's own event loop.
 *
 * <p>One instance per event loop (shared by all the loop's connections); {@link #complete} is
 * thread-safe, {@link #flushLater} is called on the loop only.
 */
final class LoopCompletions {

  /** One message's store outcome, to be handled on the event loop. */
  interface Completion {
    /** Runs on the event loop; may write, must not flush (see {@link #flushLater}). */
    void run();
  }

  /** Something to flush once the burst has been handled. */
  interface Flushable {
    void flushNow();
  }

  private static final Logger log = LoggerFactory.getLogger(LoopCompletions.class);

  private final EventExecutor loop;
  private final Queue<Completion> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final List<Flushable> toFlush = new ArrayList<>();
  private final Runnable drain = this::drain;
  private boolean draining;

  LoopCompletions(EventExecutor loop) {
    this.loop = loop;
  }

  /** Queues {@code c} to run on the event loop; thread-safe. */
  void complete(Completion c) {
    queue.add(c);
    if (scheduled.compareAndSet(false, true)) {
      loop.execute(drain);
    }
  }

  /**
   * Asks for {@code f} to be flushed at the end of the current burst; when called outside a
   * drain (e.g. from a read), flushes at once. The caller asks at most once per burst (it keeps
   * its own flag, cleared in {@link Flushable#flushNow}). Event loop only.
   */
  void flushLater(Flushable f) {
    if (!draining) {
      f.flushNow();
      return;
    }
    toFlush.add(f);
  }

  private void drain() {
    scheduled.set(false);
    draining = true;
    try {
      Completion c;
      while ((c = queue.poll()) != null) {
        try {
          c.run();
        } catch (RuntimeException e) {
          // one connection's bug must not strand the other completions of the burst
          log.error("MQTT store completion failed", e);
        }
      }
    } finally {
      draining = false;
      for (int i = 0; i < toFlush.size(); i++) {
        toFlush.get(i).flushNow();
      }
      toFlush.clear();
    }
  }
}
