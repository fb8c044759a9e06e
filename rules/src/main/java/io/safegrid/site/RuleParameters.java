package io.safegrid.site;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The rule parameters that apply to one device type, or to one device (its type's parameters with
 * the device's overrides on top). Immutable.
 *
 * <p>Keys shipped in {@code config/dongnan.yaml} (units in the key's suffix; the rule engine owns
 * their meaning and may add keys):
 *
 * <ul>
 *   <li>{@code gas_alarm}: {@code level1_lel} (25 %LEL, first-level alarm, GB/T 50493-2019
 *       5.5.2), {@code level2_lel} (50 %LEL, second-level alarm, same clause), {@code
 *       clear_hysteresis_lel} (the level must fall this far below the setpoint to clear), {@code
 *       debounce_s} (how long a level must hold before raising; 0 = at once, the alarm must sound
 *       within 30 s), {@code heartbeat_s}, {@code offline_after_intervals}, {@code
 *       battery_low_pct}.
 *   <li>{@code fire_panel}: {@code heartbeat_s}, {@code offline_after_intervals}, {@code
 *       fault_debounce_s}.
 *   <li>{@code river_gauge}: {@code warning_level_m} (Jialing, Nanchong reach: 270.80 m; a Xi
 *       River gauge overrides it), {@code clear_hysteresis_m}, {@code rise_rate_m_per_h}, {@code
 *       rise_rate_window_s}, {@code heartbeat_s}, {@code offline_after_intervals}, {@code
 *       level_metric} (text: the metric carrying the level, {@code water_level_m}).
 *   <li>{@code combination} (not a device type; read from {@link Site#rules()}): {@code
 *       window_s}, {@code gas_pair_scope}, {@code fire_gas_scope}.
 * </ul>
 *
 * <p>{@code io.safegrid.rules.config.RuleKeys} is the authority on the keys and their defaults.
 *
 * Values are numbers (YAML integers or decimals) unless a rule documents otherwise.
 */
public final class RuleParameters {

  private static final RuleParameters EMPTY = new RuleParameters(Map.of());

  private final Map<String, Object> values;

  private RuleParameters(Map<String, Object> values) {
    this.values = values;
  }

  /** Parameters from a map (copied; null values dropped). */
  public static RuleParameters of(Map<String, ?> values) {
    if (values == null || values.isEmpty()) {
      return EMPTY;
    }
    Map<String, Object> copy = new LinkedHashMap<>();
    values.forEach(
        (k, v) -> {
          if (k != null && v != null) {
            copy.put(k, v);
          }
        });
    return new RuleParameters(java.util.Collections.unmodifiableMap(copy));
  }

  /** No parameters. */
  public static RuleParameters empty() {
    return EMPTY;
  }

  /** These parameters with {@code overrides} on top. */
  public RuleParameters with(Map<String, ?> overrides) {
    if (overrides == null || overrides.isEmpty()) {
      return this;
    }
    Map<String, Object> merged = new LinkedHashMap<>(values);
    overrides.forEach(
        (k, v) -> {
          if (k != null && v != null) {
            merged.put(k, v);
          }
        });
    return new RuleParameters(java.util.Collections.unmodifiableMap(merged));
  }

  /** True when the key is set. */
  public boolean has(String key) {
    return values.containsKey(key);
  }

  /**
   * The number under {@code key}.
   *
   * @throws NoSuchElementException when the key is absent
   * @throws IllegalArgumentException when the value is not a number
   */
  public double number(String key) {
    Object v = values.get(key);
    if (v == null) {
      throw new NoSuchElementException("rule parameter '" + key + "' is not set");
    }
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    throw new IllegalArgumentException(
        "rule parameter '" + key + "' is not a number: " + v);
  }

  /** The number under {@code key}, or {@code fallback} when absent. */
  public double number(String key, double fallback) {
    return has(key) ? number(key) : fallback;
  }

  /** The raw value under {@code key}, or null. */
  public Object get(String key) {
    return values.get(key);
  }

  /** All parameters, unmodifiable, in configuration order. */
  public Map<String, Object> asMap() {
    return values;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RuleParameters p && p.values.equals(values);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }

  @Override
  public String toString() {
    return values.toString();
  }
}
