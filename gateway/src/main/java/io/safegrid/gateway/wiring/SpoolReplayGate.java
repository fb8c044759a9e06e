package io.safegrid.gateway.wiring;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reading store's replay gate ({@code TimescaleReadingStore}'s {@code replayGate}): the spool
 * is replayed into the database only once the {@link AlarmWriter} has applied every rule
 * transition accepted so far (review7 R2).
 *
 * <p>Why: the rule engine judged the spooled readings and events on arrival; the alarms they
 * raised wait in the alarm writer, which retries the unreachable ledger with back-off (up to 10 s
 * between attempts), while the store's probe finds the database back within 0.5 s. Replayed
 * first, a row would be stored while its alarm is not: a crash in between (kill -9, OOM, power)
 * loses the alarm, because the next start judges only the spooled rows the database does not hold
 * ({@code LeftoverSpool}). Held back here, a stored row's alarm is in the ledger already.
 *
 * <p>Bounded: a writer that has not caught up for {@code maxHold} (a transition the ledger keeps
 * refusing, a storm of thousands) no longer holds the replay until it has (logged once): the spool must
 * not fill while the database answers. Cheap (two volatile reads a call), never blocks; called on
 * the store's writer threads before each replay batch.
 */
final class SpoolReplayGate implements BooleanSupplier {

  private static final Logger log = LoggerFactory.getLogger(SpoolReplayGate.class);
  private static final long OPEN = Long.MIN_VALUE;

  private final AlarmWriter writer;
  private final long maxHoldNanos;
  /** When the current hold began (System.nanoTime()), or {@link #OPEN}. */
  private final AtomicLong heldSince = new AtomicLong(OPEN);
  private final AtomicBoolean warned = new AtomicBoolean();

  /**
   * @param writer the alarm writer the rule engine hands its transitions to
   * @param maxHold longest the replay is held for one catch-up (the gateway: 30 s)
   */
  SpoolReplayGate(AlarmWriter writer, Duration maxHold) {
    this.writer = writer;
    this.maxHoldNanos = maxHold.toNanos();
  }

  /** True when the spool may be replayed now. */
  @Override
  public boolean getAsBoolean() {
    if (writer.caughtUp()) {
      if (heldSince.get() != OPEN) {
        heldSince.set(OPEN);
        warned.set(false);
      }
      return true;
    }
    long now = System.nanoTime();
    long since = heldSince.get();
    if (since == OPEN) {
      heldSince.compareAndSet(OPEN, now);
      return false;
    }
    if (now - since < maxHoldNanos) {
      return false;
    }
    if (warned.compareAndSet(false, true)) { // once a hold; open until the writer catches up
      log.warn("spool replay held {} s for the alarm writer, which has not applied every alarm"
          + " decided yet: replaying anyway (a crash before it does may lose those alarms)",
          maxHoldNanos / 1_000_000_000L);
    }
    return true;
  }
}
