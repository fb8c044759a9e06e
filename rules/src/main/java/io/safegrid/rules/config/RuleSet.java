package io.safegrid.rules.config;

import static io.safegrid.rules.config.RuleKeys.*;

import io.safegrid.model.DeviceType;
import io.safegrid.model.Severity;
import io.safegrid.rules.event.EventRule;
import io.safegrid.rules.event.EventRule.Action;
import io.safegrid.rules.event.StateCodeRule;
import io.safegrid.rules.event.StateCodeRule.Code;
import io.safegrid.rules.inactivity.InactivityRule;
import io.safegrid.rules.rate.RateOfChangeRule;
import io.safegrid.rules.threshold.ThresholdRule;
import io.safegrid.rules.threshold.ThresholdRule.Direction;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The compiled rules of one device type with one set of parameters: thresholds, rates, state
 * codes and events, plus the inactivity timeout. Immutable and shared by all devices with the same
 * parameters.
 *
 * <p>Rule ids (stable across restarts, what the ledger keys alarms by):
 *
 * <ul>
 *   <li>gas_alarm: {@code gas-lel-threshold} (metric {@code gas_lel}, level 1 MAJOR, level 2 CRITICAL,
 *       GB/T 50493-2019 5.5.2), {@code gas-device-alarm} and {@code gas-fault} (metric {@code
 *       state}, see {@link StateCodeRule}; events {@code fault} and {@code sensor_failure} raise
 *       {@code gas-fault}, {@code normal}, {@code fault_cleared} and {@code reset} clear it), {@code
 *       low-battery} (metric {@code battery_pct} below 20 %, WARNING).
 *   <li>fire_panel: the events of {@link EventRule}.
 *   <li>river_gauge: {@code river-level-threshold} (warning level MAJOR, optional danger level CRITICAL),
 *       {@code river-rise-rate} (rate of rise, WARNING), {@code low-battery}.
 *   <li>every type: {@code device-offline} (MINOR).
 * </ul>
 */
public final class RuleSet {

  /** Rule ids. */
  public static final String GAS_LEL = "gas-lel-threshold";
  public static final String GAS_DEVICE_ALARM = "gas-device-alarm";
  public static final String GAS_FAULT = "gas-fault";
  public static final String LOW_BATTERY = "low-battery";
  public static final String RIVER_LEVEL = "river-level-threshold";
  public static final String RIVER_RISE = "river-rise-rate";
  public static final String PANEL_FIRE = "fire-panel-fire";
  public static final String PANEL_FAULT = "fire-panel-fault";
  public static final String PANEL_SUPERVISORY = "fire-panel-supervisory";
  public static final String PANEL_SHIELD = "fire-panel-shield";
  public static final String PANEL_MAINS_FAULT = "fire-panel-mains-fault";
  public static final String PANEL_BACKUP_FAULT = "fire-panel-backup-fault";

  /** The rules that apply to one metric, in evaluation order. */
  public static final class MetricRules {
    private final ThresholdRule[] thresholds;
    private final RateOfChangeRule[] rates;
    private final StateCodeRule[] stateCodes;

    MetricRules(List<ThresholdRule> t, List<RateOfChangeRule> r, List<StateCodeRule> s) {
      thresholds = t.toArray(new ThresholdRule[0]);
      rates = r.toArray(new RateOfChangeRule[0]);
      stateCodes = s.toArray(new StateCodeRule[0]);
    }

    public ThresholdRule[] thresholds() {
      return thresholds;
    }

    public RateOfChangeRule[] rates() {
      return rates;
    }

    public StateCodeRule[] stateCodes() {
      return stateCodes;
    }
  }

  private final DeviceType type;
  private final Map<String, Object> parameters;
  private final List<ThresholdRule> thresholds;
  private final List<RateOfChangeRule> rates;
  private final List<StateCodeRule> stateCodes;
  private final EventRule events;
  private final long heartbeatMillis;
  private final int offlineAfterIntervals;
  private final Map<String, MetricRules> byMetric;

