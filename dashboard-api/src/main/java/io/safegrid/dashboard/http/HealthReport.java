package io.safegrid.dashboard.http;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One component's health for {@code GET /api/health}, e.g. the database or the gateway's spool.
 *
 * @param up true when the component works
 * @param details facts for operators, e.g. {@code {"spooledBatches": 3, "spoolBytes": 18230}};
 *     JSON-serialisable values only
 */
public record HealthReport(boolean up, Map<String, Object> details) {
  public HealthReport {
    details = details == null ? Map.of() : new LinkedHashMap<>(details);
  }

  public static HealthReport up(Map<String, Object> details) {
    return new HealthReport(true, details);
  }

  public static HealthReport down(Map<String, Object> details) {
    return new HealthReport(false, details);
  }
}
