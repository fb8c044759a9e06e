package io.safegrid.alerting.ledger;

import java.time.Duration;
import java.util.Objects;

/**
 * Ledger settings.
 *
 * @param reopenWindow a raise for a (device, rule) whose latest entry was written off (closed) less
 *     than this long after it cleared re-opens that entry (count + 1, event {@code reopened})
 *     instead of registering a new one. An entry that is still open (cleared but not closed) is
 *     always re-opened: one open alarm per (device, rule). Default 10 minutes.
 */
public record LedgerConfig(Duration reopenWindow) {
  public LedgerConfig {
    Objects.requireNonNull(reopenWindow, "reopenWindow");
    if (reopenWindow.isNegative()) {
      throw new IllegalArgumentException("reopenWindow must not be negative: " + reopenWindow);
    }
  }

  /** Reopen window 10 minutes. */
  public static LedgerConfig defaults() {
    return new LedgerConfig(Duration.ofMinutes(10));
  }
}
