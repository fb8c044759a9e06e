package io.safegrid.gateway.ingest;

import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.config.RuleBook;
import io.safegrid.rules.config.RuleSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A bound on the distinct metric names one device may send: the names the site's rules read
 * (always accepted) plus at most {@code allowance} others per device, first come first kept
 * (battery, signal, temperature and the like that no rule reads). A reading under a further new
 * name is refused: it is left out of the message, and the payload is kept as a dead letter with
 * reason tag {@code too_many_metrics} (newcomer7 F21: every new name gave the rule engine state
 * that is never freed, so one device sending ever new names, by malice or a firmware bug that
 * puts a counter in the name, could exhaust the heap and take every alarm of the site with it).
 *
 * <p>Memory: the names kept per device that sent an unread name, at most {@code allowance} each
 * (the device is authenticated, so bounded by the site file). The hot path for a name the rules
 * read is one lookup in an immutable set; other names take one map lookup and a per-device lock.
 * Thread-safe.
 */
public final class MetricBudget {

  /** Names no rule reads that a device may send besides the rules' own, as shipped. */
  public static final int DEFAULT_ALLOWANCE = 16;

  /** The start of every rejection line this budget writes (to pick the dead letter's tag). */
  static final String REJECTION = "too many metric names: ";

  private final Set<String> known;
  private final int allowance;
  private final ConcurrentHashMap<String, Set<String>> others = new ConcurrentHashMap<>();

  /**
   * @param known metric names always accepted: those the site's rules read (e.g. {@code
   *     gas_lel}, {@code level_m}, {@code state})
   * @param allowance further distinct names accepted per device, at least 0
   * @throws IllegalArgumentException when {@code allowance} is negative
   */
  public MetricBudget(Set<String> known, int allowance) {
    if (allowance < 0) {
      throw new IllegalArgumentException("allowance must be >= 0, got " + allowance);
    }
    this.known = Set.copyOf(Objects.requireNonNull(known, "known"));
    this.allowance = allowance;
  }

  /**
   * The site's budget: the names any rule of any device type reads (thresholds, rates of change,
   * state codes) plus {@link #DEFAULT_ALLOWANCE} per device.
   *
   * @param rules the site's compiled rules
   */
  public static MetricBudget forRules(RuleBook rules) {
    Set<String> names = new HashSet<>();
    for (DeviceType type : DeviceType.values()) {
      RuleSet set = rules.ruleSet(type);
      if (set != null) {
        set.thresholds().forEach(t -> names.add(t.metric()));
        set.rates().forEach(r -> names.add(r.metric()));
        set.stateCodes().forEach(c -> names.add(c.metric()));
      }
    }
    return new MetricBudget(names, DEFAULT_ALLOWANCE);
  }

  /**
   * A budget that knows no rules: any 32 names per device (twice {@link #DEFAULT_ALLOWANCE}); the
   * default of {@link IngestService}'s constructor without a budget (tests, embedders).
   */
  static MetricBudget withoutRules() {
    return new MetricBudget(Set.of(), 2 * DEFAULT_ALLOWANCE);
  }

  /**
   * The message without the readings over this device's budget, each refused name a rejection
   * starting {@value #REJECTION}; the same message when nothing is over (no allocation), an
   * {@link DecodedMessage#invalid() invalid} one when nothing is left.
   *
   * @param deviceId the authenticated device
   * @param decoded what the decoder made of its telemetry
   */
  DecodedMessage apply(String deviceId, DecodedMessage decoded) {
    List<Reading> readings = decoded.readings();
    int n = readings.size();
    int firstOver = -1;
    for (int i = 0; i < n; i++) {
      if (!admits(deviceId, readings.get(i).metric())) {
        firstOver = i;
        break;
      }
    }
    if (firstOver < 0) {
      return decoded;
    }
    List<Reading> kept = new ArrayList<>(readings.subList(0, firstOver));
    Set<String> refused = new HashSet<>();
    List<String> refusedInOrder = new ArrayList<>();
    for (int i = firstOver; i < n; i++) {
      Reading r = readings.get(i);
      if (i > firstOver && admits(deviceId, r.metric())) {
        kept.add(r);
      } else if (refused.add(r.metric())) {
        refusedInOrder.add(r.metric());
      }
    }
    List<String> rejections = new ArrayList<>(decoded.rejections());
    rejections.add(REJECTION + deviceId + " already sends " + allowance
        + " names no rule of the site reads; refused " + refusedInOrder.size() + " more: "
        + abbreviate(String.join(", ", refusedInOrder)));
    if (kept.isEmpty()) {
      return DecodedMessage.invalid(String.join("; ", rejections));
    }
    return new DecodedMessage(kept, List.of(), rejections, null);
  }

  /** Whether a rejection line is this budget's. */
  static boolean isBudgetRejection(String rejection) {
    return rejection.startsWith(REJECTION);
  }

  private boolean admits(String deviceId, String metric) {
    if (known.contains(metric)) {
      return true;
    }
    Set<String> mine = others.get(deviceId);
    if (mine == null) {
      mine = others.computeIfAbsent(deviceId, k -> new HashSet<>());
    }
    synchronized (mine) {
      if (mine.contains(metric)) {
        return true;
      }
      if (mine.size() < allowance) {
        mine.add(metric);
        return true;
      }
      return false;
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 400 ? s : s.substring(0, 400) + "...";
  }
}
