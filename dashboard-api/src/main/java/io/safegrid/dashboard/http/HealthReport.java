package io.safegrid.dashboard.http;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One component's health for {@code GET /api/health}, e.g. the database or the gateway's spool.
 *
 * @param up true when the component works
 * @param details facts for operators, e.g. {@code {"spooledBatches": 3, "spoolBytes": 18230}};
 *     JSON-serialisable values only
 * @param degraded up, but not fully: e.g. the emergency network broker cannot be reached, so a
 *     hazard call-out cannot be delivered (newcomer8 N7); {@code GET /api/health} then answers
 *     200 with {@code "status": "degraded"} (restarting the gateway would not help)
 */
public record HealthReport(boolean up, Map<String, Object> details, boolean degraded) {
  public HealthReport {
    details = details == null ? Map.of() : new LinkedHashMap<>(details);
  }

  /** Up or down, not degraded. */
  public HealthReport(boolean up, Map<String, Object> details) {
    this(up, details, false);
  }

  /** Working, but degraded (see {@link #degraded()}). */
  public static HealthReport degraded(Map<String, Object> details) {
    return new HealthReport(true, details, true);
  }

  public static HealthReport up(Map<String, Object> details) {
    return new HealthReport(true, details);
  }

  public static HealthReport down(Map<String, Object> details) {
    return new HealthReport(false, details);
  }
}
