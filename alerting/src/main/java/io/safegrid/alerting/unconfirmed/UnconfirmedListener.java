package io.safegrid.alerting.unconfirmed;

/**
 * Told about hazard transitions the alarm ledger has not committed in time ({@link
 * UnconfirmedAlarm}). Called on the gateway's own threads (the writer's watcher, the alarm writer):
 * implementations must not block (queue, hand to another thread).
 */
public interface UnconfirmedListener {

  /** The transition has waited for the ledger longer than the hold time; it is still waiting. */
  void unconfirmed(UnconfirmedAlarm alarm);

  /**
   * An {@link #unconfirmed} transition is no longer waiting.
   *
   * @param committed true when the ledger committed it (its {@code alarm_events} rows and live
   *     {@code event: alarm} frames follow, and the usual notifications), false when the writer
   *     gave it up (the ledger refused it for good; logged and counted in {@code
   *     safegrid.alarms.writer.failed})
   */
  void settled(UnconfirmedAlarm alarm, boolean committed);
}
