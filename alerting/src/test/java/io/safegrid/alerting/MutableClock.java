package io.safegrid.alerting;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;

/** A test clock that only moves when told: {@link #advance(Duration)}. Thread-safe. */
public final class MutableClock implements InstantSource {
  private final AtomicReference<Instant> now;

  public MutableClock(Instant start) {
    this.now = new AtomicReference<>(start);
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  /** Moves the clock forward by {@code d}; returns the new time. */
  public Instant advance(Duration d) {
    return now.updateAndGet(i -> i.plus(d));
  }

  /** Sets the clock. */
  public void set(Instant i) {
    now.set(i);
  }
}
