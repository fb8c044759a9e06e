package io.safegrid.sim.scenario;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One line of a scenario timeline.
 *
 * @param atMin simulated minute from the start
 * @param action what happens, see {@link ScenarioSpec#ACTIONS}
 * @param device target device id, or null (reconnect storm: every MQTT device)
 * @param params the whole entry, for action parameters ({@code peak_lel}, {@code for_min}, ...)
 */
public record TimelineEntry(double atMin, String action, String device, JsonNode params) {

  /** A numeric parameter, or {@code fallback}. */
  public double num(String name, double fallback) {
    JsonNode v = params.get(name);
    return v == null || !v.isNumber() ? fallback : v.asDouble();
  }

  /** A text parameter, or {@code fallback}. */
  public String text(String name, String fallback) {
    JsonNode v = params.get(name);
    return v == null || v.isNull() ? fallback : v.asText();
  }
}
