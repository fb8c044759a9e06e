package io.safegrid.rules.engine;

import io.safegrid.model.Reading;
import java.util.List;
import java.util.Map;

/**
 * What the gateway reads back at start to rebuild the engine's state.
 *
 * @param openAlarms alarms open in the ledger (not cleared, not closed)
 * @param lastSeen last message time per device id, epoch ms (e.g. max(time) of its readings);
 *     include every device the site knows so silent ones are watched too, with {@link
 *     Long#MIN_VALUE} for a device that never reported
 * @param recentReadings recent readings (e.g. the last hour, for rate windows and thresholds), any
 *     order
 */
public record RestoreSnapshot(List<OpenAlarm> openAlarms, Map<String, Long> lastSeen,
    List<Reading> recentReadings) {
  public RestoreSnapshot {
    openAlarms = openAlarms == null ? List.of() : List.copyOf(openAlarms);
    lastSeen = lastSeen == null ? Map.of() : Map.copyOf(lastSeen);
    recentReadings = recentReadings == null ? List.of() : List.copyOf(recentReadings);
  }
}
