package io.safegrid.alerting.ledger;

import io.safegrid.model.AlarmTransition;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The alarm ledger as the rest of SafeGrid sees it: rule transitions in, officers' actions in,
 * ledger entries and their history out. Implementations persist every change as an {@code
 * alarm_events} row in the same transaction as the {@code alarms} row, and then tell listeners.
 *
 * <p>Thread-safe. One open alarm per (device, rule), also under concurrent calls.
 */
public interface AlarmService {

  /**
   * Applies a rule engine transition: a raise registers (or re-opens / repeats) the entry, a
   * severity change updates it, a clear moves it to {@code cleared_*}.
   *
   * @return the alarm after the change, or empty when the transition changed nothing (e.g. a
   *     clear for a device and rule with no open alarm)
   */
  Optional<Alarm> apply(AlarmTransition transition);

  /**
   * Applies several rule transitions, in list order, as one group: an implementation may commit
   * them in one transaction (the JDBC ledger does: one commit instead of one per transition), but
   * one transition that fails must not lose the others. Never throws for a transition's failure:
   * each gets its {@link TransitionOutcome}. When a transition fails, later ones of the same
   * (device, rule) in the list are {@link TransitionOutcome.Status#NOT_TRIED not tried}, so the
   * caller can retry them in order.
   *
   * <p>This default applies them one by one with {@link #apply}.
   *
   * @param transitions in the order the rule engine decided them
   * @param decidedAtNanos {@link System#nanoTime()} when the oldest of them was decided (for the
   *     alarm path timer), or 0 when unknown
   * @return one outcome per transition, in the same order
   */
  default java.util.List<TransitionOutcome> applyAll(
      java.util.List<AlarmTransition> transitions, long decidedAtNanos) {
    java.util.List<TransitionOutcome> out = new java.util.ArrayList<>(transitions.size());
    java.util.Set<String> failedKeys = new java.util.HashSet<>();
    for (AlarmTransition t : transitions) {
      String key = t.deviceId() + "\u0000" + t.ruleId();
      if (failedKeys.contains(key)) {
        out.add(TransitionOutcome.notTried(t));
        continue;
      }
      try {
        out.add(TransitionOutcome.applied(t, apply(t)));
      } catch (RuntimeException e) {
        failedKeys.add(key);
        out.add(TransitionOutcome.failed(t, e));
      }
    }
    return out;
  }

  /**
   * An officer acknowledges: stops escalation.
   *
   * @throws AlarmNotFoundException when there is no such alarm
   * @throws IllegalAlarmTransitionException when the alarm is closed or already acknowledged
   */
  Alarm acknowledge(long alarmId, String actor, String note);

  /**
   * Write-off: {@code cleared_acked -> closed}.
   *
   * @param note the disposal note, required, not blank
   * @throws AlarmNotFoundException when there is no such alarm
   * @throws IllegalAlarmTransitionException when the alarm is not {@code cleared_acked}
   * @throws IllegalArgumentException when the note is blank
   */
  Alarm close(long alarmId, String actor, String note);

  /** The alarm with this id. */
  Optional<Alarm> find(long alarmId);

  /** The alarm's history, oldest first. */
  List<AlarmEvent> history(long alarmId);

  /**
   * Alarms in the given states (all states when empty), unacknowledged and most severe first,
   * then newest first.
   *
   * @param limit at most this many (1..1000)
   * @param offset skip this many
   */
  List<Alarm> list(Set<AlarmState> states, int limit, int offset);

  /**
   * Events with id greater than {@code afterEventId}, oldest first: the live stream's replay.
   *
   * @param limit at most this many
   */
  List<AlarmEvent> eventsAfter(long afterEventId, int limit);

  /**
   * Registers a listener told of every committed event, in id order, on a thread of the
   * service's. Listeners must not block.
   */
  void addListener(Consumer<AlarmEvent> listener);
}
