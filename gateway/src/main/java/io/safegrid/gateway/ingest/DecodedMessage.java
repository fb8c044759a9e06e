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
 */
public record DecodedMessage(
    List<Reading> readings, List<DeviceEvent> events, List<String> rejections, String error) {

  public DecodedMessage {
    readings = List.copyOf(readings);
    events = List.copyOf(events);
    rejections = List.copyOf(rejections);
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
