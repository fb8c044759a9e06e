package io.safegrid.gateway.ingest;

import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import java.util.List;

/**
 * What {@link PayloadDecoder} made of one payload.
 *
 * @param readings the readings that decoded (telemetry), in payload order
 * @param events the events that decoded (events payloads)
 * @param rejections one human line per field or record left out, e.g. {@code "record 0:
 *     gas_lel: NaN is not a finite number"}
 * @param error when nothing could be decoded at all (not JSON, wrong shape), the reason; else null
 * @param seq the message's {@code seq}: that of its first record that carried one and was used,
 *     or {@link Reading#NO_SEQ}; with the payload it tells a resend ({@link RecentSeqs})
 * @param stamps how many records without {@code ts} got a receive stamp (the first gets the
 *     stamp the decoder was given, the next 1 ms later, ...; {@link ReceiveTimes#claim})
 */
public record DecodedMessage(
    List<Reading> readings, List<DeviceEvent> events, List<String> rejections, String error,
    long seq, int stamps) {

  public DecodedMessage {
    readings = List.copyOf(readings);
    events = List.copyOf(events);
    rejections = List.copyOf(rejections);
  }

  /** A message without {@code seq} whose records carry their own times (no receive stamp used). */
  public DecodedMessage(
      List<Reading> readings, List<DeviceEvent> events, List<String> rejections, String error) {
    this(readings, events, rejections, error, Reading.NO_SEQ, 0);
  }

  /** A payload of which nothing could be used. */
  public static DecodedMessage invalid(String reason) {
    return new DecodedMessage(List.of(), List.of(), List.of(), reason);
  }

  /** True when nothing could be decoded: the message belongs in {@code dead_letters}. */
  public boolean invalid() {
    return error != null;
  }

  /** Number of readings plus events decoded. */
  public int size() {
    return readings.size() + events.size();
  }
}
