package io.safegrid.gateway.storage;

import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * What one caller submitted, with the future it waits on. Exactly one of readings, event and
 * deadLetter is set.
 */
final class Submission {
  final List<Reading> readings;
  final DeviceEvent event;
  final DeadLetter deadLetter;
  final CompletableFuture<Void> future = new CompletableFuture<>();
  final long enqueuedNanos = System.nanoTime();
  /** Whether the caller wants to know which readings were stored before ({@link #storedBefore}). */
  final boolean reporting;
  /**
   * The readings already stored with the same value before this submission, set by the writer
   * before {@link #future} completes; null when unknown (spooled) or not reporting.
   */
  Set<Reading> storedBefore;

  private Submission(List<Reading> readings, DeviceEvent event, DeadLetter deadLetter,
      boolean reporting) {
    this.readings = readings;
    this.event = event;
    this.deadLetter = deadLetter;
    this.reporting = reporting;
  }

  private Submission(List<Reading> readings, DeviceEvent event, DeadLetter deadLetter) {
    this(readings, event, deadLetter, false);
  }

  static Submission ofReadings(List<Reading> readings) {
    return new Submission(readings, null, null);
  }

  /** Readings whose caller wants {@link #storedBefore}. */
  static Submission ofReadingsReporting(List<Reading> readings) {
    return new Submission(readings, null, null, true);
  }

  static Submission ofEvent(DeviceEvent event) {
    return new Submission(List.of(), event, null);
  }

  static Submission ofDeadLetter(DeadLetter deadLetter) {
    return new Submission(List.of(), null, deadLetter);
  }

  /** Rows this takes in the queue bound: readings, or 1 for an event or a dead letter. */
  int rows() {
    return readings.isEmpty() ? 1 : readings.size();
  }
}
