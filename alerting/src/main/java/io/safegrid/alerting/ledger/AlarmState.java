package io.safegrid.alerting.ledger;

/**
 * The contract's alarm lifecycle (the ledger: register -> write-off).
 *
 * <pre>
 * active_unacked -> active_acked        (an officer acknowledges)
 * active_*       -> cleared_unacked / cleared_acked   (the condition ends)
 * cleared_unacked -> cleared_acked      (acknowledged after it cleared)
 * cleared_acked  -> closed              (write-off, with a disposal note)
 * </pre>
 */
public enum AlarmState {
  ACTIVE_UNACKED,
  ACTIVE_ACKED,
  CLEARED_UNACKED,
  CLEARED_ACKED,
  CLOSED;

  /** The lower-case name used in the API and the database, e.g. {@code active_unacked}. */
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * @throws IllegalArgumentException for an unknown name
   */
  public static AlarmState fromWireName(String s) {
    return valueOf(s.toUpperCase(java.util.Locale.ROOT));
  }

  /** True for every state but {@link #CLOSED}: the alarm still occupies its (device, rule). */
  public boolean open() {
    return this != CLOSED;
  }
}
