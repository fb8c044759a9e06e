package io.safegrid.alerting.unconfirmed;

/**
 * Told about a hazard transition at the moment the rule engine decides it, before the alarm ledger
 * records it: annunciation first, the record after (EN 54-2's indication, ISA-18.2's
 * "annunciation"; docs/alerting.md "Annunciation before the ledger"). The gateway's alarm writer
 * calls it for a raise (a re-open included) or a severity change of a hazard rule ({@link
 * io.safegrid.alerting.routing.AlarmClass#HAZARD}: gas, fire, water, their combinations), the same
 * transitions it would hand over as {@link UnconfirmedAlarm}s after 2 s of a stalled ledger; never
 * for a clear or a maintenance alarm (device offline, low battery, faults).
 *
 * <p>An annunciation is not a ledger state: it has no alarm id, no acknowledgement, no escalation.
 * It lives in memory only until it settles (the ledger committed the transition, or the writer gave
 * it up); after a restart the ledger is the record.
 *
 * <p>Threads: {@link #annunciated} runs on the thread that runs the rule engine's shard (a Netty or
 * Californium event loop: the MQTT/CoAP loop), {@link #annunciationSettled} on the alarm writer's
 * thread. Implementations must not block, take no lock across a fan-out to clients, and do as
 * little as they can: every hazard raise pays it on the publish-to-alarm path.
 */
public interface AnnunciationListener {

  /**
   * The rule engine decided a hazard raise or severity change; the ledger has not seen it yet.
   *
   * @param alarm the transition; its {@link UnconfirmedAlarm#id()} is the writer's sequence number,
   *     the same id a later {@link UnconfirmedListener#unconfirmed} and the settle of it carry;
   *     {@code decidedAtMillis} and {@code handedAtMillis} are both the decision's time, epoch ms
   */
  void annunciated(UnconfirmedAlarm alarm);

  /**
   * An annunciated transition is settled: it is no longer waiting for the ledger.
   *
   * @param alarm the same object {@link #annunciated} was given
   * @param committed true when the ledger committed it (its {@code event: alarm} frames, if the
   *     change made any, are already out), false when the writer gave it up (the ledger refused it
   *     for good; logged and counted in {@code safegrid.alarms.writer.failed})
   */
  void annunciationSettled(UnconfirmedAlarm alarm, boolean committed);
}
