package io.safegrid.model;

/**
 * Alarm severity, lowest first. Severity decides where escalation starts in the five-level grid
 * and how fast it climbs. Gas level 1 (25 %LEL) is {@link #MAJOR}, level 2 (50 %LEL) {@link
 * #CRITICAL} (GB/T 50493-2019 5.5.2); a panel fire is {@link #CRITICAL}.
 */
public enum Severity {
  WARNING,
  MINOR,
  MAJOR,
  CRITICAL;

  /** The lower-case name used in payloads and the database. */
  public String wireName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
