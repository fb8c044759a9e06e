package io.safegrid.alerting.unconfirmed;

import io.safegrid.model.AlarmTransition;
import java.util.Objects;

/**
 * A hazard rule transition (a raise or a severity change of a gas, fire or water rule: {@link
 * io.safegrid.alerting.routing.AlarmClass#HAZARD}) that the alarm ledger has not committed after
 * waiting in the gateway's alarm writer longer than its hold time (about 2 s) because the ledger
 * could not be reached (docs/alerting.md "Database outage"). It is not in {@code alarms}: it has
 * no alarm id, no acknowledgement and no escalation until the ledger takes it.
 *
 * <p>The same record carries an annunciation ({@link AnnunciationListener}): the transition handed
 * over at the rule engine's decision, before the ledger; then {@code handedAtMillis} equals {@code
 * decidedAtMillis} and the id is the one a later unconfirmed hand-off of it carries.
 *
 * @param id unique within the gateway process (the writer's sequence number of the transition);
 *     the same id comes again when it settles ({@link UnconfirmedListener#settled})
 * @param transition what the rule engine decided (device, rule, severity, message, evidence and
 *     the transition's time, epoch milliseconds)
 * @param decidedAtMillis when the rule engine decided it, epoch milliseconds (gateway clock)
 * @param handedAtMillis when the writer handed it over as unconfirmed, epoch milliseconds
 */
public record UnconfirmedAlarm(long id, AlarmTransition transition, long decidedAtMillis, long handedAtMillis) {
  public UnconfirmedAlarm {
    Objects.requireNonNull(transition, "transition");
  }

  /** How long it had waited for the ledger when it was handed over, ms. */
  public long waitedMillis() {
    return Math.max(0, handedAtMillis - decidedAtMillis);
  }
}
