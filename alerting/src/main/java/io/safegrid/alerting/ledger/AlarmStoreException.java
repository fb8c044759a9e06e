package io.safegrid.alerting.ledger;

/**
 * The ledger's database failed (unreachable, or a statement failed); the change did not commit.
 * Exception: an officer action or escalation step whose connection broke (SQLSTATE class 08 in the
 * cause) during the round trip carrying its COMMIT may have committed; read the alarm again. A rule
 * transition's ledger finds that out itself (docs/alerting.md "When the connection breaks during
 * the commit").
 */
public class AlarmStoreException extends RuntimeException {
  public AlarmStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
