package io.safegrid.alerting.routing;

import java.util.List;

/**
 * Where an alarm's notifications go.
 *
 * @param kind what the alarm is about
 * @param place human place text of the device ("" when unknown)
 * @param chain grid recipients, lowest level first; escalation climbs it
 * @param startIndex index in {@code chain} where notification starts (decided by severity)
 * @param responders notified at once besides the grid (by kind; hazard alarms only, empty for a
 *     maintenance alarm: {@link AlarmClass})
 * @param reportUpward copied at once when the alarm is critical (empty otherwise)
 */
public record Route(
    AlarmKind kind,
    String place,
    List<RecipientGroup> chain,
    int startIndex,
    List<RecipientGroup> responders,
    List<RecipientGroup> reportUpward) {

  /** Index of the top of the chain. */
  public int topIndex() {
    return chain.size() - 1;
  }
}
