package io.safegrid.alerting.ledger;

/** The alarm's state does not allow the action, e.g. closing an active alarm (API: 409). */
public class IllegalAlarmTransitionException extends RuntimeException {
  public IllegalAlarmTransitionException(String message) {
    super(message);
  }
}
