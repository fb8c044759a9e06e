package io.safegrid.gateway.ingest;

import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import io.safegrid.rules.engine.StoredBefore;
import java.util.List;

/**
 * Told of every decoded reading and event before storage commits them: the alarm path (rule
 * engine) and the live page hang here, so a gas leak never waits for a database round trip.
 * Implementations must not block: hand off to their own threads.
 */
public interface IngestListener {

  /** Readings of one message, in payload order. */
  default void onReadings(List<Reading> readings) {}

  /**
   * Readings of one message with a reading more than 5 minutes behind its receive time, in
   * payload order, and storage's verdict on them, known once the store has written them: which
   * were stored before with the same value (resends). The rule engine makes only its readings
   * that need the verdict wait for it ({@code RuleEngine.onReadings(List, StoredBefore)}). The
   * default ignores the verdict.
   */
  default void onReadings(List<Reading> readings, StoredBefore storedBefore) {
    onReadings(readings);
  }

  /** Events of one message, in payload order. */
  default void onEvents(List<DeviceEvent> events) {}

  /** A listener that does nothing. */
  IngestListener NONE = new IngestListener() {};
}