  private RuleSet(DeviceType type, Map<String, Object> parameters, List<ThresholdRule> thresholds,
      List<RateOfChangeRule> rates, List<StateCodeRule> stateCodes, EventRule events,
      long heartbeatMillis, int offlineAfterIntervals) {
    this.type = type;
    this.parameters = Map.copyOf(parameters);
    this.thresholds = List.copyOf(thresholds);
    this.rates = List.copyOf(rates);
    this.stateCodes = List.copyOf(stateCodes);
    this.events = events;
    this.heartbeatMillis = heartbeatMillis;
    this.offlineAfterIntervals = offlineAfterIntervals;
    Set<String> metrics = new LinkedHashSet<>();
    thresholds.forEach(t -> metrics.add(t.metric()));
    rates.forEach(r -> metrics.add(r.metric()));
    stateCodes.forEach(s -> metrics.add(s.metric()));
    Map<String, MetricRules> m = new HashMap<>();
    for (String metric : metrics) {
      m.put(metric, new MetricRules(
          thresholds.stream().filter(t -> t.metric().equals(metric)).toList(),
          rates.stream().filter(r -> r.metric().equals(metric)).toList(),
          stateCodes.stream().filter(s -> s.metric().equals(metric)).toList()));
    }
    this.byMetric = Map.copyOf(m);
  }

  /**
   * Compiles the rules of a device type from complete parameters (defaults already merged).
   *
   * @throws IllegalArgumentException when a parameter is missing, not a number, or inconsistent
   *     (e.g. level 2 not above level 1)
   */
  public static RuleSet compile(DeviceType type, Map<String, ?> p) {
    String where = type.wireName();
    List<ThresholdRule> th = new ArrayList<>();
    List<RateOfChangeRule> rates = new ArrayList<>();
    List<StateCodeRule> codes = new ArrayList<>();
    List<Action> actions = new ArrayList<>();
    switch (type) {
      case GAS_ALARM -> {
        th.add(new ThresholdRule(GAS_LEL, "gas_lel", "gas", "%LEL", Direction.ABOVE,
            new double[] {number(p, LEVEL1_LEL, where), number(p, LEVEL2_LEL, where)},
            new Severity[] {Severity.MAJOR, Severity.CRITICAL},
            number(p, CLEAR_HYSTERESIS_LEL, where), seconds(p, DEBOUNCE_S, where)));
        th.add(battery(p, where));
        codes.add(new StateCodeRule("state", List.of(
            new Code(0, "normal", null, null, true),
            new Code(1, "low_alarm", GAS_DEVICE_ALARM, Severity.MAJOR, false),
            new Code(2, "high_alarm", GAS_DEVICE_ALARM, Severity.CRITICAL, false),
            new Code(3, "fault", GAS_FAULT, Severity.MINOR, false),
            new Code(4, "sensor_failure", GAS_FAULT, Severity.MINOR, false),
            new Code(5, "preheating", null, null, false))));
        actions.add(Action.raise("fault", GAS_FAULT, Severity.MINOR, "gas alarm fault"));
        actions.add(Action.raise("sensor_failure", GAS_FAULT, Severity.MINOR, "gas sensor failure"));
        actions.add(Action.clear("fault_cleared", "gas alarm fault cleared", GAS_FAULT));
        actions.add(Action.clear("normal", "gas alarm back to normal", GAS_FAULT));
        actions.add(Action.clear("reset", "gas alarm reset", GAS_FAULT));
      }
      case FIRE_PANEL -> {
        long faultDebounce = seconds(p, FAULT_DEBOUNCE_S, where);
        actions.add(Action.raise("fire", PANEL_FIRE, Severity.CRITICAL, "fire alarm"));
        actions.add(Action.raiseDebounced("fault", PANEL_FAULT, Severity.MINOR, "panel fault",
            faultDebounce));
        actions.add(Action.raise("supervisory", PANEL_SUPERVISORY, Severity.MINOR,
            "supervisory signal"));
        actions.add(Action.raise("shield", PANEL_SHIELD, Severity.WARNING, "point shielded"));
        actions.add(Action.raiseDebounced("mains_fault", PANEL_MAINS_FAULT, Severity.MINOR,
            "mains power fault", faultDebounce));
        actions.add(Action.raiseDebounced("backup_fault", PANEL_BACKUP_FAULT, Severity.MINOR,
            "backup power fault", faultDebounce));
        actions.add(Action.clear("fault_cleared", "panel fault cleared", PANEL_FAULT));
        actions.add(Action.clear("reset", "panel reset",
            PANEL_FIRE, PANEL_FAULT, PANEL_SUPERVISORY, PANEL_SHIELD));
        actions.add(Action.clear("mains_restored", "mains power restored", PANEL_MAINS_FAULT));
        actions.add(Action.clear("backup_restored", "backup power restored", PANEL_BACKUP_FAULT));
      }
      case RIVER_GAUGE -> {
        String metric = text(p, LEVEL_METRIC, where);
        double warning = number(p, WARNING_LEVEL_M, where);
        double[] setpoints;
        Severity[] severities;
        if (p.get(DANGER_LEVEL_M) != null) {
          setpoints = new double[] {warning, number(p, DANGER_LEVEL_M, where)};
          severities = new Severity[] {Severity.MAJOR, Severity.CRITICAL};
        } else {
          setpoints = new double[] {warning};
          severities = new Severity[] {Severity.MAJOR};
        }
        th.add(new ThresholdRule(RIVER_LEVEL, metric, "river level", "m", Direction.ABOVE,
            setpoints, severities, number(p, CLEAR_HYSTERESIS_M, where),
            seconds(p, DEBOUNCE_S, where)));
        long window = seconds(p, RISE_RATE_WINDOW_S, where);
        rates.add(new RateOfChangeRule(RIVER_RISE, metric, "river level", "m",
            number(p, RISE_RATE_M_PER_H, where), number(p, RISE_RATE_HYSTERESIS_M_PER_H, where),
            window, Math.min(window, seconds(p, RISE_RATE_MIN_SPAN_S, where)), Severity.WARNING));
        th.add(battery(p, where));
      }
    }
    long heartbeat = seconds(p, HEARTBEAT_S, where);
    double intervals = number(p, OFFLINE_AFTER_INTERVALS, where);
    if (heartbeat <= 0 || intervals < 1 || intervals != Math.rint(intervals)) {
      throw new IllegalArgumentException(where + ": heartbeat_s must be > 0 and "
          + "offline_after_intervals a whole number >= 1");
    }
    return new RuleSet(type, new HashMap<>(p), th, rates, codes, new EventRule(actions),
        heartbeat, (int) intervals);
  }

