package io.safegrid.rules.config;

import io.safegrid.model.DeviceType;
import io.safegrid.model.Severity;
import io.safegrid.rules.combination.CombinationRule;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The rules of a site: parameters per device type (Dongnan defaults under the configured
 * values), per-device overrides on top, and the combination rules. Immutable and thread-safe;
 * compiled {@link RuleSet}s are cached per distinct parameter set.
 *
 * <p>Build it with {@link #dongnan()} or {@link #fromParameters(Map)} (the {@code rules:} section
 * of {@code config/dongnan.yaml}: a map from device type wire name to its parameters, plus an
 * optional {@code combination} map). Keys are listed in {@link RuleKeys}.
 */
public final class RuleBook {

  private final Map<DeviceType, Map<String, Object>> typeParameters;
  private final Map<String, Object> combination;
  private final List<CombinationRule> combinations;
  private final List<String> unknownParameters;
  private final Map<DeviceType, RuleSet> typeSets = new EnumMap<>(DeviceType.class);
  private final Map<SetKey, RuleSet> overrideSets = new ConcurrentHashMap<>();

  private record SetKey(DeviceType type, Map<String, Object> parameters) {}

  private RuleBook(Map<DeviceType, Map<String, Object>> typeParameters,
      Map<String, Object> combination, List<String> unknownParameters) {
    this.typeParameters = typeParameters;
    this.combination = Map.copyOf(combination);
    this.unknownParameters = List.copyOf(unknownParameters);
    for (DeviceType t : DeviceType.values()) {
      typeSets.put(t, RuleSet.compile(t, typeParameters.get(t)));
    }
    this.combinations = compileCombinations(combination);
  }

  /** The Dongnan defaults for every type (see {@link RuleKeys#dongnanDefaults}). */
  public static RuleBook dongnan() {
    return fromParameters(Map.of());
  }

  /**
   * A rule book from generic parameter maps: keys are device type wire names ({@code gas_alarm},
   * {@code fire_panel}, {@code river_gauge}) or {@code combination}; values map parameter names
   * to numbers (or text for {@code level_metric} and the scopes). Missing parameters take the
   * Dongnan defaults. Unknown parameter names are not fatal (another module may own them): they
   * are listed by {@link #unknownParameters()} for the gateway to log.
   *
   * @throws IllegalArgumentException for an unknown section name, a value that is not a number
   *     where one is needed, or inconsistent levels
   */
  public static RuleBook fromParameters(Map<String, ? extends Map<String, ?>> sections) {
    Map<DeviceType, Map<String, Object>> byType = new EnumMap<>(DeviceType.class);
    for (DeviceType t : DeviceType.values()) {
      byType.put(t, RuleKeys.dongnanDefaults(t));
    }
    Map<String, Object> combination = RuleKeys.combinationDefaults();
    List<String> unknown = new ArrayList<>();
    if (sections != null) {
      sections.forEach((name, params) -> {
        if (params == null) {
          return;
        }
        if (RuleKeys.COMBINATION.equals(name)) {
          merge(combination, params, RuleKeys.knownCombination(), name, unknown);
        } else {
          DeviceType t = DeviceType.fromWireName(name);
          merge(byType.get(t), params, RuleKeys.known(t), name, unknown);
        }
      });
    }
    return new RuleBook(byType, combination, unknown);
  }

  /**
   * The rule book of a loaded site: its {@code rules:} section over the Dongnan defaults (the
   * combination rules keep their defaults: the site's section holds device types only). Pair it
   * with {@link DeviceDirectory#of(io.safegrid.site.Site)}.
   */
  public static RuleBook fromSite(io.safegrid.site.Site site) {
    return fromParameters(site.rules());
  }

  private static void merge(Map<String, Object> into, Map<String, ?> params, Set<String> known,
      String section, List<String> unknown) {
    params.forEach((k, v) -> {
      if (v == null) {
        return;
      }
      if (!known.contains(k)) {
        unknown.add(section + "." + k);
      }
      into.put(k, v);
    });
  }

  private static List<CombinationRule> compileCombinations(Map<String, Object> c) {
    long window = Math.round(RuleKeys.number(c, RuleKeys.WINDOW_S, "combination") * 1000);
    Set<String> gas = Set.of(RuleSet.GAS_LEL, RuleSet.GAS_DEVICE_ALARM);
    return List.of(
        new CombinationRule("gas-combo-" + scopeName(c, RuleKeys.GAS_PAIR_SCOPE),
            PlaceLevel.fromName(RuleKeys.text(c, RuleKeys.GAS_PAIR_SCOPE, "combination")),
            gas, gas, window, Severity.CRITICAL, "two gas alarms in one "
                + scopeName(c, RuleKeys.GAS_PAIR_SCOPE)),
        new CombinationRule("fire-gas-combo-" + scopeName(c, RuleKeys.FIRE_GAS_SCOPE),
            PlaceLevel.fromName(RuleKeys.text(c, RuleKeys.FIRE_GAS_SCOPE, "combination")),
            Set.of(RuleSet.PANEL_FIRE), gas, window, Severity.CRITICAL,
            "fire and gas alarms in one " + scopeName(c, RuleKeys.FIRE_GAS_SCOPE)));
  }

  private static String scopeName(Map<String, Object> c, String key) {
    return PlaceLevel.fromName(RuleKeys.text(c, key, "combination")).name()
        .toLowerCase(java.util.Locale.ROOT);
  }

  /** The compiled rules of a type with no overrides. */
  public RuleSet ruleSet(DeviceType type) {
    return typeSets.get(type);
  }

  /**
   * The compiled rules of a device: its type's parameters with its overrides on top.
   *
   * @throws IllegalArgumentException when an override is not a number or makes levels inconsistent
   */
  public RuleSet ruleSetFor(DeviceProfile device) {
    if (device.ruleOverrides().isEmpty()) {
      return typeSets.get(device.type());
    }
    Map<String, Object> merged = new LinkedHashMap<>(typeParameters.get(device.type()));
    merged.putAll(device.ruleOverrides());
    return overrideSets.computeIfAbsent(new SetKey(device.type(), Map.copyOf(merged)),
        k -> RuleSet.compile(k.type(), k.parameters()));
  }

  /** The effective parameters of a type (defaults under configured values), unmodifiable. */
  public Map<String, Object> parameters(DeviceType type) {
    return Map.copyOf(typeParameters.get(type));
  }

  /** The combination rules. */
  public List<CombinationRule> combinations() {
    return combinations;
  }

  /** Parameter names this engine does not know, as {@code section.key}; for a warning log. */
  public List<String> unknownParameters() {
    return unknownParameters;
  }
}
