package io.safegrid.gateway.storage;

import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import java.util.ArrayList;
import java.util.List;

/** What one database transaction writes: readings, device events and dead letters. */
final class Batch {
  final List<Reading> readings = new ArrayList<>();
  final List<DeviceEvent> events = new ArrayList<>();
  final List<DeadLetter> deadLetters = new ArrayList<>();
  /** Whether a submission wants to know which readings were stored before (the writer looks). */
  boolean reporting;
  /** The readings of the submissions that asked: the only ones the writer looks up (review7 R4). */
  final List<Reading> reportingReadings = new ArrayList<>();

  void add(Submission s) {
    readings.addAll(s.readings);
    reporting |= s.reporting;
    if (s.reporting) reportingReadings.addAll(s.readings);
    if (s.event != null) events.add(s.event);
    if (s.deadLetter != null) deadLetters.add(s.deadLetter);
  }

  void addAll(Batch other) {
    readings.addAll(other.readings);
    events.addAll(other.events);
    deadLetters.addAll(other.deadLetters);
    reporting |= other.reporting;
    reportingReadings.addAll(other.reportingReadings);
  }

  int size() {
    return readings.size() + events.size() + deadLetters.size();
  }

  boolean isEmpty() {
    return size() == 0;
  }
}
