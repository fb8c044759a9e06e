package io.safegrid.rules.config;

import io.safegrid.model.DeviceType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The rule parameter names (units in the suffix: {@code _lel} %LEL, {@code _m} metres, {@code
 * _s} seconds, {@code _pct} percent) and the Dongnan defaults with their sources.
 */
public final class RuleKeys {

  private RuleKeys() {}

  /** gas_alarm: first-level setpoint, %LEL. Default 25 (GB/T 50493-2019 5.5.2: at most 25 %LEL). */
  public static final String LEVEL1_LEL = "level1_lel";
  /** gas_alarm: second-level setpoint, %LEL. Default 50 (GB/T 50493-2019 5.5.2: at most 50 %LEL). */
  public static final String LEVEL2_LEL = "level2_lel";
  /** gas_alarm: hysteresis below a setpoint before the level is left, %LEL. Default 2. */
  public static final String CLEAR_HYSTERESIS_LEL = "clear_hysteresis_lel";
  /** Any threshold: time a new level must hold before it is taken, s. Default 0 (at once). */
  public static final String DEBOUNCE_S = "debounce_s";
  /** Type default report interval when the device has none, s. */
  public static final String HEARTBEAT_S = "heartbeat_s";
  /** Silent report intervals before device-offline. Default 3. */
  public static final String OFFLINE_AFTER_INTERVALS = "offline_after_intervals";
  /** gas_alarm, river_gauge: low battery below this, %. Default 20. */
  public static final String BATTERY_LOW_PCT = "battery_low_pct";
  /** gas_alarm: battery must rise this far above the setpoint to clear, %. Default 2. */
  public static final String BATTERY_HYSTERESIS_PCT = "battery_hysteresis_pct";
  /**
   * fire_panel: a fault or power-fault event raises only if no clear (reset, fault_cleared,
   * mains_restored, backup_restored) follows within this, s. Default 0. Fire is never delayed.
   */
  public static final String FAULT_DEBOUNCE_S = "fault_debounce_s";
  /** river_gauge: metric carrying the river level in metres. Default {@code water_level_m}. */
  public static final String LEVEL_METRIC = "level_metric";
  /** river_gauge: warning level, m. Default 270.80 (Jialing River, Nanchong city reach). */
  public static final String WARNING_LEVEL_M = "warning_level_m";
  /** river_gauge: optional second (CRITICAL) level, m, above the warning level. No default. */
  public static final String DANGER_LEVEL_M = "danger_level_m";
  /** river_gauge: hysteresis below the level before it clears, m. Default 0.05. */
  public static final String CLEAR_HYSTERESIS_M = "clear_hysteresis_m";
  /** river_gauge: rate of rise that raises river-rise-rate, m/h. Default 0.5 (SafeGrid's choice). */
  public static final String RISE_RATE_M_PER_H = "rise_rate_m_per_h";
  /** river_gauge: rate window, s. Default 3600. */
  public static final String RISE_RATE_WINDOW_S = "rise_rate_window_s";
  /** river_gauge: least span of samples to judge a rate, s. Default 900. */
  public static final String RISE_RATE_MIN_SPAN_S = "rise_rate_min_span_s";
  /** river_gauge: rate hysteresis, m/h. Default 0.1. */
  public static final String RISE_RATE_HYSTERESIS_M_PER_H = "rise_rate_hysteresis_m_per_h";

  /** Section key (beside the device type names) for combination rules. */
  public static final String COMBINATION = "combination";
  /** combination: window between the two raises, s. Default 300 (5 minutes). */
  public static final String WINDOW_S = "window_s";
  /** combination: place level of the gas-pair rule. Default {@code building}. */
  public static final String GAS_PAIR_SCOPE = "gas_pair_scope";
  /** combination: place level of the fire-and-gas rule. Default {@code compound}. */
  public static final String FIRE_GAS_SCOPE = "fire_gas_scope";

