package io.safegrid.dashboard;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The system clock moved forward by what the test tells it ({@link #advance(Duration)}): the
 * ledger's and escalation's clock in browser tests, so a deadline can pass at once while the
 * page's own clock (the browser's) still shows real times close to it.
 */
final class ShiftedClock implements InstantSource {
  private final AtomicReference<Duration> shift = new AtomicReference<>(Duration.ZERO);

  @Override
  public Instant instant() {
    return Instant.now().plus(shift.get());
  }

  /** Moves this clock forward by {@code d}. */
  void advance(Duration d) {
    shift.updateAndGet(s -> s.plus(d));
  }
}
