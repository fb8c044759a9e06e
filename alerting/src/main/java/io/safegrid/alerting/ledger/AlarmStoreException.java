package io.safegrid.alerting.ledger;

/** The ledger's database failed (unreachable, or a statement failed); the change did not commit. */
public class AlarmStoreException extends RuntimeException {
  public AlarmStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
