package io.safegrid.alerting.ledger;

import io.safegrid.model.AlarmTransition;
import java.util.Objects;
import java.util.Optional;

/**
 * What became of one rule transition handed to {@link AlarmService#applyAll}.
 *
 * @param transition the transition
 * @param status applied (committed), failed (rolled back, {@code error} says why) or not tried
 *     (an earlier transition of the same device and rule in the same call failed, so this one was
 *     held back to keep their order; apply it again after that one)
 * @param alarm the alarm after the change when applied and something changed, else empty
 * @param error why it failed, null unless {@link Status#FAILED}
 */
public record TransitionOutcome(
    AlarmTransition transition, Status status, Optional<Alarm> alarm, RuntimeException error) {

  /** The three fates of a transition in a group commit. */
  public enum Status { APPLIED, FAILED, NOT_TRIED }

  public TransitionOutcome {
    Objects.requireNonNull(transition, "transition");
    Objects.requireNonNull(status, "status");
    alarm = alarm == null ? Optional.empty() : alarm;
  }

  /** Applied and committed. */
  public static TransitionOutcome applied(AlarmTransition t, Optional<Alarm> alarm) {
    return new TransitionOutcome(t, Status.APPLIED, alarm, null);
  }

  /** Rolled back because of {@code error}. */
  public static TransitionOutcome failed(AlarmTransition t, RuntimeException error) {
    return new TransitionOutcome(t, Status.FAILED, Optional.empty(), Objects.requireNonNull(error));
  }

  /** Held back behind a failed transition of the same device and rule. */
  public static TransitionOutcome notTried(AlarmTransition t) {
    return new TransitionOutcome(t, Status.NOT_TRIED, Optional.empty(), null);
  }

  /** True when applied. */
  public boolean applied() {
    return status == Status.APPLIED;
  }
}
