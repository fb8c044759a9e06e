package io.safegrid.rules.combination;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.rules.TransitionSink;
import io.safegrid.rules.config.DevicePlace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Watches the transitions of all devices and raises or clears {@link CombinationRule} alarms.
 * Thread-safe (one lock; it sees only transitions, which are rare) and shared by all shards.
 *
 * <p>The combined alarm is filed on one device of the pair: for fire and gas on the fire panel,
 * for two gas alarms on the one that came first (the ledger keeps one open alarm per device and
 * rule; this detector keeps at most one per rule and place).
 * Its evidence names the place and both devices.
 */
public final class CombinationDetector {

  private record Contribution(String deviceId, String ruleId, long timeMillis) {}

  private static final class Group {
    final Map<String, Contribution> open = new LinkedHashMap<>();
    String combinedDevice; // non-null while the combined alarm is open
  }

  private final List<CombinationRule> rules;
  private final Function<String, DevicePlace> places;
  private final TransitionSink out;
  private final Map<String, Group> groups = new HashMap<>();

  /**
   * @param rules the combination rules
   * @param places a device's place (never null; {@link DevicePlace#NOWHERE} when unknown)
   * @param out where combined transitions go
   */
  public CombinationDetector(List<CombinationRule> rules, Function<String, DevicePlace> places,
      TransitionSink out) {
    this.rules = List.copyOf(rules);
    this.places = Objects.requireNonNull(places);
    this.out = Objects.requireNonNull(out);
  }

  /** Whether a transition of this rule id can matter here (cheap, lock-free). */
  public boolean interestedIn(String ruleId) {
    for (CombinationRule r : rules) {
      if (r.involves(ruleId)) {
        return true;
      }
    }
    return false;
  }

  /** Feeds one transition of any device (combined ones are ignored). */
  public synchronized void onTransition(AlarmTransition t) {
    for (CombinationRule r : rules) {
      if (!r.involves(t.ruleId())) {
        continue;
      }
      String key = places.apply(t.deviceId()).key(r.scope());
      if (key == null) {
        continue;
      }
      String gk = r.ruleId() + "@" + key;
      Group g = groups.computeIfAbsent(gk, k -> new Group());
      String ck = t.deviceId() + "|" + t.ruleId();
      if (t.kind() == Kind.RAISE) {
        Contribution c = new Contribution(t.deviceId(), t.ruleId(), t.timeMillis());
        g.open.put(ck, c);
        if (g.combinedDevice == null) {
          Contribution other = partner(r, g, c, true);
          if (other != null) {
            Contribution anchor = anchor(r, c, other);
            Contribution partner = anchor == other ? c : other;
            g.combinedDevice = anchor.deviceId();
            out.accept(transition(r, key, Kind.RAISE, anchor, partner, t.timeMillis()));
          }
        }
      } else if (t.kind() == Kind.CLEAR) {
        g.open.remove(ck);
        if (g.combinedDevice != null && !anyPair(r, g)) {
          Contribution gone = new Contribution(t.deviceId(), t.ruleId(), t.timeMillis());
          String dev = g.combinedDevice;
          g.combinedDevice = null;
          out.accept(transition(r, key, Kind.CLEAR,
              new Contribution(dev, r.ruleId(), t.timeMillis()), gone, t.timeMillis()));
        }
      }
      if (g.open.isEmpty() && g.combinedDevice == null) {
        groups.remove(gk);
      }
    }
  }

  /**
   * Restart: an alarm open in the ledger. Contributing alarms are remembered (no transition);
   * an open combined alarm (rule id of a combination) is marked open for its device's place.
   */
  public synchronized void restoreOpen(String deviceId, String ruleId, long sinceMillis) {
    for (CombinationRule r : rules) {
      boolean combined = r.ruleId().equals(ruleId);
      if (!combined && !r.involves(ruleId)) {
        continue;
      }
      String key = places.apply(deviceId).key(r.scope());
      if (key == null) {
        continue;
      }
      Group g = groups.computeIfAbsent(r.ruleId() + "@" + key, k -> new Group());
      if (combined) {
        g.combinedDevice = deviceId;
      } else {
        g.open.put(deviceId + "|" + ruleId, new Contribution(deviceId, ruleId, sinceMillis));
      }
    }
  }

  /** Number of combined alarms open now. */
  public synchronized int openCombined() {
    int n = 0;
    for (Group g : groups.values()) {
      if (g.combinedDevice != null) {
        n++;
      }
    }
    return n;
  }

  /**
   * The device the combined alarm is filed on: for two sides of different rules (fire and gas) the
   * one of the first side (the fire panel, so fire responders are routed); for a pair of like
   * alarms the earlier one.
   */
  private static Contribution anchor(CombinationRule r, Contribution c, Contribution other) {
    if (!r.first().equals(r.second())) {
      return r.first().contains(c.ruleId()) ? c : other;
    }
    return other.timeMillis() <= c.timeMillis() ? other : c;
  }

  private static Contribution partner(CombinationRule r, Group g, Contribution c, boolean inWindow) {
    boolean cFirst = r.first().contains(c.ruleId());
    boolean cSecond = r.second().contains(c.ruleId());
    Contribution best = null;
    for (Contribution o : g.open.values()) {
      if (o.deviceId().equals(c.deviceId())) {
        continue;
      }
      boolean pairs = (cFirst && r.second().contains(o.ruleId()))
          || (cSecond && r.first().contains(o.ruleId()));
      if (!pairs) {
        continue;
      }
      if (inWindow && Math.abs(o.timeMillis() - c.timeMillis()) > r.windowMillis()) {
        continue;
      }
      if (best == null || o.timeMillis() < best.timeMillis()) {
        best = o;
      }
    }
    return best;
  }

  private static boolean anyPair(CombinationRule r, Group g) {
    for (Contribution c : g.open.values()) {
      if (partner(r, g, c, false) != null) {
        return true;
      }
    }
    return false;
  }

  private AlarmTransition transition(CombinationRule r, String key, Kind kind, Contribution a,
      Contribution b, long timeMillis) {
    Map<String, Object> ev = new LinkedHashMap<>();
    ev.put("place_level", r.scope().name().toLowerCase(java.util.Locale.ROOT));
    ev.put("place", key);
    ev.put("window_ms", r.windowMillis());
    List<String> devs = new ArrayList<>();
    if (kind == Kind.RAISE) {
      ev.put("first_device", a.deviceId());
      ev.put("first_rule", a.ruleId());
      ev.put("first_time_ms", a.timeMillis());
      ev.put("second_device", b.deviceId());
      ev.put("second_rule", b.ruleId());
      ev.put("second_time_ms", b.timeMillis());
      devs.add(a.deviceId());
      devs.add(b.deviceId());
    } else {
      ev.put("cleared_by_device", b.deviceId());
      ev.put("cleared_by_rule", b.ruleId());
    }
    String msg = kind == Kind.RAISE
        ? r.label() + " (" + key + "): " + String.join(", ", devs)
        : r.label() + " (" + key + "): no longer two open alarms";
    return new AlarmTransition(a.deviceId(), r.ruleId(), kind, r.severity(), timeMillis, msg, ev);
  }
}
