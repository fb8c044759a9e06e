package io.safegrid.rules.engine;

import io.safegrid.model.Reading;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Storage's verdict on one message's readings, for the few the engine cannot judge alone: a
 * reading more than {@link RuleEngine#CLOCK_BEHIND_TOLERANCE_MILLIS} (5 min) behind the gateway
 * clock, older than its metric's newest and not among the last 32 it judged may be a QoS 1 resend
 * of a reading stored long ago (judging it again could reopen an alarm that has ended), or a
 * reading never seen (a backlog, a clock that went back: it must be judged). Only the store
 * knows: such a reading waits for this verdict; every other reading is judged at once, before
 * storage commits (the alarm never waits for a commit). The gateway's ingest provides it; the
 * rules module does no I/O.
 */
@FunctionalInterface
public interface StoredBefore {

  /**
   * Calls {@code then} once, on any thread, when storage has decided: with a test that is true
   * for a reading of the message that was already stored with the same device, metric, time and
   * value before this message (a resend), false for one it stored now, one it kept as a conflict
   * (another value), and whenever it cannot tell (database unreachable: spooled; failed): the
   * engine then judges the reading, erring towards telling.
   *
   * @param then what to run with the test
   */
  void whenKnown(Consumer<Predicate<Reading>> then);

  /** A verdict known at once: nothing was stored before. */
  StoredBefore NOTHING = then -> then.accept(r -> false);
}