  private static ThresholdRule battery(Map<String, ?> p, String where) {
    return new ThresholdRule(LOW_BATTERY, "battery_pct", "battery", "%", Direction.BELOW,
        new double[] {number(p, BATTERY_LOW_PCT, where)}, new Severity[] {Severity.WARNING},
        number(p, BATTERY_HYSTERESIS_PCT, where), 0);
  }

  private static long seconds(Map<String, ?> p, String key, String where) {
    double s = number(p, key, where);
    if (s < 0) {
      throw new IllegalArgumentException("rule parameter " + where + "." + key + " must be >= 0");
    }
    return Math.round(s * 1000);
  }

  public DeviceType type() {
    return type;
  }

  /** The effective parameters this set was compiled from. */
  public Map<String, Object> parameters() {
    return parameters;
  }

  /** The rules of a metric, or null when no rule reads it (hot path: one hash lookup). */
  public MetricRules forMetric(String metric) {
    return byMetric.get(metric);
  }

  public List<ThresholdRule> thresholds() {
    return thresholds;
  }

  public List<RateOfChangeRule> rates() {
    return rates;
  }

  public List<StateCodeRule> stateCodes() {
    return stateCodes;
  }

  public EventRule events() {
    return events;
  }

  /** Type default report interval, ms. */
  public long heartbeatMillis() {
    return heartbeatMillis;
  }

  public int offlineAfterIntervals() {
    return offlineAfterIntervals;
  }

  /**
   * The inactivity rule for a device with this report interval (0 = the type's heartbeat).
   * Severity MINOR.
   */
  public InactivityRule inactivity(long reportIntervalMillis) {
    long interval = reportIntervalMillis > 0 ? reportIntervalMillis : heartbeatMillis;
    return new InactivityRule(interval, offlineAfterIntervals, Severity.MINOR);
  }

  /** Ids of the latched rules (events and state codes). */
  public Set<String> latchedRuleIds() {
    Set<String> s = new LinkedHashSet<>(events.raisedRuleIds());
    stateCodes.forEach(c -> s.addAll(c.ruleIds()));
    return s;
  }
}
