package io.safegrid.alerting.ledger;

/**
 * Called inside the ledger's transaction after an alarm changed, before commit: escalation uses it
 * to write its deadlines and outbox rows atomically with the change (so a notification is queued
 * if and only if the change commits).
 */
@FunctionalInterface
public interface LedgerHook {

  /**
   * @param tx the open transaction (same connection as the change)
   * @param type the event type just recorded: {@code raised}, {@code repeated}, {@code reopened},
   *     {@code severity_changed}, {@code acknowledged}, {@code cleared}, {@code closed}
   * @param before the alarm before the change, or null when it was just created
   * @param after the alarm after the change
   */
  void onChange(LedgerTx tx, String type, Alarm before, Alarm after);
}
