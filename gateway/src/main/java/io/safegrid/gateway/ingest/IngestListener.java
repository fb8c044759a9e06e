package io.safegrid.gateway.ingest;

import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import java.util.List;

/**
 * Told of every decoded reading and event before storage commits them: the alarm path (rule
 * engine) and the live page hang here, so a gas leak never waits for a database round trip.
 * Implementations must not block: hand off to their own threads.
 */
public interface IngestListener {

  /** Readings of one message, in payload order. */
  default void onReadings(List<Reading> readings) {}

  /** Events of one message, in payload order. */
  default void onEvents(List<DeviceEvent> events) {}

  /** A listener that does nothing. */
  IngestListener NONE = new IngestListener() {};
}
