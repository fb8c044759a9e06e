package io.safegrid.alerting.ledger;

/** No alarm with the given id (the API answers 404). */
public class AlarmNotFoundException extends RuntimeException {
  public AlarmNotFoundException(long alarmId) {
    super("no alarm with id " + alarmId);
  }
}