  /** The keys each device type understands. */
  public static Set<String> known(DeviceType type) {
    return switch (type) {
      case GAS_ALARM -> Set.of(LEVEL1_LEL, LEVEL2_LEL, CLEAR_HYSTERESIS_LEL, DEBOUNCE_S,
          HEARTBEAT_S, OFFLINE_AFTER_INTERVALS, BATTERY_LOW_PCT, BATTERY_HYSTERESIS_PCT);
      case FIRE_PANEL -> Set.of(HEARTBEAT_S, OFFLINE_AFTER_INTERVALS, FAULT_DEBOUNCE_S);
      case RIVER_GAUGE -> Set.of(LEVEL_METRIC, WARNING_LEVEL_M, DANGER_LEVEL_M,
          CLEAR_HYSTERESIS_M, DEBOUNCE_S, RISE_RATE_M_PER_H, RISE_RATE_WINDOW_S,
          RISE_RATE_MIN_SPAN_S, RISE_RATE_HYSTERESIS_M_PER_H, HEARTBEAT_S,
          OFFLINE_AFTER_INTERVALS, BATTERY_LOW_PCT, BATTERY_HYSTERESIS_PCT);
    };
  }

  /** Keys of the combination section. */
  public static Set<String> knownCombination() {
    return Set.of(WINDOW_S, GAS_PAIR_SCOPE, FIRE_GAS_SCOPE);
  }

  /**
   * Dongnan defaults of a device type. Heartbeats: gas 60 s (mains-powered units report about
   * every 60 s), fire panel 60 s (SafeGrid's choice for the transmission device's heartbeat),
   * river gauge 300 s (SL 651-2014 timed report every 5 min in flood season; hourly gauges
   * override {@code heartbeat_s}).
   */
  public static Map<String, Object> dongnanDefaults(DeviceType type) {
    Map<String, Object> m = new LinkedHashMap<>();
    switch (type) {
      case GAS_ALARM -> {
        m.put(LEVEL1_LEL, 25.0);
        m.put(LEVEL2_LEL, 50.0);
        m.put(CLEAR_HYSTERESIS_LEL, 2.0);
        m.put(DEBOUNCE_S, 0.0);
        m.put(HEARTBEAT_S, 60.0);
        m.put(OFFLINE_AFTER_INTERVALS, 3.0);
        m.put(BATTERY_LOW_PCT, 20.0);
        m.put(BATTERY_HYSTERESIS_PCT, 2.0);
      }
      case FIRE_PANEL -> {
        m.put(HEARTBEAT_S, 60.0);
        m.put(OFFLINE_AFTER_INTERVALS, 3.0);
        m.put(FAULT_DEBOUNCE_S, 0.0);
      }
      case RIVER_GAUGE -> {
        m.put(LEVEL_METRIC, "water_level_m");
        m.put(WARNING_LEVEL_M, 270.80);
        m.put(CLEAR_HYSTERESIS_M, 0.05);
        m.put(DEBOUNCE_S, 0.0);
        m.put(RISE_RATE_M_PER_H, 0.5);
        m.put(RISE_RATE_WINDOW_S, 3600.0);
        m.put(RISE_RATE_MIN_SPAN_S, 900.0);
        m.put(RISE_RATE_HYSTERESIS_M_PER_H, 0.1);
        m.put(HEARTBEAT_S, 300.0);
        m.put(OFFLINE_AFTER_INTERVALS, 3.0);
        m.put(BATTERY_LOW_PCT, 20.0);
        m.put(BATTERY_HYSTERESIS_PCT, 2.0);
      }
    }
    return m;
  }

  /** Dongnan defaults of the combination section. */
  public static Map<String, Object> combinationDefaults() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(WINDOW_S, 300.0);
    m.put(GAS_PAIR_SCOPE, "building");
    m.put(FIRE_GAS_SCOPE, "compound");
    return m;
  }

  static double number(Map<String, ?> p, String key, String where) {
    Object v = p.get(key);
    if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
      return n.doubleValue();
    }
    if (v instanceof String s) {
      try {
        double d = Double.parseDouble(s.trim());
        if (Double.isFinite(d)) {
          return d;
        }
      } catch (NumberFormatException ignored) {
        // fall through to the error below
      }
    }
    throw new IllegalArgumentException(
        "rule parameter " + where + "." + key + " must be a finite number, got: " + v);
  }

  static String text(Map<String, ?> p, String key, String where) {
    Object v = p.get(key);
    if (v instanceof String s && !s.isBlank()) {
      return s.trim();
    }
    throw new IllegalArgumentException(
        "rule parameter " + where + "." + key + " must be a non-empty text, got: " + v);
  }
}
